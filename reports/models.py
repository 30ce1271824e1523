"""Assessment rules (考核评分规则) as data staff edit, and the Excel import batches.

An ``AssessmentScheme`` belongs to one plan and year. It says how many points an item is worth
(by default by attribute: binding targets weigh more; ``ItemWeight`` overrides one target or
task), which completion the score follows (pace or final target), the grade bands, and
carries the deductions (扣分) and veto items (一票否决) recorded against a region or a unit.
``reports.excel.scoring`` turns these and the status engine's numbers into scores.

``ImportBatch`` keeps an uploaded figures workbook between its preview and its commit.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.models import YEAR_VALIDATORS, Region, Unit
from core.querysets import ScopedQuerySet
from planning.models import Plan, Task
from targets.models import Target

POINTS = [MinValueValidator(0), MaxValueValidator(1000)]


def points_field(verbose_name, **kwargs) -> models.DecimalField:
    kwargs.setdefault("validators", POINTS)
    return models.DecimalField(verbose_name, max_digits=7, decimal_places=2, **kwargs)


class ScoreBasis(models.TextChoices):
    PACE = "pace", _("按序时进度（进度比，封顶 100%）")
    TARGET = "target", _("按目标值（完成率，封顶 100%）")


class AssessmentScheme(models.Model):
    plan = models.ForeignKey(
        Plan, verbose_name=_("规划"), on_delete=models.CASCADE, related_name="assessment_schemes"
    )
    year = models.PositiveSmallIntegerField(_("考核年度"), validators=YEAR_VALIDATORS)
    title = models.CharField(
        _("考核表标题"), max_length=255, blank=True, help_text=_("留空时按规划和年度生成")
    )
    full_marks = points_field(_("满分"), default=Decimal(100))
    binding_points = points_field(
        _("约束性指标分值"), default=Decimal(10), help_text=_("每个约束性指标的分值")
    )
    expected_points = points_field(
        _("预期性指标分值"), default=Decimal(5), help_text=_("每个预期性或未注明属性的指标的分值")
    )
    task_points = points_field(
        _("任务分值"), default=Decimal(5), help_text=_("每个没有量化指标的重点任务的分值")
    )
    basis = models.CharField(
        _("计分依据"), max_length=16, choices=ScoreBasis.choices, default=ScoreBasis.PACE
    )
    note = models.TextField(_("说明"), blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("考核方案")
        verbose_name_plural = _("考核方案")
        ordering = ["plan", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "year"], name="assessment_scheme_unique_year"),
            models.CheckConstraint(
                condition=Q(full_marks__gt=0), name="scheme_full_marks_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.plan} {self.year}年度考核"


class ItemWeight(models.Model):
    """The points of one target or one task, instead of the scheme's default."""

    scheme = models.ForeignKey(
        AssessmentScheme,
        verbose_name=_("考核方案"),
        on_delete=models.CASCADE,
        related_name="weights",
    )
    target = models.ForeignKey(
        Target,
        verbose_name=_("目标指标"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    task = models.ForeignKey(
        Task,
        verbose_name=_("重点任务"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    points = points_field(_("分值"), help_text=_("0 分表示该项不参加考核"))

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("考核项分值")
        verbose_name_plural = _("考核项分值")
        constraints = [
            models.CheckConstraint(
                condition=Q(target__isnull=False, task__isnull=True)
                | Q(target__isnull=True, task__isnull=False),
                name="item_weight_target_or_task",
            ),
            models.UniqueConstraint(
                fields=["scheme", "target"],
                condition=Q(target__isnull=False),
                name="item_weight_unique_target",
            ),
            models.UniqueConstraint(
                fields=["scheme", "task"],
                condition=Q(task__isnull=False),
                name="item_weight_unique_task",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target or self.task}：{self.points} 分"


def _region_or_unit(prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(region__isnull=False, unit__isnull=True)
        | Q(region__isnull=True, unit__isnull=False),
        name=f"{prefix}_region_or_unit",
    )


class Deduction(models.Model):
    """Points taken off a region's or a unit's total (the total stops at zero)."""

    scheme = models.ForeignKey(
        AssessmentScheme,
        verbose_name=_("考核方案"),
        on_delete=models.CASCADE,
        related_name="deductions",
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("被考核区划"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("被考核单位"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    reason = models.CharField(_("扣分事由"), max_length=255)
    points = points_field(
        _("扣分"), validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(1000)]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("扣分项")
        verbose_name_plural = _("扣分项")
        ordering = ["scheme", "pk"]
        constraints = [
            _region_or_unit("deduction"),
            models.CheckConstraint(condition=Q(points__gt=0), name="deduction_points_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.region or self.unit}：{self.reason} −{self.points}"


class VetoItem(models.Model):
    """一票否决: an event (e.g. a major fire) that fails a region's or unit's assessment
    whatever its score."""

    scheme = models.ForeignKey(
        AssessmentScheme,
        verbose_name=_("考核方案"),
        on_delete=models.CASCADE,
        related_name="vetoes",
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("被考核区划"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("被考核单位"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    title = models.CharField(_("否决事项"), max_length=255, help_text=_("如：发生较大以上火灾事故"))
    occurred_on = models.DateField(_("发生日期"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("一票否决事项")
        verbose_name_plural = _("一票否决事项")
        ordering = ["scheme", "pk"]
        constraints = [_region_or_unit("veto")]

    def __str__(self) -> str:
        return f"{self.region or self.unit}：{self.title}"


class GradeBand(models.Model):
    """A grade from a minimum score up (≥90 优秀, 80–90 良好, 60–80 合格, <60 不合格)."""

    scheme = models.ForeignKey(
        AssessmentScheme, verbose_name=_("考核方案"), on_delete=models.CASCADE, related_name="bands"
    )
    name = models.CharField(_("等级"), max_length=16)
    min_score = points_field(_("最低分（含）"))
    passing = models.BooleanField(_("视为通过"), default=True)

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("等级划分")
        verbose_name_plural = _("等级划分")
        ordering = ["scheme", "-min_score"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "name"], name="grade_band_unique_name"),
            models.UniqueConstraint(fields=["scheme", "min_score"], name="grade_band_unique_min"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ≥{self.min_score}"


class ImportState(models.TextChoices):
    PREVIEWED = "previewed", _("待确认")
    COMMITTED = "committed", _("已导入")
    REFUSED = "refused", _("已拒绝")


class ImportBatch(models.Model):
    """An uploaded figures workbook: parsed and previewed first, committed on confirmation.

    The file is kept here until the commit, which stores it as evidence linked to the reports
    it wrote. The preview keeps the cells it read (``cells``: one CSV line a row, a few bytes
    each, not the rows as JSON objects); the commit checks them again against the database as
    it is then, without parsing the workbook a second time (issue 19), and reads the file
    again only when its digest is no longer ``sha256`` or there are no cells (a batch
    previewed before they were kept)."""

    file = models.FileField(_("上传文件"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size_bytes = models.PositiveBigIntegerField(_("大小（字节）"), default=0)
    plan = models.ForeignKey(
        Plan, verbose_name=_("规划"), on_delete=models.CASCADE, related_name="import_batches"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="import_batches"
    )
    period = models.CharField(_("填报期间"), max_length=6)
    state = models.CharField(
        _("状态"), max_length=16, choices=ImportState.choices, default=ImportState.PREVIEWED
    )
    seen_versions = models.JSONField(
        _("预览时的版本"),
        default=dict,
        help_text=_("目标编号 → 预览时该报送的版本（0 表示尚无报送），提交时据此发现并发修改"),
    )
    summary = models.JSONField(_("导入结果"), default=dict, blank=True)
    cells = models.TextField(
        _("预览读出的单元格"),
        blank=True,
        default="",
        help_text=_("预览时从文件读出的各行（CSV），提交时据此重新核对，导入后清空"),
    )
    evidence = models.ForeignKey(
        "core.Evidence",
        verbose_name=_("佐证材料"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_batches",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.CASCADE,
        related_name="import_batches",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    committed_at = models.DateTimeField(_("导入时间"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("Excel 导入批次")
        verbose_name_plural = _("Excel 导入批次")
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.original_name}（{self.get_state_display()}）"


class PageClock(models.Model):
    """How often what the cached dashboards show has changed (``reports/page_clock.py``):
    per plan and reporting region, per plan (``region_id`` 0) and for what every page names
    (``plan_id`` 0). Kept by PostgreSQL triggers only; plain integers, no foreign keys."""

    plan_id = models.IntegerField(_("规划（0 为全部页面）"))
    region_id = models.IntegerField(_("区划（0 为整个规划）"))
    version = models.BigIntegerField(_("变更次数"), default=0)

    class Meta:
        verbose_name = _("页面内容版本")
        verbose_name_plural = _("页面内容版本")
        constraints = [
            models.UniqueConstraint(
                fields=["plan_id", "region_id"], name="page_clock_unique_plan_region"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} · {self.region_id} · {self.version}"
