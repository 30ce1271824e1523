"""Response serializers of the reports actions (reports/api.py): they document the bodies
for the schema, field by field, as the views build them (issue 20: a generated client reads
what the schema says). Numbers computed as Decimal leave as JSON numbers
(COERCE_DECIMAL_TO_STRING is off), so they are declared as numbers."""

from rest_framework import serializers

from targets.choices import ProgressStatus


class StatusCountsSerializer(serializers.Serializer):
    """How many are in each status (every status is present, 0 when none)."""

    met = serializers.IntegerField(help_text=ProgressStatus.MET.label)
    on_track = serializers.IntegerField(help_text=ProgressStatus.ON_TRACK.label)
    lagging = serializers.IntegerField(help_text=ProgressStatus.LAGGING.label)
    critical = serializers.IntegerField(help_text=ProgressStatus.CRITICAL.label)
    unmet = serializers.IntegerField(help_text=ProgressStatus.UNMET.label)
    no_data = serializers.IntegerField(help_text=ProgressStatus.NO_DATA.label)
    not_due = serializers.IntegerField(help_text=ProgressStatus.NOT_DUE.label)


class StatusSummarySerializer(serializers.Serializer):
    """targets.rollups.Summary.as_dict()."""

    counts = StatusCountsSerializer(help_text="按状态计数")
    total = serializers.IntegerField(help_text="参与判断的条目数（已取消的任务不计）")
    share_on_track = serializers.FloatField(
        allow_null=True,
        help_text="已完成或正常者占可判断者（不含未填报、未到期）的比例 0–1；无可判断者时为 null",
    )
    binding_lagging = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="需督办的约束性滞后指标 id（任务汇总中恒为空）",
    )
    completeness = serializers.FloatField(
        allow_null=True,
        help_text="填报完整率：已到期的填报类指标中已有数据者的比例 0–1；无到期者时为 null",
    )


class PlanSummarySerializer(serializers.Serializer):
    on = serializers.DateField(help_text="判断日期")
    targets = StatusSummarySerializer(help_text="本规划的指标")
    tasks = StatusSummarySerializer(help_text="本规划的任务")


class RegionSummarySerializer(serializers.Serializer):
    on = serializers.DateField(help_text="判断日期")
    targets = StatusSummarySerializer(help_text="为本区划及下级设定的指标")
    tasks = StatusSummarySerializer(help_text="任务（区划汇总不含任务，恒为零）")
    allocations = StatusSummarySerializer(help_text="上级指标分解到本区划及下级的部分")


class IntegrityItemSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text="条目类型：target、milestone、allocation、base_figure、task"
    )
    code = serializers.CharField(help_text="条目代码")
    label = serializers.CharField(help_text="条目名称")
    source_text = serializers.CharField(help_text="规划原文依据（可为空串）")


class IntegrityFindingSerializer(serializers.Serializer):
    level = serializers.CharField(help_text="error 错误 / warning 提示")
    code = serializers.CharField(help_text="检查项代码")
    message = serializers.CharField(help_text="中文说明")
    items = IntegrityItemSerializer(many=True, help_text="涉及的条目及原文依据")
