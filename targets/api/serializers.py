"""Thin serializers (STYLE §6): one per model plus a brief one for nesting. Computed status
comes from the map the view built once (``context["progress"]``), never from a query here."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Notice
from core.api import TypedNumbers
from core.evidence_views import download_url as evidence_download_url
from core.text import TEXT_LIMIT
from planning.api.serializers import EvidenceLinkSerializer
from targets.choices import ProgressStatus
from targets.models import (
    Allocation,
    BaseFigure,
    FireStatistic,
    Milestone,
    ProgressReport,
    Target,
    TargetAdjustment,
)
from targets.status import TargetProgress

STATUS_FIELDS = {
    "target_value": "判断所用的目标值：判断日期生效的值（最近一次在该日或之前印发的指标调整，"
    "否则为规划原定值）；分解到下级时为分解值",
    "original_value": "规划原定的目标值（未经调整；分解到下级时为分解值）",
    "target_year": "判断日期生效的目标年度",
    "adjustment": "判断日期生效的指标调整（文号、印发日期）；未调整时为空",
    "actual": "实际值（按计量方式：增量累计或最新值）",
    "expected": "序时进度：截至当日应达到的值",
    "completion": "完成率（未封顶）",
    "completion_display": "完成率（显示用，封顶 0–1）",
    "status": "进度状态：met 已完成 / on_track 正常 / lagging 滞后 / critical 严重滞后 / "
    "unmet 未完成（规划期已结束）/ no_data 未填报 / not_due 未到期",
    "escalate": "约束性指标滞后，需督办",
    "projection": "按当前进度推算至目标年度末的值",
    "projection_meets": "推算值能否达到目标",
    "missing": "无法计算时缺少的数据",
    "missing_inputs": "公式缺少的基数和火灾统计（区划、年度、变量），在基础数据页面或接口录入",
    "is_demo": "是否使用了演示数据",
    "source": "实际值来源说明",
}


class MilestoneBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = [
            "id",
            "code",
            "due_on",
            "planned_value",
            "is_cumulative",
            "text",
            "region",
            "completed_on",
        ]


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = [
            "id", "plan", "target", "task", "code", "due_on", "planned_value", "is_cumulative",
            "text", "region", "completed_on", "order", "source_text", "version", "retired_on",
        ]  # fmt: skip
        read_only_fields = ["version", "retired_on"]


def reason_field() -> serializers.CharField:
    """修改原因: optional, kept in the history row (varchar(100), checked by the service too)."""
    return serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        write_only=True,
        help_text="修改原因（选填，最多 100 个字，记入修改记录）",
    )


class MilestoneWriteSerializer(TypedNumbers, MilestoneSerializer):
    version = serializers.IntegerField(required=False, allow_null=True, help_text="乐观锁版本号")
    reason = reason_field()

    class Meta(MilestoneSerializer.Meta):
        fields = [*MilestoneSerializer.Meta.fields, "reason"]
        read_only_fields = []
        validators = []

    def to_internal_value(self, data):
        # The planned value is in its target's unit (a % may follow it when that is the unit).
        target = data.get("target") if hasattr(data, "get") else None
        unit = ""
        if isinstance(target, int | str) and str(target).isdigit():
            unit = Target.objects.filter(pk=target).values_list("measure_unit", flat=True).first()
        elif self.instance is not None and self.instance.target_id:
            unit = self.instance.target.measure_unit
        self.fields["planned_value"].measure_unit = unit or ""
        return super().to_internal_value(data)


class AllocationSerializer(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name", read_only=True, help_text="区划名称")

    class Meta:
        model = Allocation
        fields = ["id", "target", "region", "region_name", "value", "source_text", "retired_on"]


class AdjustmentInForceSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="指标调整 id")
    doc_number = serializers.CharField(help_text="文号")
    adopted_on = serializers.DateField(help_text="印发日期")


class MissingInputSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="base_figure 基数 / fire_statistic 火灾统计")
    name = serializers.CharField(help_text="基数的公式变量名，或火灾统计的字段名")
    year = serializers.IntegerField(help_text="年度")
    region = serializers.IntegerField(help_text="区划编号")


class StatusSerializer(serializers.Serializer):
    """The status engine's verdict for a target at a date (documented for the schema)."""

    on = serializers.DateField(help_text="判断日期")
    target_value = serializers.DecimalField(
        max_digits=24, decimal_places=6, allow_null=True, help_text=STATUS_FIELDS["target_value"]
    )
    original_value = serializers.DecimalField(
        max_digits=24,
        decimal_places=6,
        allow_null=True,
        help_text=STATUS_FIELDS["original_value"],
    )
    target_year = serializers.IntegerField(allow_null=True, help_text=STATUS_FIELDS["target_year"])
    adjustment = AdjustmentInForceSerializer(allow_null=True, help_text=STATUS_FIELDS["adjustment"])
    actual = serializers.DecimalField(
        max_digits=24, decimal_places=6, allow_null=True, help_text=STATUS_FIELDS["actual"]
    )
    expected = serializers.DecimalField(
        max_digits=24, decimal_places=6, allow_null=True, help_text=STATUS_FIELDS["expected"]
    )
    completion = serializers.DecimalField(
        max_digits=24, decimal_places=6, allow_null=True, help_text=STATUS_FIELDS["completion"]
    )
    completion_display = serializers.DecimalField(
        max_digits=24,
        decimal_places=6,
        allow_null=True,
        help_text=STATUS_FIELDS["completion_display"],
    )
    status = serializers.CharField(help_text=STATUS_FIELDS["status"])
    status_label = serializers.CharField(help_text="进度状态（中文）")
    finished = serializers.BooleanField(
        help_text="规划期（及现行目标年度）已结束：按“已完成 / 未完成”判断，不再有序时进度和趋势"
    )
    verdict = serializers.CharField(
        help_text="判断的文字表述，如“未完成（差 5 个，完成 97.4%）”；规划实施中同 status_label"
    )
    escalate = serializers.BooleanField(help_text=STATUS_FIELDS["escalate"])
    projection = serializers.DecimalField(
        max_digits=24, decimal_places=6, allow_null=True, help_text=STATUS_FIELDS["projection"]
    )
    projection_meets = serializers.BooleanField(
        allow_null=True, help_text=STATUS_FIELDS["projection_meets"]
    )
    missing = serializers.ListField(
        child=serializers.CharField(), help_text=STATUS_FIELDS["missing"]
    )
    missing_inputs = MissingInputSerializer(many=True, help_text=STATUS_FIELDS["missing_inputs"])
    is_demo = serializers.BooleanField(help_text=STATUS_FIELDS["is_demo"])
    source = serializers.CharField(help_text=STATUS_FIELDS["source"])


class TargetSerializer(serializers.ModelSerializer):
    milestones = MilestoneBriefSerializer(many=True, read_only=True, help_text="年度目标/时间节点")
    progress = serializers.SerializerMethodField(
        help_text="状态引擎的判断（实际、序时、完成率、状态、趋势）；"
        "指标属于同级其他区划时为 null（只看本级及下级、上级区划的数据）"
    )

    class Meta:
        model = Target
        fields = [
            "id", "plan", "task", "section", "code", "name", "measure", "measure_unit",
            "comparator", "target_value", "target_year", "baseline_value", "baseline_year",
            "baseline_source", "predecessor", "attribute", "region", "formula", "feed", "order",
            "source_text", "parent_target", "version", "retired_on", "milestones", "progress",
        ]  # fmt: skip
        read_only_fields = ["version", "predecessor"]
        extra_kwargs = {
            "target_value": {
                "help_text": "规划原定的目标值（指标调整不改变它；判断日期生效的值见 "
                "progress.target_value，调整记录见 /targets/{id}/adjustments/）"
            }
        }

    @extend_schema_field(StatusSerializer(allow_null=True))
    def get_progress(self, target) -> StatusSerializer:
        progress: TargetProgress | None = self.context.get("progress", {}).get(target.pk)
        return StatusSerializer(progress.as_dict()).data if progress else None


class TargetWriteSerializer(TypedNumbers, serializers.ModelSerializer):
    version = serializers.IntegerField(required=False, allow_null=True, help_text="乐观锁版本号")
    reason = reason_field()

    class Meta:
        model = Target
        fields = [
            "plan", "task", "section", "code", "name", "measure", "measure_unit", "comparator",
            "target_value", "target_year", "baseline_value", "baseline_year", "baseline_source",
            "attribute", "region", "formula", "feed", "order", "source_text", "parent_target",
            "version", "reason",
        ]  # fmt: skip
        validators = []

    def to_internal_value(self, data):
        # The values are in the target's unit: the one sent, else the saved one (as on the form).
        unit = self.instance.measure_unit if self.instance is not None else ""
        if hasattr(data, "get") and data.get("measure_unit") is not None:
            unit = str(data.get("measure_unit")).strip()
        for name in ("target_value", "baseline_value"):
            self.fields[name].measure_unit = unit
        return super().to_internal_value(data)


class ReportEvidenceSerializer(EvidenceLinkSerializer):
    size_bytes = serializers.IntegerField(help_text="文件大小（字节）")


class TargetAdjustmentSerializer(serializers.ModelSerializer):
    """A recorded target adjustment (指标调整); never edited or deleted."""

    actor_name = serializers.SerializerMethodField(help_text="登记人")

    class Meta:
        model = TargetAdjustment
        fields = [
            "id", "target", "old_value", "new_value", "old_year", "new_year", "doc_number",
            "adopted_on", "reason", "actor", "actor_name", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_actor_name(self, adjustment) -> str:
        user = adjustment.actor
        return (user.get_full_name() or user.username) if user else ""


class TargetAdjustmentWriteSerializer(serializers.Serializer):
    """A new adjustment: the value (and year) in force from ``adopted_on`` on. The target's
    ETag goes in If-Match (or its version in ``version``)."""

    new_value = serializers.DecimalField(
        max_digits=18, decimal_places=4, min_value=0, help_text="调整后的目标值"
    )
    new_year = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1949,
        max_value=2100,
        help_text="调整后的目标年度（不填则沿用现行年度）",
    )
    doc_number = serializers.CharField(max_length=128, help_text="调整文件的文号（必填）")
    adopted_on = serializers.DateField(help_text="调整文件的印发日期，自该日起生效")
    reason = serializers.CharField(max_length=TEXT_LIMIT, help_text="调整理由（必填）")
    version = serializers.IntegerField(
        required=False, allow_null=True, help_text="目标指标的乐观锁版本号（或用 If-Match）"
    )


class ProgressReportSerializer(serializers.ModelSerializer):
    evidence = serializers.SerializerMethodField(help_text="佐证材料（文件名、SHA-256、下载地址）")

    class Meta:
        model = ProgressReport
        fields = [
            "id", "target", "region", "period", "value", "note", "confirm_note", "status",
            "submitted_by", "submitted_at", "reviewed_by", "reviewed_at", "return_reason",
            "is_demo", "version", "evidence", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(ReportEvidenceSerializer(many=True))
    def get_evidence(self, report) -> list[dict]:
        return [
            {
                "id": e.pk,
                "name": e.original_name,
                "sha256": e.sha256,
                "size_bytes": e.size_bytes,
                "download_url": evidence_download_url(e),
            }
            for e in report.evidence.all()
        ]


class ProgressReportWriteSerializer(serializers.Serializer):
    target = serializers.IntegerField(help_text="目标指标 id")
    region = serializers.IntegerField(help_text="区划 id")
    period = serializers.CharField(max_length=16, help_text="填报期间，如 2022、2022H1、2022Q3")
    value = serializers.CharField(
        max_length=40, allow_blank=True, allow_null=True, required=False,
        help_text="数值；可为数字或文本形式的数字",
    )  # fmt: skip
    note = serializers.CharField(
        allow_blank=True, required=False, max_length=TEXT_LIMIT, help_text="说明"
    )
    confirm_note = serializers.CharField(
        allow_blank=True, required=False, max_length=2000, help_text="异常值说明（需确认时填写）"
    )
    submit = serializers.BooleanField(required=False, default=False, help_text="保存后直接提交审核")
    version = serializers.IntegerField(required=False, allow_null=True, help_text="乐观锁版本号")


class ReportUpdateSerializer(serializers.Serializer):
    value = serializers.CharField(
        max_length=40, allow_blank=True, allow_null=True, required=False, help_text="数值"
    )
    note = serializers.CharField(
        allow_blank=True, required=False, max_length=TEXT_LIMIT, help_text="说明"
    )
    confirm_note = serializers.CharField(
        allow_blank=True, required=False, max_length=2000, help_text="异常值说明"
    )
    version = serializers.IntegerField(
        required=False, allow_null=True, help_text="乐观锁版本号（或用 If-Match）"
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="理由（退回、重新打开时必填）")
    version = serializers.IntegerField(required=False, allow_null=True, help_text="乐观锁版本号")


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, allow_null=True, help_text="乐观锁版本号")


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="佐证材料文件（PDF、图片、Word、Excel 等）")


class SeriesPointSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="期间（年度）")
    plan = serializers.IntegerField(help_text="该年度所属规划 id（上期规划的年度在前）")
    planned = serializers.FloatField(allow_null=True, help_text="计划值：该年末应达到的值")
    actual = serializers.FloatField(
        allow_null=True, help_text="实际值（该年末，当年截至判断日期；未到的年度为 null）"
    )


class SeriesProjectionSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="目标年度")
    value = serializers.FloatField(allow_null=True, help_text=STATUS_FIELDS["projection"])
    meets = serializers.BooleanField(allow_null=True, help_text=STATUS_FIELDS["projection_meets"])


class SeriesRegionSerializer(serializers.Serializer):
    region = serializers.IntegerField(help_text="区划 id")
    region_name = serializers.CharField(help_text="区划名称")
    allocated = serializers.FloatField(allow_null=True, help_text="分解到该区划的目标值")
    actual = serializers.FloatField(allow_null=True, help_text="该区划的实际值")
    status = serializers.ChoiceField(
        choices=ProgressStatus.choices, help_text=STATUS_FIELDS["status"]
    )


class SeriesPredecessorSerializer(serializers.Serializer):
    target = serializers.IntegerField(help_text="上期指标 id")
    plan = serializers.IntegerField(help_text="上期规划 id")
    plan_title = serializers.CharField(help_text="上期规划标题")


class TargetSeriesSerializer(serializers.Serializer):
    """targets.series.target_series(): the target page's chart data."""

    target = serializers.IntegerField(help_text="指标 id")
    on = serializers.DateField(help_text="判断日期")
    unit = serializers.CharField(help_text="计量单位")
    target_value = serializers.FloatField(allow_null=True, help_text="现行目标值（含指标调整）")
    original_value = serializers.FloatField(allow_null=True, help_text="规划原目标值")
    doc_number = serializers.CharField(
        allow_null=True, help_text="现行目标值所依据的调整文号（未调整时为空）"
    )
    target_year = serializers.IntegerField(help_text="现行目标年度（未写明时为规划末年）")
    status = serializers.ChoiceField(
        choices=ProgressStatus.choices,
        allow_null=True,
        help_text=STATUS_FIELDS["status"] + "（无权查看该区划数据时为 null）",
    )
    is_demo = serializers.BooleanField(help_text=STATUS_FIELDS["is_demo"])
    figures_hidden = serializers.BooleanField(
        help_text="指标属于同级其他区划：只显示计划，不显示实际值、趋势和状态"
    )
    points = SeriesPointSerializer(
        many=True, help_text="逐年计划值与实际值（有上期指标时，先列上期规划各年度的实际值）"
    )
    predecessor = SeriesPredecessorSerializer(
        allow_null=True, help_text="上期规划中的同一指标（由“编制下一期规划”关联），无则为 null"
    )
    projection = SeriesProjectionSerializer(help_text="按当前进度推算至目标年度")
    regions = SeriesRegionSerializer(
        many=True,
        help_text="分解到各地时，各地的目标与实际（只含本级及下级、上级区划；不含同级其他区划）",
    )


class FireStatisticSerializer(serializers.ModelSerializer):
    class Meta:
        model = FireStatistic
        fields = [
            "id",
            "region",
            "year",
            "fires",
            "deaths",
            "injuries",
            "direct_loss_10k_yuan",
            "plan",
            "source_text",
            "version",
        ]
        read_only_fields = fields


class BaseFigureSerializer(serializers.ModelSerializer):
    class Meta:
        model = BaseFigure
        fields = [
            "id",
            "region",
            "year",
            "name",
            "key",
            "value",
            "measure_unit",
            "plan",
            "source_text",
            "version",
        ]
        read_only_fields = fields


def _typed_number(help_text: str) -> serializers.CharField:
    """A figure as people type it (a JSON number or text such as "1,200"):
    targets.bases parses it and says what is wrong."""
    return serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=40, help_text=help_text
    )


class _BaseWriteSerializer(serializers.Serializer):
    """Region and year name the row when it is created and cannot change afterwards."""

    fixed = ("region", "year")

    region = serializers.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, help_text="区划编号（新建时必填）"
    )
    year = serializers.IntegerField(
        required=False, min_value=1949, max_value=2100, help_text="年度（新建时必填）"
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="理由（修改已录入的数值时必填，记入修改记录）",
    )
    version = serializers.IntegerField(required=False, allow_null=True, help_text="乐观锁版本号")

    def validate(self, attrs):
        errors = {}
        for name in self.fixed:
            if self.instance is None and attrs.get(name) in (None, ""):
                errors[name] = ["新建时必填"]
            elif self.instance is not None and name in attrs:
                current = getattr(self.instance, "region_id" if name == "region" else name)
                if attrs.pop(name) != current:
                    errors[name] = ["不能修改；如需其他区划、年度或变量，请新建"]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class FireStatisticWriteSerializer(_BaseWriteSerializer):
    fires = _typed_number("火灾起数")
    deaths = _typed_number("死亡人数")
    injuries = _typed_number("受伤人数")
    direct_loss_10k_yuan = _typed_number("直接财产损失（万元）")


class BaseFigureWriteSerializer(_BaseWriteSerializer):
    fixed = ("region", "year", "key")

    key = serializers.CharField(
        required=False,
        max_length=64,
        help_text="公式变量名（新建时必填），如 population 或 城镇非私营单位在岗职工平均工资",
    )
    name = serializers.CharField(
        required=False, max_length=128, help_text="名称（新建时可选，默认按变量名）"
    )
    value = _typed_number("数值")


class NoticeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notice
        fields = ["id", "level", "text", "url", "created_at", "read_at"]
        read_only_fields = fields


class CascadeTargetSerializer(serializers.Serializer):
    """A target above or below in the cascade (指标分解), judged by the status engine."""

    id = serializers.IntegerField(help_text="指标 id")
    code = serializers.CharField(help_text="指标编码")
    name = serializers.CharField(help_text="指标名称")
    plan = serializers.IntegerField(help_text="规划 id")
    region = serializers.IntegerField(help_text="区划 id")
    region_name = serializers.CharField(help_text="区划名称")
    target_value = serializers.DecimalField(
        max_digits=24, decimal_places=6, allow_null=True, help_text="目标值"
    )
    actual = serializers.DecimalField(
        max_digits=24, decimal_places=6, allow_null=True, help_text=STATUS_FIELDS["actual"]
    )
    status = serializers.ChoiceField(
        choices=ProgressStatus.choices, help_text=STATUS_FIELDS["status"]
    )


class CascadeLevelSerializer(serializers.Serializer):
    """One node of the split: the target itself (depth 0) or an allocation."""

    region = serializers.IntegerField(help_text="区划 id")
    region_name = serializers.CharField(help_text="区划名称")
    whole_region = serializers.IntegerField(
        allow_null=True, help_text="上一级（被分解者）的区划 id；目标本身为 null"
    )
    depth = serializers.IntegerField(help_text="层级：0 为目标本身，1 为第一级分解……")
    value = serializers.DecimalField(
        max_digits=24, decimal_places=6, allow_null=True, help_text="目标值或分解值"
    )
    parts_total = serializers.DecimalField(
        max_digits=24,
        decimal_places=6,
        allow_null=True,
        help_text="下一级分解值合计（未再分解为 null）",
    )
    adds_up = serializers.BooleanField(
        allow_null=True, help_text="下一级合计是否等于本级的值（无从比较时为 null）"
    )
    actual = serializers.DecimalField(
        max_digits=24, decimal_places=6, allow_null=True, help_text=STATUS_FIELDS["actual"]
    )
    status = serializers.ChoiceField(
        choices=ProgressStatus.choices, help_text=STATUS_FIELDS["status"]
    )


class TargetCascadeSerializer(serializers.Serializer):
    """targets.allocations.cascade_tree with the engine's figures: the target's place in the
    cascade (指标分解)."""

    target = serializers.IntegerField(help_text="指标 id")
    on = serializers.DateField(help_text="判断日期")
    parent = CascadeTargetSerializer(allow_null=True, help_text="本指标落实的上级指标")
    children = CascadeTargetSerializer(many=True, help_text="落实本指标的下级指标")
    levels = CascadeLevelSerializer(many=True, help_text="分解树，深度优先：目标本身在前")
