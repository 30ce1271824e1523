from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.evidence_views import download_url as evidence_download_url
from core.models import Region, Unit
from core.text import TEXT_LIMIT
from planning.models import Plan, Section, Task, TaskAssignment, TaskUpdate


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "name", "code", "level", "parent"]


class UnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "name", "kind", "region"]


class PlanSerializer(serializers.ModelSerializer):
    successor = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="下一期规划 id（由本规划编制，未编制为 null）"
    )

    class Meta:
        model = Plan
        fields = [
            "id", "code", "title", "kind", "status", "issuer", "doc_number", "issued_on",
            "start_year", "end_year", "region", "parent", "predecessor", "successor",
            "source_file", "source_text", "version", "archived_on",
        ]  # fmt: skip
        read_only_fields = ["version", "source_file", "predecessor", "archived_on"]


def reason_field() -> serializers.CharField:
    """修改原因 (write only): kept as the history record's reason; the service checks it (at
    most 100 characters, error code ``invalid`` on field ``reason``)."""
    return serializers.CharField(
        required=False, allow_blank=True, write_only=True, help_text="修改原因（不超过 100 字）"
    )


class PlanWriteSerializer(PlanSerializer):
    version = serializers.IntegerField(required=False, allow_null=True, help_text="乐观锁版本号")
    reason = reason_field()

    class Meta(PlanSerializer.Meta):
        fields = [*PlanSerializer.Meta.fields, "reason"]
        read_only_fields = ["source_file", "predecessor"]
        validators = []  # uniqueness and scope are the service's job (clear Chinese messages)


class SectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Section
        fields = [
            "id",
            "plan",
            "parent",
            "code",
            "number",
            "title",
            "kind",
            "order",
            "source_text",
            "version",
            "retired_on",
        ]
        read_only_fields = ["version", "retired_on"]


class SectionWriteSerializer(SectionSerializer):
    version = serializers.IntegerField(required=False, allow_null=True, help_text="乐观锁版本号")
    reason = reason_field()

    class Meta(SectionSerializer.Meta):
        fields = [*SectionSerializer.Meta.fields, "reason"]
        read_only_fields = []
        validators = []


class AssignmentSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True, help_text="单位名称")

    class Meta:
        model = TaskAssignment
        fields = ["unit", "unit_name", "role", "order"]


class TaskSerializer(serializers.ModelSerializer):
    assignments = AssignmentSerializer(many=True, read_only=True, help_text="责任单位（牵头/配合）")

    class Meta:
        model = Task
        fields = [
            "id", "plan", "section", "code", "number", "title", "description", "due_on",
            "status", "order", "source_text", "version", "assignments", "retired_on",
        ]  # fmt: skip
        read_only_fields = ["version", "retired_on"]


class TaskWriteSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(required=False, allow_null=True, help_text="乐观锁版本号")
    lead_units = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=Unit.objects.all(), help_text="牵头单位 id 列表"
    )
    support_units = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=Unit.objects.all(), help_text="配合单位 id 列表"
    )
    reason = reason_field()

    class Meta:
        model = Task
        fields = [
            "plan", "section", "code", "number", "title", "description", "due_on", "status",
            "order", "source_text", "version", "lead_units", "support_units", "reason",
        ]  # fmt: skip
        validators = []


class EvidenceLinkSerializer(serializers.Serializer):
    """An evidence file as a task update lists it (documents the dicts built below)."""

    id = serializers.IntegerField(help_text="佐证材料 id")
    name = serializers.CharField(help_text="原文件名")
    sha256 = serializers.CharField(help_text="SHA-256（十六进制）")
    download_url = serializers.CharField(help_text="下载地址（范围内可下载）")


class TaskUpdateSerializer(serializers.ModelSerializer):
    evidence = serializers.SerializerMethodField(help_text="佐证材料（文件名、SHA-256、下载地址）")

    class Meta:
        model = TaskUpdate
        fields = ["id", "task", "author", "created_at", "text", "percent", "evidence"]
        read_only_fields = fields

    @extend_schema_field(EvidenceLinkSerializer(many=True))
    def get_evidence(self, update) -> list[dict]:
        return [
            {
                "id": e.pk,
                "name": e.original_name,
                "sha256": e.sha256,
                "download_url": evidence_download_url(e),
            }
            for e in update.evidence.all()
        ]


class TaskUpdateWriteSerializer(serializers.Serializer):
    task = serializers.IntegerField(help_text="任务 id")
    text = serializers.CharField(max_length=TEXT_LIMIT, help_text="进展情况")
    percent = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=100, help_text="完成百分比 0–100"
    )
    evidence = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="佐证材料文件"
    )
