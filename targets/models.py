"""Quantified targets, their milestones and allocations, and the figures reported against them."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.choices import Attribute
from core.models import YEAR_VALIDATORS, Evidence, Region, decimal_field, non_negative
from core.periods import PERIOD_PATTERN
from core.querysets import ScopedQuerySet
from planning.models import Plan, Section, Task
from targets.choices import Comparator, EvaluationKind, Feed, Measure, ReportStatus
from targets.formulas import VARIABLE_PATTERN


class Target(models.Model):
    plan = models.ForeignKey(
        Plan, verbose_name=_("规划"), on_delete=models.CASCADE, related_name="targets"
    )
    task = models.ForeignKey(
        Task,
        verbose_name=_("所属任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="targets",
    )
    section = models.ForeignKey(
        Section,
        verbose_name=_("所在章节"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="targets",
    )
    code = models.CharField(_("编码"), max_length=48)
    name = models.CharField(_("指标名称"), max_length=255)
    measure = models.CharField(_("计量方式"), max_length=16, choices=Measure.choices)
    # DESIGN calls this `unit`; renamed so it is never confused with a responsible Unit.
    measure_unit = models.CharField(_("计量单位"), max_length=32, blank=True)
    comparator = models.CharField(
        _("比较方式"), max_length=16, choices=Comparator.choices, default=Comparator.GTE
    )
    target_value = decimal_field(_("目标值"))
    target_year = models.PositiveSmallIntegerField(
        _("目标年度"), null=True, blank=True, validators=YEAR_VALIDATORS
    )
    baseline_value = decimal_field(_("基期值"))
    baseline_year = models.PositiveSmallIntegerField(
        _("基期年度"), null=True, blank=True, validators=YEAR_VALIDATORS
    )
    baseline_source = models.CharField(
        _("基期值来源"), max_length=128, blank=True, help_text=_("如：上期规划实际值（2025年）")
    )
    # The same target in the previous period's plan (its figures continue this one's series).
    predecessor = models.OneToOneField(
        "self",
        verbose_name=_("上期指标"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="successor",
    )
    attribute = models.CharField(
        _("指标属性"), max_length=16, choices=Attribute.choices, blank=True
    )
    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="targets"
    )
    formula = models.CharField(
        _("计算公式"),
        max_length=255,
        blank=True,
        help_text=_("派生指标的公式，如 avg(deaths / population * 100000)"),
    )
    feed = models.CharField(
        _("数据来源"),
        max_length=24,
        choices=Feed.choices,
        default=Feed.REPORTS,
        help_text=_("实际值来自填报、按公式计算，或按消防站台账计数"),
    )
    order = models.PositiveIntegerField(_("顺序"), default=0)
    source_text = models.TextField(_("原文依据"), blank=True)
    # 指标分解 (issue 17): the higher-level target this one implements (南阳's 新建消防站 under
    # 河南省's); its allocations then continue the tree below this target's region.
    parent_target = models.ForeignKey(
        "self",
        verbose_name=_("上级指标"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="child_targets",
        help_text=_("本指标所落实的上级规划指标"),
    )
    # 停用: kept with its history and figures, hidden from reporting, shown struck through
    # (planning.services.retire_object); who and why are in its history row.
    retired_on = models.DateField(_("停用日期"), null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("目标指标")
        verbose_name_plural = _("目标指标")
        ordering = ["plan", "order"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="target_unique_code_in_plan"),
            non_negative("target_value", "target_value_non_negative"),
            non_negative("baseline_value", "target_baseline_non_negative"),
            models.CheckConstraint(
                condition=~Q(parent_target=models.F("pk")), name="target_not_own_parent"
            ),
        ]
        indexes = [models.Index(fields=["plan", "task"], name="target_plan_task_idx")]

    def __str__(self) -> str:
        return self.name


class TargetEvaluationNote(models.Model):
    """Why a target was not met, as staff write it for an evaluation (未完成原因)."""

    target = models.ForeignKey(
        Target,
        verbose_name=_("目标指标"),
        on_delete=models.CASCADE,
        related_name="evaluation_notes",
    )
    kind = models.CharField(_("评估类型"), max_length=8, choices=EvaluationKind.choices)
    reason = models.TextField(_("未完成原因"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填写人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("未完成原因")
        verbose_name_plural = _("未完成原因")
        ordering = ["target", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["target", "kind"], name="evaluation_note_unique_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.target} · {self.get_kind_display()}"


class Milestone(models.Model):
    """A dated step of a target (with a planned value) or of a task (qualitative)."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("规划"), on_delete=models.CASCADE, related_name="milestones"
    )
    target = models.ForeignKey(
        Target,
        verbose_name=_("目标指标"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="milestones",
    )
    task = models.ForeignKey(
        Task,
        verbose_name=_("任务"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="milestones",
    )
    code = models.CharField(_("编码"), max_length=64)
    due_on = models.DateField(_("完成时限"))
    planned_value = decimal_field(_("计划值"))
    is_cumulative = models.BooleanField(
        _("累计值"), default=False, help_text=_("计划值是截至该日的累计数，而非当期新增")
    )
    text = models.TextField(_("节点内容"), blank=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="milestones",
    )
    completed_on = models.DateField(
        _("完成日期"), null=True, blank=True, help_text=_("定性节点完成时填写")
    )
    order = models.PositiveIntegerField(_("顺序"), default=0)
    source_text = models.TextField(_("原文依据"), blank=True)
    # 停用: kept with its history and figures, hidden from reporting, shown struck through
    # (planning.services.retire_object); who and why are in its history row.
    retired_on = models.DateField(_("停用日期"), null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("时间节点")
        verbose_name_plural = _("时间节点")
        ordering = ["plan", "due_on", "order"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="milestone_unique_code_in_plan"),
            models.CheckConstraint(
                condition=Q(target__isnull=False, task__isnull=True)
                | Q(target__isnull=True, task__isnull=False),
                name="milestone_belongs_to_target_or_task",
            ),
            non_negative("planned_value", "milestone_planned_value_non_negative"),
        ]
        indexes = [models.Index(fields=["target", "due_on"], name="milestone_target_due_idx")]

    def __str__(self) -> str:
        return f"{self.due_on:%Y-%m-%d} {self.text or self.planned_value or ''}".strip()

    def clean(self) -> None:
        if bool(self.target_id) == bool(self.task_id):
            raise ValidationError(_("时间节点必须且只能属于一个目标指标或一个任务"))


class Allocation(models.Model):
    """A region's share of a target (目标分解)."""

    target = models.ForeignKey(
        Target, verbose_name=_("目标指标"), on_delete=models.CASCADE, related_name="allocations"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="allocations"
    )
    value = decimal_field(_("分解值"), null=False, blank=False)
    source_text = models.TextField(_("原文依据"), blank=True)
    # 停用: kept with its history and figures, hidden from reporting, shown struck through
    # (planning.services.retire_object); who and why are in its history row.
    retired_on = models.DateField(_("停用日期"), null=True, blank=True, editable=False)

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("目标分解")
        verbose_name_plural = _("目标分解")
        ordering = ["target", "region__name"]
        constraints = [
            models.UniqueConstraint(fields=["target", "region"], name="allocation_unique_region"),
            non_negative("value", "allocation_value_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.target} · {self.region}: {self.value}"


class ProgressReport(models.Model):
    """A figure reported for a target, a region and a period (填报)."""

    target = models.ForeignKey(
        Target, verbose_name=_("目标指标"), on_delete=models.PROTECT, related_name="reports"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="reports"
    )
    period = models.CharField(
        _("填报期间"),
        max_length=6,
        validators=[RegexValidator(PERIOD_PATTERN, _("期间格式应为 2022、2022H1 或 2022Q3"))],
    )
    value = decimal_field(_("填报值"))
    note = models.TextField(_("说明"), blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submitted_reports",
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviewed_reports",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    return_reason = models.TextField(_("退回理由"), blank=True)
    confirm_note = models.TextField(
        _("异常值说明"), blank=True, help_text=_("数值与上期差异较大或远超目标时，填报人的确认说明")
    )
    evidence = models.ManyToManyField(
        Evidence, verbose_name=_("佐证材料"), blank=True, related_name="reports"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    is_demo = models.BooleanField(
        _("演示数据"), default=False, help_text=_("由 seed_demo 生成的演示数据，不是真实进度")
    )
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("进度填报")
        verbose_name_plural = _("进度填报")
        ordering = ["target", "region", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "region", "period"], name="report_unique_target_region_period"
            ),
            models.CheckConstraint(
                condition=Q(period__regex=PERIOD_PATTERN), name="report_period_well_formed"
            ),
            non_negative("value", "report_value_non_negative"),
        ]
        indexes = [
            models.Index(fields=["region", "period", "status"], name="report_region_period_idx"),
            models.Index(fields=["status", "submitted_at"], name="report_status_submitted_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.target} · {self.region} · {self.period}"


class FireStatistic(models.Model):
    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="fire_statistics"
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    fires = models.PositiveIntegerField(_("火灾起数"), null=True, blank=True)
    deaths = models.PositiveIntegerField(_("死亡人数"), null=True, blank=True)
    injuries = models.PositiveIntegerField(_("受伤人数"), null=True, blank=True)
    direct_loss_10k_yuan = decimal_field(_("直接财产损失（万元）"))
    plan = models.ForeignKey(
        Plan,
        verbose_name=_("来源规划"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="fire_statistics",
    )
    source_text = models.TextField(_("原文依据"), blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("火灾统计")
        verbose_name_plural = _("火灾统计")
        ordering = ["region", "year"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="fire_statistic_unique_year"),
            non_negative("direct_loss_10k_yuan", "fire_statistic_loss_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year}"


class BaseFigure(models.Model):
    """A stated count or level with its year (population, stations, firefighters …)."""

    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="base_figures"
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    name = models.CharField(_("名称"), max_length=128)
    # A formula's variable name: ASCII or Chinese (targets.formulas.VARIABLE_PATTERN).
    key = models.CharField(
        _("公式变量名"),
        max_length=64,
        blank=True,
        db_index=True,
        validators=[
            RegexValidator(
                VARIABLE_PATTERN,
                _("公式变量名只能由英文字母、数字、下划线或汉字组成，且不以数字开头"),
            )
        ],
        help_text=_(
            "在指标公式中引用的名称，如 population（常住人口）或 城镇非私营单位在岗职工平均工资"
        ),
    )
    value = decimal_field(_("数值"), null=False, blank=False)
    measure_unit = models.CharField(_("计量单位"), max_length=32, blank=True)
    plan = models.ForeignKey(
        Plan,
        verbose_name=_("来源规划"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="base_figures",
    )
    source_text = models.TextField(_("原文依据"), blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("基数")
        verbose_name_plural = _("基数")
        ordering = ["region", "name", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "year", "name"], name="base_figure_unique_name_year"
            ),
            non_negative("value", "base_figure_value_non_negative"),
        ]
        indexes = [models.Index(fields=["key", "region", "year"], name="base_figure_key_idx")]

    def __str__(self) -> str:
        return f"{self.region} {self.year} {self.name}"


class ReportingPeriod(models.Model):
    """A period open for reporting on a plan: figures are due by ``due_on`` and the period
    locks after ``locks_on`` (staff can grant exceptions)."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("规划"), on_delete=models.CASCADE, related_name="reporting_periods"
    )
    period = models.CharField(
        _("填报期间"),
        max_length=6,
        validators=[RegexValidator(PERIOD_PATTERN, _("期间格式应为 2022、2022H1 或 2022Q3"))],
    )
    due_on = models.DateField(_("报送截止日期"))
    locks_on = models.DateField(_("锁定日期"), help_text=_("此日之后不再接受填报，除非另行开放"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("设置人"), null=True, on_delete=models.SET_NULL
    )

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("填报期间")
        verbose_name_plural = _("填报期间")
        ordering = ["plan", "period"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "period"], name="reporting_period_unique"),
            models.CheckConstraint(
                condition=Q(period__regex=PERIOD_PATTERN), name="reporting_period_well_formed"
            ),
            models.CheckConstraint(
                condition=Q(due_on__lte=models.F("locks_on")), name="reporting_period_due_first"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} {self.period}"


class LockException(models.Model):
    """Re-opens a locked period for one region (and optionally one unit) until a date."""

    reporting_period = models.ForeignKey(
        ReportingPeriod,
        verbose_name=_("填报期间"),
        on_delete=models.CASCADE,
        related_name="exceptions",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.CASCADE, related_name="lock_exceptions"
    )
    until = models.DateField(_("开放至"))
    reason = models.CharField(_("理由"), max_length=255)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("批准人"), null=True, on_delete=models.SET_NULL
    )
    granted_at = models.DateTimeField(_("批准时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("锁定例外")
        verbose_name_plural = _("锁定例外")
        constraints = [
            models.UniqueConstraint(
                fields=["reporting_period", "region"], name="lock_exception_unique_region"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reporting_period} · {self.region} → {self.until}"


class ReportContribution(models.Model):
    """A supporting unit's (配合单位) figure towards the lead unit's report."""

    target = models.ForeignKey(
        Target, verbose_name=_("目标指标"), on_delete=models.CASCADE, related_name="contributions"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="contributions"
    )
    period = models.CharField(_("填报期间"), max_length=6)
    unit = models.ForeignKey(
        "core.Unit",
        verbose_name=_("配合单位"),
        on_delete=models.PROTECT,
        related_name="contributions",
    )
    value = decimal_field(_("贡献值"))
    note = models.TextField(_("说明"), blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("填报人"), null=True, on_delete=models.SET_NULL
    )
    submitted_at = models.DateTimeField(_("提交时间"), auto_now=True)
    evidence = models.ManyToManyField(
        Evidence, verbose_name=_("佐证材料"), blank=True, related_name="contributions"
    )

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("配合单位报送")
        verbose_name_plural = _("配合单位报送")
        constraints = [
            models.UniqueConstraint(
                fields=["target", "region", "period", "unit"], name="contribution_unique"
            ),
            non_negative("value", "contribution_value_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} → {self.target} {self.period}"


class ReportRollup(models.Model):
    """Approved figures of one target and period summed up the region tree (汇总).

    Derived data, kept by PostgreSQL triggers on every change of an approved figure (in the
    same transaction; ``targets/rollup_store.py`` explains the choice) and rebuilt from the
    reports with ``manage.py rebuild_rollups``. The status engine reads it instead of the raw
    reports: a region's figure is its own (``own_value``), else the sum of its children's figures
    (``below_value``), each own-else-children again — the engine's rule, ``targets/status.py``.
    """

    target = models.ForeignKey(
        Target, verbose_name=_("目标指标"), on_delete=models.CASCADE, related_name="+"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.CASCADE, related_name="+"
    )
    period = models.CharField(_("填报期间"), max_length=6)
    own_value = models.DecimalField(
        _("本级审核值"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    below_value = models.DecimalField(
        _("下级审核值合计"), max_digits=24, decimal_places=4, null=True, blank=True
    )
    below_count = models.IntegerField(_("下级审核数"), default=0)
    effective_value = models.DecimalField(
        _("汇总值"),
        max_digits=24,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("本级审核值；没有时为下级审核值合计"),
    )
    report_count = models.IntegerField(_("审核通过的报送数（含下级）"), default=0)
    demo_count = models.IntegerField(_("其中演示数据（含下级）"), default=0)

    class Meta:
        verbose_name = _("填报汇总")
        verbose_name_plural = _("填报汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["target", "region", "period"], name="rollup_unique_target_region_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target_id} · {self.region_id} · {self.period}"

    @property
    def is_demo(self) -> bool:
        return self.demo_count > 0


class ReportingTally(models.Model):
    """Figures owed and reported for one plan, period and region (填报情况汇总), so the
    dashboards read a row per region instead of walking target × region × period.

    ``owed`` counts the plan's report-fed targets that this region reports for this period
    (its own targets and those allocated to it, up to each target's year); the other counts
    are the reports among them by status, and among those submitted or approved, ``on_time``
    (submitted before the end of the due date, site time) and ``late``. Derived data, kept by
    PostgreSQL triggers (``targets/tally_store.py``) and rebuilt by ``rebuild_rollups``.
    """

    plan = models.ForeignKey(
        Plan, verbose_name=_("规划"), on_delete=models.CASCADE, related_name="+"
    )
    period = models.CharField(_("填报期间"), max_length=6)
    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.CASCADE, related_name="+"
    )
    owed = models.IntegerField(_("应报数"), default=0)
    draft = models.IntegerField(_("草稿"), default=0)
    submitted = models.IntegerField(_("已提交"), default=0)
    approved = models.IntegerField(_("已审核"), default=0)
    returned = models.IntegerField(_("已退回"), default=0)
    on_time = models.IntegerField(_("按时报送"), default=0)
    late = models.IntegerField(_("逾期报送"), default=0)

    class Meta:
        verbose_name = _("填报情况汇总")
        verbose_name_plural = _("填报情况汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "period", "region"], name="tally_unique_plan_period_region"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} · {self.period} · {self.region_id}"


class TargetAdjustment(models.Model):
    """A formal mid-term change of a target's value or year (指标调整), adopted by a document.

    The target row keeps the value and year of the plan as issued; the value in force on a date
    is the latest adjustment adopted on or before it, else the original
    (``targets.status.value_in_force``). An adjustment is never edited or deleted — a wrong one
    is reversed by another (``targets.upkeep.adjust_target``; the admin is read-only; a
    PostgreSQL trigger refuses UPDATE and DELETE, see migration 0008)."""

    target = models.ForeignKey(
        Target, verbose_name=_("目标指标"), on_delete=models.PROTECT, related_name="adjustments"
    )
    old_value = decimal_field(_("调整前目标值"))
    new_value = decimal_field(_("调整后目标值"), null=False, blank=False)
    old_year = models.PositiveSmallIntegerField(
        _("调整前目标年度"), null=True, blank=True, validators=YEAR_VALIDATORS
    )
    new_year = models.PositiveSmallIntegerField(
        _("调整后目标年度"), null=True, blank=True, validators=YEAR_VALIDATORS
    )
    doc_number = models.CharField(_("文号"), max_length=128)
    adopted_on = models.DateField(_("印发日期"))
    reason = models.TextField(_("调整理由"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("指标调整")
        verbose_name_plural = _("指标调整")
        ordering = ["target", "adopted_on", "pk"]
        constraints = [
            non_negative("old_value", "adjustment_old_value_non_negative"),
            non_negative("new_value", "adjustment_new_value_non_negative"),
            models.CheckConstraint(
                condition=~Q(doc_number=""), name="adjustment_doc_number_required"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="adjustment_reason_required"),
        ]
        indexes = [
            models.Index(fields=["target", "adopted_on"], name="adjustment_target_adopted_idx")
        ]

    def __str__(self) -> str:
        return f"{self.target_id} · {self.doc_number} · {self.adopted_on}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AdjustmentIsFinal()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AdjustmentIsFinal()


class AdjustmentIsFinal(Exception):
    """An adjustment once recorded is never edited or deleted (reverse it with another)."""

    def __init__(self) -> None:
        super().__init__(
            str(_("指标调整登记后不能修改或删除；如有错误，请登记一次新的调整予以更正"))
        )


class JudgementClock(models.Model):
    """How often what a judgement reads has changed (``targets/judgement_store.py``): per
    target and region (its roll-up rows), and per target (``region_id`` 0: the target, its
    plan, milestones, allocations, adjustments …). Kept by PostgreSQL triggers only; plain
    integers, no foreign keys (a derived table: nothing here keeps a target from deletion)."""

    target_id = models.IntegerField(_("目标指标"))
    region_id = models.IntegerField(_("区划（0 为整个指标）"))
    version = models.BigIntegerField(_("变更次数"), default=0)

    class Meta:
        verbose_name = _("研判输入版本")
        verbose_name_plural = _("研判输入版本")
        constraints = [
            models.UniqueConstraint(
                fields=["target_id", "region_id"], name="judgement_clock_unique_target_region"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target_id} · {self.region_id} · {self.version}"


class TargetJudgement(models.Model):
    """A target's (or an allocation's) judgement by the status engine at a date, stored so
    pages read it instead of judging again (``targets/judgement.py``: judge once, read many).

    ``progress`` is the engine's whole answer (``TargetProgress``); ``status``, ``light``,
    ``completion`` … repeat its main figures for queries and the admin. A row counts only while
    the clocks it was judged under (``pair_version``, ``target_version``) and the tolerances
    (``rules``) are still current. Derived data: ``manage.py rebuild_status [--check]``."""

    target_id = models.IntegerField(_("目标指标"))
    region_id = models.IntegerField(_("区划"))
    allocation = models.BooleanField(_("分解指标"), default=False)
    as_of = models.DateField(_("研判日期"))
    pair_version = models.BigIntegerField(_("本级填报汇总版本"))
    target_version = models.BigIntegerField(_("指标版本"))
    rules = models.CharField(_("研判阈值"), max_length=64)
    status = models.CharField(_("状态"), max_length=20)
    light = models.CharField(_("信号灯"), max_length=10)
    escalate = models.BooleanField(_("需督办"), default=False)
    actual = models.DecimalField(_("实际值"), max_digits=30, decimal_places=4, null=True)
    expected = models.DecimalField(_("序时进度值"), max_digits=30, decimal_places=4, null=True)
    completion = models.DecimalField(_("完成率"), max_digits=30, decimal_places=4, null=True)
    projection = models.DecimalField(_("趋势预测值"), max_digits=30, decimal_places=4, null=True)
    progress = models.JSONField(_("研判结果"))
    judged_at = models.DateTimeField(_("研判时间"))

    class Meta:
        verbose_name = _("指标研判结果")
        verbose_name_plural = _("指标研判结果")
        constraints = [
            models.UniqueConstraint(
                fields=["target_id", "region_id", "allocation", "as_of"],
                name="judgement_unique_target_region_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target_id} · {self.region_id} · {self.as_of} · {self.status}"
