"""Plans and what they are made of: regions, units, stages, sections, tasks.

Integrity lives in the database as far as it can (unique keys, checks, and on PostgreSQL a
trigger that refuses region cycles); ``clean()`` repeats the rules for friendly form errors.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.models import YEAR_VALIDATORS, Evidence, Region, Unit
from core.querysets import ScopedQuerySet
from planning.choices import AssignmentRole, PlanKind, PlanStatus, SectionKind, TaskStatus


class Plan(models.Model):
    code = models.SlugField(_("编码"), max_length=64, unique=True)
    title = models.CharField(_("标题"), max_length=255)
    kind = models.CharField(_("类型"), max_length=16, choices=PlanKind.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.IN_FORCE
    )
    issuer = models.CharField(_("印发机关"), max_length=128, blank=True)
    doc_number = models.CharField(_("文号"), max_length=64, blank=True)
    issued_on = models.DateField(_("印发日期"), null=True, blank=True)
    start_year = models.PositiveSmallIntegerField(_("起始年度"), validators=YEAR_VALIDATORS)
    end_year = models.PositiveSmallIntegerField(_("终止年度"), validators=YEAR_VALIDATORS)
    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="plans"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上位规划"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    # The plan of the previous period this one continues (十四五 → 十五五); one successor each.
    predecessor = models.OneToOneField(
        "self",
        verbose_name=_("上期规划"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="successor",
    )
    source_file = models.CharField(_("来源文件"), max_length=255, blank=True)
    source_text = models.TextField(_("原文依据"), blank=True)
    # 归档: the plan is read-only (planning.services.check_plan_writable); who and why are in
    # its history row.
    archived_on = models.DateField(_("归档日期"), null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("规划")
        verbose_name_plural = _("规划")
        ordering = ["-start_year", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_year__lte=F("end_year")), name="plan_start_not_after_end"
            ),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="plan_not_own_parent"),
            models.CheckConstraint(
                condition=~Q(predecessor=F("pk")), name="plan_not_own_predecessor"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.start_year and self.end_year and self.start_year > self.end_year:
            raise ValidationError({"end_year": _("终止年度不能早于起始年度")})


class Stage(models.Model):
    plan = models.ForeignKey(
        Plan, verbose_name=_("规划"), on_delete=models.CASCADE, related_name="stages"
    )
    name = models.CharField(_("名称"), max_length=64)
    starts_on = models.DateField(_("开始日期"), null=True, blank=True)
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    source_text = models.TextField(_("原文依据"), blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("实施阶段")
        verbose_name_plural = _("实施阶段")
        ordering = ["plan", "order"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "name"], name="stage_unique_name_in_plan"),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(starts_on__lte=F("ends_on")),
                name="stage_starts_not_after_ends",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Section(models.Model):
    plan = models.ForeignKey(
        Plan, verbose_name=_("规划"), on_delete=models.CASCADE, related_name="sections"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级章节"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    code = models.CharField(_("编码"), max_length=32)
    number = models.CharField(_("序号"), max_length=32, blank=True)
    title = models.CharField(_("标题"), max_length=255)
    kind = models.CharField(
        _("类别"), max_length=16, choices=SectionKind.choices, default=SectionKind.CHAPTER
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
        verbose_name = _("章节")
        verbose_name_plural = _("章节")
        ordering = ["plan", "order"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="section_unique_code_in_plan"),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="section_not_own_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}".strip()


class Task(models.Model):
    plan = models.ForeignKey(
        Plan, verbose_name=_("规划"), on_delete=models.CASCADE, related_name="tasks"
    )
    section = models.ForeignKey(
        Section,
        verbose_name=_("章节"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    code = models.CharField(_("编码"), max_length=32)
    number = models.CharField(_("序号"), max_length=32, blank=True)
    title = models.CharField(_("任务名称"), max_length=255)
    description = models.TextField(_("任务内容"), blank=True)
    due_on = models.DateField(_("完成时限"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED
    )
    order = models.PositiveIntegerField(_("顺序"), default=0)
    units = models.ManyToManyField(
        Unit, through="TaskAssignment", verbose_name=_("责任单位"), related_name="tasks"
    )
    source_text = models.TextField(_("原文依据"), blank=True)
    # 停用: kept with its history and figures, hidden from reporting, shown struck through
    # (planning.services.retire_object); who and why are in its history row.
    retired_on = models.DateField(_("停用日期"), null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("重点任务")
        verbose_name_plural = _("重点任务")
        ordering = ["plan", "order"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="task_unique_code_in_plan"),
        ]
        indexes = [models.Index(fields=["plan", "section"], name="task_plan_section_idx")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}".strip()


class TaskAssignment(models.Model):
    task = models.ForeignKey(
        Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="assignments"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField(_("职责"), max_length=16, choices=AssignmentRole.choices)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("任务分工")
        verbose_name_plural = _("任务分工")
        ordering = ["task", "order"]
        constraints = [
            models.UniqueConstraint(fields=["task", "unit"], name="assignment_unique_unit_in_task"),
        ]
        indexes = [models.Index(fields=["unit", "role"], name="assignment_unit_role_idx")]

    def __str__(self) -> str:
        return f"{self.unit}（{self.get_role_display()}）"


class TaskUpdate(models.Model):
    """Append-only progress note on a task (任务进展)."""

    task = models.ForeignKey(
        Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="updates"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填写人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="task_updates",
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    text = models.TextField(_("进展情况"))
    percent = models.PositiveSmallIntegerField(
        _("完成百分比"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    evidence = models.ManyToManyField(
        Evidence, verbose_name=_("佐证材料"), blank=True, related_name="task_updates"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("任务进展")
        verbose_name_plural = _("任务进展")
        ordering = ["task", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__isnull=True) | Q(percent__lte=100),
                name="task_update_percent_at_most_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} @ {self.created_at:%Y-%m-%d}"
