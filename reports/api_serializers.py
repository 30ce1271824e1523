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


class LightCountsSerializer(serializers.Serializer):
    """The five lights of the overview and 未完成 (a finished plan; 未到期 is not drawn)."""

    met = serializers.IntegerField(help_text=ProgressStatus.MET.label)
    on_track = serializers.IntegerField(help_text=ProgressStatus.ON_TRACK.label)
    lagging = serializers.IntegerField(help_text=ProgressStatus.LAGGING.label)
    critical = serializers.IntegerField(help_text=ProgressStatus.CRITICAL.label)
    no_data = serializers.IntegerField(help_text=ProgressStatus.NO_DATA.label)
    unmet = serializers.IntegerField(help_text=ProgressStatus.UNMET.label)


class PlanLightsSerializer(serializers.Serializer):
    plan = serializers.IntegerField(help_text="规划 id")
    title = serializers.CharField(help_text="规划名称")
    counts = LightCountsSerializer(help_text="指标按状态计数")


class RegionPaceSerializer(serializers.Serializer):
    region = serializers.IntegerField(help_text="区划 id")
    region_name = serializers.CharField(help_text="区划名称")
    completion = serializers.FloatField(
        allow_null=True, help_text="指标平均完成率（%，0–100）；无可判断者时为 null"
    )
    pace = serializers.FloatField(allow_null=True, help_text="平均序时进度（%，0–100）")
    gap = serializers.FloatField(allow_null=True, help_text="完成率减序时进度（百分点）")
    binding_lagging = serializers.IntegerField(help_text="滞后或严重滞后的约束性指标数")
    items = serializers.IntegerField(help_text="参与计算的指标及分解数")


class BindingYearSerializer(serializers.Serializer):
    year = serializers.IntegerField(help_text="年度（当年按判断日期）")
    completion = serializers.FloatField(allow_null=True, help_text="完成率（%）")
    actual = serializers.FloatField(allow_null=True, help_text="实际值")


class BindingSeriesSerializer(serializers.Serializer):
    target = serializers.IntegerField(help_text="指标 id")
    name = serializers.CharField(help_text="指标名称")
    unit = serializers.CharField(help_text="计量单位")
    region_name = serializers.CharField(help_text="区划名称")
    target_value = serializers.FloatField(allow_null=True, help_text="现行目标值")
    completion = serializers.FloatField(allow_null=True, help_text="判断日期的完成率（%）")
    status = serializers.CharField(help_text="判断日期的状态")
    points = BindingYearSerializer(many=True, help_text="逐年完成率")


class RegionReportingSerializer(serializers.Serializer):
    region = serializers.IntegerField(help_text="区划 id")
    region_name = serializers.CharField(help_text="区划名称")
    owed = serializers.IntegerField(help_text="应报数（已开始的期间）")
    on_time = serializers.IntegerField(help_text="按时报送数")
    late = serializers.IntegerField(help_text="逾期报送数")
    on_time_rate = serializers.FloatField(
        allow_null=True, help_text="按时率（%）：按时 ÷（按时 + 逾期）；尚无报送时为 null"
    )


class ChangeItemSerializer(serializers.Serializer):
    when = serializers.CharField(help_text="时间（审核、退回）或印发日期（调整）")
    kind = serializers.CharField(help_text="approved 审核通过 / returned 退回 / adjusted 指标调整")
    target = serializers.IntegerField(help_text="指标 id")
    label = serializers.CharField(help_text="说明")


class ChangesSerializer(serializers.Serializer):
    since = serializers.DateField(help_text="起始日期")
    approved = serializers.IntegerField(help_text="审核通过的填报数")
    returned = serializers.IntegerField(help_text="退回的填报数")
    adjusted = serializers.IntegerField(help_text="印发的指标调整数")
    items = ChangeItemSerializer(many=True, help_text="最近的变化（至多 12 条）")


class LaggingTargetSerializer(serializers.Serializer):
    target = serializers.IntegerField(help_text="指标 id")
    name = serializers.CharField(help_text="指标名称")
    region_name = serializers.CharField(help_text="区划名称")
    unit = serializers.CharField(help_text="计量单位")
    status = serializers.CharField(help_text="lagging 滞后 / critical 严重滞后 / unmet 未完成")
    status_label = serializers.CharField(help_text="状态（中文）")
    actual = serializers.FloatField(allow_null=True, help_text="实际值")
    expected = serializers.FloatField(allow_null=True, help_text="序时进度应达值")
    target_value = serializers.FloatField(allow_null=True, help_text="现行目标值")
    completion = serializers.FloatField(allow_null=True, help_text="完成率（%）")


class ChartsSerializer(serializers.Serializer):
    """reports.charts.chart_data(): the numbers every dashboard chart draws."""

    on = serializers.DateField(help_text="判断日期")
    since = serializers.DateField(help_text="「本月变化」的起始日期")
    region = serializers.IntegerField(allow_null=True, help_text="区划 id（总览、规划为 null）")
    plans = PlanLightsSerializer(many=True, help_text="各规划指标状态（堆叠柱状图）")
    regions = RegionPaceSerializer(
        many=True, help_text="区划完成率与序时进度，最滞后者在前（区划页为其下级区划）"
    )
    binding_series = BindingSeriesSerializer(
        many=True, help_text="约束性指标逐年完成率（完成率最低的 10 项）"
    )
    reporting = RegionReportingSerializer(many=True, help_text="各区划按时报送率，最低者在前")
    changes = ChangesSerializer(help_text="自起始日期以来的审核、退回、调整")
    lagging = LaggingTargetSerializer(many=True, help_text="最滞后的 5 项约束性指标")
