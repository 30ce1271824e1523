"""What every domain app stands on: regions, responsible units and evidence files, plus the
field helpers the domain models share. Knows no plan, target or report.

The models were first created by the planning app; they keep its table names (``db_table``)
and were moved here in state only (core/migrations/0001, planning/migrations/0006).
"""

import hashlib
import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.choices import JobState, RegionLevel, UnitKind
from core.querysets import ScopedQuerySet

YEAR_VALIDATORS = [MinValueValidator(1949), MaxValueValidator(2100)]
NON_NEGATIVE = [MinValueValidator(0)]


def decimal_field(verbose_name, **kwargs) -> models.DecimalField:
    kwargs.setdefault("null", True)
    kwargs.setdefault("blank", True)
    return models.DecimalField(
        verbose_name, max_digits=18, decimal_places=4, validators=NON_NEGATIVE, **kwargs
    )


def non_negative(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": 0}), name=name
    )


class Region(models.Model):
    name = models.CharField(_("名称"), max_length=64)
    code = models.CharField(
        _("行政区划代码"), max_length=12, blank=True, help_text=_("GB/T 2260 代码，已知时填写")
    )
    level = models.CharField(_("层级"), max_length=16, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    source_text = models.TextField(_("原文依据"), blank=True)

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords(table_name="planning_historicalregion")

    class Meta:
        db_table = "planning_region"
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["level", "name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="region_unique_name_in_parent"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="region_unique_root_name"
            ),
            models.UniqueConstraint(
                fields=["code"], condition=~Q(code=""), name="region_unique_code"
            ),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="region_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def ancestors(self) -> list["Region"]:
        """Parents from the nearest up (one query per level; regions are shallow)."""
        chain, node, seen = [], self.parent, {self.pk}
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return chain

    @property
    def path(self) -> str:
        return "/".join(r.name for r in [*reversed(self.ancestors()), self])

    def clean(self) -> None:
        if (
            self.pk
            and self.parent_id
            and any(r.pk == self.pk for r in [self.parent, *self.parent.ancestors()])
        ):
            raise ValidationError({"parent": _("上级区划不能是本区划或其下级区划")})


class Unit(models.Model):
    name = models.CharField(_("名称"), max_length=128)
    kind = models.CharField(_("类别"), max_length=16, choices=UnitKind.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="units"
    )
    source_text = models.TextField(_("原文依据"), blank=True)

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords(table_name="planning_historicalunit")

    class Meta:
        db_table = "planning_unit"
        verbose_name = _("责任单位")
        verbose_name_plural = _("责任单位")
        ordering = ["region__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="unit_unique_name_in_region"),
        ]

    def __str__(self) -> str:
        return self.name


def evidence_upload_to(instance, filename: str) -> str:
    """A random name under MEDIA_ROOT: the uploader's name is kept in ``original_name`` only,
    so nothing the user chose reaches the file system (no traversal, no guessable names, no
    double extension); the extension is kept when it is one we accept."""
    extension = PurePath(filename or "").suffix.lower().lstrip(".")
    if extension not in settings.EVIDENCE_EXTENSIONS:
        extension = "bin"
    return f"evidence/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"


class Evidence(models.Model):
    """A file kept as proof (佐证材料); attached to progress reports and task updates.

    Stored under MEDIA_ROOT with a random name, which no URL serves; it is downloaded only
    through ``evidence_download``, which checks the user's scope."""

    file = models.FileField(_("文件"), upload_to=evidence_upload_to, max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=255)
    content_type = models.CharField(_("文件类型"), max_length=128, blank=True)
    size_bytes = models.PositiveBigIntegerField(_("大小（字节）"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        db_table = "planning_evidence"
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.original_name

    @staticmethod
    def digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()


class Job(models.Model):
    """Long work run in the background (core.jobs): an export, an import, a plan import.

    The row is the user's view of the work — its state, progress, message and file; the task
    backend's own row (``task_id``) only says which worker ran it. Progress and the heartbeat
    are written by ``core.jobs.Progress`` on a connection of their own, outside the work's
    transaction, so the page sees them while an import's one transaction is still open."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        on_delete=models.CASCADE,
        related_name="jobs",
    )
    kind = models.CharField(_("类型"), max_length=48)
    title = models.CharField(_("名称"), max_length=200)
    parameters = models.JSONField(_("参数"), default=dict, blank=True)
    state = models.CharField(
        _("状态"), max_length=16, choices=JobState.choices, default=JobState.QUEUED
    )
    done = models.PositiveIntegerField(_("已处理行数"), default=0)
    total = models.PositiveIntegerField(_("总行数"), null=True, blank=True)
    created_at = models.DateTimeField(_("发起时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("心跳时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("运行次数"), default=0)
    worker = models.CharField(_("工作进程"), max_length=128, blank=True)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    # Stored by core.jobs under a random name (jobs/YYYY/MM/<hex>.xlsx), which no URL serves:
    # downloaded only through jobs:download, by the owner, before ``expires_at``.
    result = models.FileField(_("结果文件"), upload_to="jobs/", max_length=200, blank=True)
    result_name = models.CharField(_("文件名"), max_length=255, blank=True)
    result_size_bytes = models.PositiveBigIntegerField(_("大小（字节）"), default=0)
    expires_at = models.DateTimeField(_("保留至"), null=True, blank=True)
    task_id = models.CharField(_("任务编号"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="core_job_owner_idx"),
            models.Index(
                fields=["state"],
                name="core_job_active_idx",
                condition=Q(state__in=["queued", "running"]),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def finished(self) -> bool:
        return self.state in ("succeeded", "failed", "cancelled")

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.state == "succeeded" else 0
        return min(100, self.done * 100 // self.total)

    @property
    def downloadable(self) -> bool:
        return bool(
            self.state == "succeeded"
            and self.result
            and (self.expires_at is None or self.expires_at > timezone.now())
        )


class TableClock(models.Model):
    """One tick per writing transaction and table (``core.table_clock``): a table's version
    is ``sum(n)`` of its rows. Written only by the PostgreSQL trigger and its compaction;
    ``xid`` 0 is the table's base row, where compaction folds committed ticks."""

    table_name = models.CharField(max_length=63)
    xid = models.BigIntegerField()
    n = models.BigIntegerField(default=1)

    class Meta:
        verbose_name = _("表版本")
        verbose_name_plural = _("表版本")
        constraints = [
            # The ticks' ON CONFLICT target; n included so the versions are an index-only read.
            models.UniqueConstraint(
                fields=["table_name", "xid"], include=["n"], name="core_tableclock_tick"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.table_name}@{self.xid}: {self.n}"
