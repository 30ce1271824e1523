"""Writes of the reporting workflow: every door (browser form, REST API, Excel import) calls
these, so the rules, the scope checks and the history are the same whichever way a figure
comes in. Each function is one transaction and returns the object it wrote.

Life cycle (DESIGN §5): draft → submitted → approved, or → returned (with a reason) →
submitted again. Approved figures are locked; staff may reopen one (recorded, back to
returned with the reason). A period locks after its ``locks_on`` date unless staff granted
the region an exception.
"""

from __future__ import annotations

import datetime
import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from core.db_errors import UNIQUE_VIOLATION, sqlstate
from core.evidence import check_evidence_file, store_evidence
from core.models import Evidence, Region
from core.numbers import NumberError, parse_number
from core.periods import is_valid_period, period_bounds
from core.scope import APPROVE, CHANGE, REPORT, VIEW, allows, require, scope_of
from core.services import (
    NotAllowed,
    ServiceError,
    StaleEdit,
    last_change,
    lock_for_edit,
    save_versioned,
)
from core.text import too_long
from planning.models import Plan
from planning.services import check_plan_writable
from targets.choices import Feed, ReportStatus
from targets.models import (
    Allocation,
    LockException,
    ProgressReport,
    ReportContribution,
    ReportingPeriod,
    Target,
)
from targets.owed import lock_exceptions, locked, owes_period, owes_region, past_lock_date

EDITABLE = {ReportStatus.DRAFT, ReportStatus.RETURNED}
COUNT_UNITS = {"个", "座", "支", "人", "辆", "台", "套", "件", "处", "家", "次", "名", "所", "条"}
# Plausibility: a value this far from the previous approved figure, or this many times the
# target, needs a confirming comment (not a refusal).
JUMP_RATIO = Decimal("0.5")
TIMES_TARGET = Decimal(3)


@dataclass
class Plausibility:
    warnings: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.warnings)


class ReportExists(ServiceError):
    """A new figure (version 0: the user saw none) for a target, region and period that has
    one already — entered by someone else meanwhile, or a second create racing the first.
    Exactly one create wins; the others are refused here, never overwrite it."""

    status_code = 409

    def __init__(self, report: ProgressReport):
        who, _when = last_change(report)
        super().__init__(
            "report_exists",
            _(
                "该指标本期已有填报（编号 %(pk)s，版本 %(version)s，%(who)s 填写），"
                "请刷新后在其基础上修改"
            )
            % {"pk": report.pk, "version": report.version, "who": who or _("他人")},
        )
        self.report = report


def _report_exists(target_id: int, region: Region, period: str) -> ReportExists:
    """The refusal of a create that lost the race (the winner has committed: the INSERT waited
    for it on the unique index)."""
    report = ProgressReport.objects.get(target_id=target_id, region=region, period=period)
    return ReportExists(report)


class NeedsConfirmation(ServiceError):
    """The figure is unusual; it is accepted once the reporter explains it."""

    def __init__(self, warnings: list[str]):
        super().__init__("confirmation_required", "；".join(warnings), field="confirm_note")
        self.warnings = warnings


# ------------------------------------------------------------------------------ parsing


def parse_value(raw, target: Target, *, number_format: str | None = None) -> Decimal | None:
    """A reported value as a number, with a message saying what is wrong and expected. The
    number is read by ``core.numbers.parse_number`` (the one parser of every door; a cell's
    ``number_format`` when it comes from a workbook), then checked against the target."""
    try:
        value = parse_number(
            raw,
            measure_unit=target.measure_unit,
            number_format=number_format,
            expected=functools.partial(_expected, target),  # said only in a refusal
        )
    except NumberError as error:
        raise ServiceError(error.code, error.message, field="value") from None
    if value is None:
        return None
    if value < 0:
        raise ServiceError(
            "negative",
            _("不能为负数，应填写%(expected)s") % {"expected": _expected(target)},
            field="value",
        )
    if target.measure_unit == "%" and value > 100:
        raise ServiceError("out_of_range", _("百分比应在 0 到 100 之间"), field="value")
    if target.measure_unit == "‰" and value > 1000:
        raise ServiceError("out_of_range", _("千分比应在 0 到 1000 之间"), field="value")
    if target.measure_unit in COUNT_UNITS and value != value.to_integral_value():
        raise ServiceError(
            "not_whole",
            _("计量单位为“%(measure_unit)s”，应填写整数") % {"measure_unit": target.measure_unit},
            field="value",
        )
    return value


def _expected(target: Target) -> str:
    unit = target.measure_unit or _("（无单位）")
    if target.measure_unit == "%":
        return _("0 到 100 之间的百分数")
    return _("不小于 0 的数字（单位：%(unit)s）") % {"unit": unit}


# ------------------------------------------------------------------------------ periods


def _check_period_in_plan(plan: Plan, period: str) -> None:
    if not is_valid_period(period):
        raise ServiceError("bad_period", _("期间格式应为 2022、2022H1 或 2022Q3"), field="period")
    year = int(period[:4])
    if not plan.start_year <= year <= plan.end_year:
        raise ServiceError(
            "period_outside_plan",
            _("期间 %(period)s 不在规划期 %(start_year)s—%(end_year)s 内")
            % {"period": period, "start_year": plan.start_year, "end_year": plan.end_year},
            field="period",
        )


def _period_not_open(period: str) -> ServiceError:
    return ServiceError(
        "period_not_open", _("期间 %(period)s 尚未开放填报") % {"period": period}, field="period"
    )


def reporting_period(target: Target, period: str) -> ReportingPeriod:
    _check_period_in_plan(target.plan, period)
    found = ReportingPeriod.objects.filter(plan_id=target.plan_id, period=period).first()
    if found is None:
        raise _period_not_open(period)
    return found


def is_locked(period: ReportingPeriod, region: Region, on: datetime.date | None = None) -> bool:
    """``targets.owed.locked`` for one region: locked after ``locks_on``, unless the region
    (or a region above it) has an exception (no query before the lock date)."""
    on = on or timezone.localdate()
    if not past_lock_date(period, on):
        return False
    region_ids = [region.pk, *(r.pk for r in region.ancestors())]
    exceptions = lock_exceptions(on, reporting_period=period, region_id__in=region_ids)
    return locked(period, region_ids, on, exceptions)


def locked_error(
    period: ReportingPeriod, region: Region, on: datetime.date | None = None
) -> ServiceError | None:
    """The refusal of every door (form, API, Excel import) when ``period`` is locked for
    ``region``; None while figures may be entered."""
    if not is_locked(period, region, on):
        return None
    message = _("%(period)s 期间已于 %(date)s 锁定，如需补报请联系委员会办公室开放") % {
        "period": period.period,
        "date": period.locks_on,
    }
    return ServiceError("period_locked", message, field="period")


def check_period_open(plan: Plan, region: Region, period: str) -> ReportingPeriod:
    """The reporting period figures of ``plan`` for ``region`` go into, or the refusal every
    door gives (``bad_period``, ``period_outside_plan``, ``period_not_open``,
    ``period_locked``): ``_check_open`` for a whole plan (the Excel import's file)."""
    found = _open_periods({plan.pk: plan}, region, period)[plan.pk]
    if isinstance(found, ServiceError):
        raise found
    return found


def _check_open(target: Target, region: Region, period: str) -> ReportingPeriod:
    found = reporting_period(target, period)
    error = locked_error(found, region)
    if error is not None:
        raise error
    return found


# ------------------------------------------------------------------------------ scope

# Allocated shares of a target: region id → the value allocated to it (目标分解). The rules
# below take them as a mapping so that one target (its prefetched or queried allocations)
# and thousands (one query, ``allocated_shares``) go through the same code.
Shares = dict[int, Decimal]


def _shares_of(target: Target, region_id: int | None = None) -> Shares:
    """The target's allocations; with ``region_id``, only that region's (one row, not the
    thousands of a national target's, unless they are already prefetched)."""
    allocations = target.allocations.all()
    prefetched = "allocations" in getattr(target, "_prefetched_objects_cache", {})
    if region_id is not None and not prefetched:
        allocations = allocations.filter(region_id=region_id)
    return {
        a.region_id: a.value
        for a in allocations
        if region_id in (None, a.region_id) and a.retired_on is None
    }


def allocated_shares(plan_ids: Iterable[int], region_id: int | None = None) -> dict[int, Shares]:
    """Every allocation of the targets of these plans (one query), or with ``region_id`` only
    those to that region (all the rules below look up): target id → region id → value."""
    shares: dict[int, Shares] = defaultdict(dict)
    rows = Allocation.objects.filter(target__plan_id__in=list(plan_ids), retired_on__isnull=True)
    if region_id is not None:
        rows = rows.filter(region_id=region_id)
    rows = rows.values_list("target_id", "region_id", "value")
    for target_id, region_id, value in rows:
        shares[target_id][region_id] = value
    return shares


def region_goal(target: Target, region_id: int, shares: Shares) -> Decimal | None:
    """The goal a region is measured against: a county's own share (南召县: 3 of 南阳's 24)
    when it has one, otherwise the target's value."""
    if region_id != target.region_id:
        share = shares.get(region_id)
        if share is not None:
            return share
    return target.target_value


def _may_report_in(actor, region: Region) -> bool:
    """The role may report at all (otherwise PermissionDenied), and the region is in scope."""
    require(actor, REPORT)
    return scope_of(actor).covers(region)


def _out_of_scope() -> NotAllowed:
    return NotAllowed("out_of_scope", _("该指标或区划不在您的填报范围内"))


def _check_note_lengths(note: str, confirm_note: str = "") -> None:
    """Notes are free text up to ``core.text.TEXT_LIMIT`` characters, whichever door they
    come in by (the page's form, the API, a workbook)."""
    for name, text in (("note", note), ("confirm_note", confirm_note)):
        message = too_long(text)
        if message:
            label = _("说明") if name == "note" else _("异常值说明")
            raise ServiceError(
                "too_long", _("%(label)s%(message)s") % {"label": label, "message": message},
                field=name,
            )  # fmt: skip


def _check_reportable(target: Target, region: Region, *, allowed: bool, shares: Shares) -> None:
    """Whether a figure of ``target`` may be entered for ``region`` at all: ``allowed`` (the
    actor may report the target and the region is in scope), the region owes the target's
    figures (``shares``: the target's allocations, at least the region's) and they are
    reported, not computed."""
    if target.retired_on is not None:
        raise ServiceError(
            "retired", _("指标“%(name)s”已停用，不再填报") % {"name": target.name}, field="target"
        )
    if not allowed:
        raise _out_of_scope()
    if not owes_region(target, region.pk, shares):
        raise ServiceError(
            "region_not_owed",
            _("%(name)s不承担该指标，无需填报") % {"name": region.name},
            field="region",
        )
    if target.feed != Feed.REPORTS:
        raise ServiceError(
            "not_reported", _("该指标的实际值由系统计算（公式或台账），无需填报"), field="value"
        )


def _check_may_report(actor, target: Target, region: Region) -> None:
    check_plan_writable(target.plan)
    region_in_scope = _may_report_in(actor, region)
    allowed = allows(actor, target, REPORT) and region_in_scope
    _check_reportable(target, region, allowed=allowed, shares=_shares_of(target, region.pk))


def owed_targets(
    actor, plan: Plan, region: Region, period: str, *, related: Sequence[str] = ()
) -> tuple[list[Target], dict[int, Shares]]:
    """The targets of ``plan`` that ``actor`` reports for ``region`` in ``period`` — one row
    each in the figures template — in the plan's order, each with ``plan`` attached (and the
    ``related`` objects selected), and their shares allocated to ``region``
    (``allocated_shares``). Two queries whatever the number of targets: the importer checks
    thousands of rows against it."""
    shares = allocated_shares([plan.pk], region.pk) if scope_of(actor).covers(region) else {}
    targets = list(iter_owed_targets(actor, plan, region, period, shares, related=related))
    return targets, shares


def iter_owed_targets(
    actor,
    plan: Plan,
    region: Region,
    period: str,
    shares: dict[int, Shares],
    *,
    related: Sequence[str] = (),
    chunk_size: int = 2000,
) -> Iterator[Target]:
    """``owed_targets`` one at a time, read through a server-side cursor (``shares``: from
    ``allocated_shares([plan.pk], region.pk)``), so that a caller keeping only what it needs
    of each (the Excel import, thousands of rows) never holds them all."""
    if not scope_of(actor).covers(region):
        return
    query = _reportable(actor, plan)
    if related:  # select_related() without names would follow every relation
        query = query.select_related(*related)
    for target in query.iterator(chunk_size=chunk_size):
        if _owes(target, region, period, plan, shares):
            target.plan = plan
            yield target


class OwedRow(NamedTuple):
    """What ``iter_owed_rows`` gives of a target owed: the fields the reporting rules read
    (``parse_value``, ``unusual``, ``owes_region``, ``owes_period``), no model instance."""

    pk: int
    name: str
    measure_unit: str
    region_id: int
    target_value: Decimal | None
    target_year: int | None
    retired_on: datetime.date | None


def iter_owed_rows(
    actor, plan: Plan, region: Region, period: str, shares: dict[int, Shares]
) -> Iterator[OwedRow]:
    """``iter_owed_targets`` as plain rows (``OwedRow``), by the same query and rule: for a
    caller checking thousands of rows (the Excel import), a model instance per target costs
    more than the check."""
    if not scope_of(actor).covers(region):
        return
    rows = _reportable(actor, plan).values_list(*OwedRow._fields).iterator(chunk_size=2000)
    for row in map(OwedRow._make, rows):
        if _owes(row, region, period, plan, shares):
            yield row


def _reportable(actor, plan: Plan):
    """The report-fed targets of ``plan`` the actor may report, in the plan's order."""
    query = Target.objects.for_user(actor, REPORT).filter(plan=plan, feed=Feed.REPORTS)
    return query.order_by("order", "pk")


def _owes(target, region: Region, period: str, plan: Plan, shares: dict[int, Shares]) -> bool:
    return owes_region(target, region.pk, shares.get(target.pk, {})) and owes_period(
        target, period, plan
    )


# ------------------------------------------------------------------------------ plausibility


def unusual(
    target: Target, region_id: int, value: Decimal, previous: Decimal | None, shares: Shares
) -> list[str]:
    """Why a figure needs a confirming comment: far from the previous approved figure, or
    many times the region's goal (not a refusal)."""
    warnings = []
    if previous:
        jump = abs(value - previous) / previous
        if jump > JUMP_RATIO:
            warnings.append(
                _("与上期审核值 %(previous)s 相差 %(percent)s%%，请说明原因")
                % {"previous": f"{previous.normalize():f}", "percent": f"{jump * 100:.0f}"}
            )
    goal = region_goal(target, region_id, shares)
    if goal and value > goal * TIMES_TARGET:
        warnings.append(
            _("数值超过目标值 %(goal)s 的 %(times)s 倍，请确认")
            % {"goal": f"{goal.normalize():f}", "times": TIMES_TARGET}
        )
    return warnings


def plausibility(target: Target, region: Region, period: str, value: Decimal) -> Plausibility:
    previous = (
        ProgressReport.objects.filter(
            target=target, region=region, status=ReportStatus.APPROVED, period__lt=period
        )
        .order_by("-period")
        .values_list("value", flat=True)
        .first()
    )
    return Plausibility(unusual(target, region.pk, value, previous, _shares_of(target, region.pk)))


def previous_figures(
    region: Region, period: str, plan_ids: Iterable[int], target_ids: Iterable[int] | None = None
) -> dict[int, Decimal]:
    """The last approved figure before ``period`` in ``region`` of each target of these
    plans (or of just ``target_ids``; one query): what ``plausibility`` compares with."""
    rows = ProgressReport.objects.filter(
        target__plan_id__in=list(plan_ids),
        region=region,
        status=ReportStatus.APPROVED,
        period__lt=period,
    )
    if target_ids is not None:
        rows = rows.filter(target_id__in=list(target_ids))
    rows = rows.order_by("target_id", "period").values_list("target_id", "value")
    return dict(rows)  # ascending periods: the last one of a target wins


# ------------------------------------------------------------------------------ writes


def _check_value(number: Decimal | None, submit: bool) -> None:
    if submit and number is None:
        raise ServiceError("value_required", _("提交前请填写数值"), field="value")


def _check_editable(report: ProgressReport) -> None:
    if report.status not in EDITABLE:
        raise ServiceError(
            "not_editable",
            _("该报送当前为“%(get_status_display)s”，不能修改")
            % {"get_status_display": report.get_status_display()},
        )


def _check_new(version: int | None) -> None:
    if version not in (None, 0):
        raise ServiceError("stale_edit", _("该报送已被删除，请刷新后重试"))


def _check_unchanged(report: ProgressReport, version: int | None) -> None:
    """The version the user saw: 0 (no figure yet) when one exists is ``ReportExists``,
    another version ``StaleEdit``; None (an internal caller) checks nothing."""
    if version == 0:
        raise ReportExists(report)
    if version is not None and report.version != version:
        raise StaleEdit(report)


def _save_reason(submit: bool) -> str:
    return "提交" if submit else "保存草稿"


def _changes(
    *, actor, number, note: str, confirm_note: str, submit: bool, now: datetime.datetime
) -> dict[str, object]:
    """What saving a figure writes (field → value), besides ``updated_at`` and the version.
    ``now``: the submission time, one per call of the service (the figures of one call are
    submitted together; the set-wise insert sends a single value, not one per row)."""
    changes = {"value": number, "note": note, "confirm_note": confirm_note, "submitted_by": actor}
    if submit:
        changes["status"] = ReportStatus.SUBMITTED
        changes["submitted_at"] = now
    return changes


# The target fields the checks of a figure read (``_checked_changes``: scope, who owes it,
# its value, plausibility, the messages) — a caller loading thousands of targets for
# ``save_reports`` may load only these (``Target.objects.only(*REPORTING_FIELDS)``).
# ``tests/reports/test_import_scale.py`` counts the queries of such a call for n and 5n rows.
REPORTING_FIELDS = (
    "id", "plan_id", "name", "region_id", "retired_on", "feed", "measure_unit", "target_value",
    "target_year",
)  # fmt: skip


@dataclass
class ReportEntry:
    """One figure for ``save_reports``: what ``save_report`` takes for one target."""

    target: Target
    value: object
    note: str = ""
    confirm_note: str = ""
    version: int | None = None


@dataclass
class SavedReports:
    report_ids: list[int]  # the reports written, in the order of the entries
    evidence: list[Evidence]  # the files stored, each linked to every report written


# Rows per UPDATE statement where Django's bulk_update is used (not PostgreSQL): it writes one
# CASE per field, whose cost grows with the rows of a statement.
UPDATE_BATCH = 500


@transaction.atomic
def save_report(
    *,
    actor,
    target: Target,
    region: Region,
    period: str,
    value,
    note: str = "",
    confirm_note: str = "",
    evidence: Sequence = (),
    version: int | None = None,
    submit: bool = False,
) -> ProgressReport:
    """Create or change a draft (or returned) report; with ``submit`` also submit it. The
    checks are ``save_reports``' for one entry (``_checked_changes``); the one row is written
    through the model (its history row by django-simple-history)."""
    entry = ReportEntry(target, value, note=note, confirm_note=confirm_note, version=version)
    created, changed = _checked_changes(
        actor=actor, region=region, period=period, entries=[entry], submit=submit,
        evidence=evidence,
    )  # fmt: skip
    if created:
        [(_, changes)] = created
        report = ProgressReport(target=target, region=region, period=period, **changes)
        report.version = 1
        report._history_user = actor
        report._change_reason = _save_reason(submit)
        try:
            with transaction.atomic():  # a savepoint: the refusal below is a clean answer
                report.save()
        except IntegrityError as error:
            # Another request created the figure after we looked (both saw none): it won.
            if sqlstate(error) != UNIQUE_VIOLATION:
                raise
            raise _report_exists(target.pk, region, period) from None
    else:
        [(report, changes)] = changed
        for name, new in changes.items():
            setattr(report, name, new)
        save_versioned(report, [*changes, "updated_at"], actor=actor, reason=_save_reason(submit))
    stored = [store_evidence(upload, actor=actor) for upload in evidence]
    if stored:
        report.evidence.add(*stored)
    return report


@transaction.atomic
def save_reports(
    *,
    actor,
    region: Region,
    period: str,
    entries: Sequence[ReportEntry],
    submit: bool = False,
    confirm_unusual: str = "",
    evidence: Sequence = (),
) -> SavedReports:
    """``save_report`` for many targets of one region and period at once, all or none (the
    Excel import): the same checks (``_checked_changes``), then one insert, one update, their
    history rows and the evidence links, each one statement — a fixed number of queries
    whatever the number of entries.

    An unusual figure without its own confirming comment takes ``confirm_unusual`` when given
    (the note typed on the import's preview page), and raises ``NeedsConfirmation``
    otherwise. The evidence files are stored once the figures are written, and linked to
    every report written; an ``Evidence`` record among them (already stored by an earlier call:
    a workbook written in chunks of rows keeps its file once) is linked, not stored again.
    """
    if not entries:
        return SavedReports([], [])
    created, changed = _checked_changes(
        actor=actor, region=region, period=period, entries=entries, submit=submit,
        confirm_unusual=confirm_unusual, evidence=evidence,
    )  # fmt: skip
    written = _write_reports(
        region,
        period,
        created,
        changed,
        actor=actor,
        reason=_save_reason(submit),
        now=timezone.now(),
    )
    for index, entry in enumerate(entries):
        if entry.target.pk not in written:  # created by someone else meanwhile
            with _entry(index):
                raise _report_exists(entry.target.pk, region, period)
    report_ids = [written[entry.target.pk] for entry in entries]
    stored = [
        upload if isinstance(upload, Evidence) else store_evidence(upload, actor=actor)
        for upload in evidence
    ]
    _link_evidence(report_ids, stored)
    return SavedReports(report_ids, stored)


@contextmanager
def _entry(index: int) -> Iterator[None]:
    """Name the entry a refusal is about (``error.entry``: its index)."""
    try:
        yield
    except ServiceError as error:
        error.entry = index
        raise


# Up to this many figures in one call are read by target id, more by plan.
FEW_ENTRIES = 100


def _checked_changes(
    *,
    actor,
    region: Region,
    period: str,
    entries: Sequence[ReportEntry],
    submit: bool,
    confirm_unusual: str = "",
    evidence: Sequence = (),
) -> tuple[list[tuple[int, dict]], list[tuple[ProgressReport, dict]]]:
    """The checks of every figure saved, whichever way it comes in (``save_report``,
    ``save_reports``), and what to write: (target id, changes) of the reports to create,
    (report, changes) of those to change — the existing ones locked (SELECT … FOR UPDATE).
    A fixed number of queries whatever the number of entries: the targets the actor may
    report, their allocations to the region, the periods, the existing reports and the
    previous approved figures (once a figure needs them).

    The checks, in this order; the first refusal refuses the whole call, its ``entry``
    attribute set to the entry's index:

    1. each entry: the actor may report the target in the region, the region owes its figures
       and they are reported (``_check_reportable``), the period is open (``_open_periods``);
    2. the evidence files — before anything is stored, as a stored file would not roll back;
    3. each entry: its value (``parse_value``), a value when submitting, the same target
       twice, the version the user saw (``StaleEdit``, as ``lock_for_edit``) and whether the
       report may still be changed, then plausibility (``unusual``; ``NeedsConfirmation``
       unless the entry or ``confirm_unusual`` explains it).
    """
    if not _may_report_in(actor, region):
        with _entry(0):  # every entry is refused so: the first one names the refusal
            raise _out_of_scope()
    targets = [entry.target for entry in entries]
    prefetch_related_objects([t for t in targets if not Target.plan.is_cached(t)], "plan")
    plans = {t.plan_id: t.plan for t in targets}
    for index, target in enumerate(targets):
        with _entry(index):
            check_plan_writable(target.plan)
    # A few figures (a form, the API) read just their targets; a workbook reads by plan rather
    # than by a list of thousands of target ids (each id a parameter).
    few = [t.pk for t in targets] if len(targets) <= FEW_ENTRIES else None
    reportable = Target.objects.for_user(actor, REPORT).filter(plan_id__in=plans)
    if few is not None:
        reportable = reportable.filter(pk__in=few)
    reportable = set(reportable.values_list("pk", flat=True))
    shares = allocated_shares(plans, region.pk)
    periods = _open_periods(plans, region, period)
    for index, target in enumerate(targets):
        with _entry(index):
            allowed = target.pk in reportable
            _check_reportable(target, region, allowed=allowed, shares=shares.get(target.pk, {}))
            if isinstance(periods[target.plan_id], ServiceError):
                raise periods[target.plan_id]
    for upload in evidence:
        if not isinstance(upload, Evidence):  # a stored record was checked when stored
            check_evidence_file(upload)

    # Read when the first figure needs them (a refused value reads neither).
    @functools.cache
    def existing() -> dict[int, ProgressReport]:
        return _lock_reports(plans, {t.pk for t in targets}, region, period)

    @functools.cache
    def previous() -> dict[int, Decimal]:
        return previous_figures(region, period, plans, target_ids=few)

    confirm_unusual = confirm_unusual.strip()
    now = timezone.now()
    created: list[tuple[int, dict]] = []
    changed: list[tuple[ProgressReport, dict]] = []
    seen: set[int] = set()
    for index, entry in enumerate(entries):
        target = entry.target
        with _entry(index):
            number = parse_value(entry.value, target)
            _check_value(number, submit)
            if target.pk in seen:
                raise ServiceError("duplicate", _("同一指标在本次填报中出现了两次"))
            seen.add(target.pk)
            report = existing().get(target.pk)
            if report is not None:
                _check_unchanged(report, entry.version)
                _check_editable(report)
            else:
                _check_new(entry.version)
            _check_note_lengths(entry.note, entry.confirm_note)
            confirm_note = entry.confirm_note.strip()
            if number is not None and not confirm_note:
                warnings = unusual(
                    target, region.pk, number, previous().get(target.pk), shares.get(target.pk, {})
                )
                if warnings and not confirm_unusual:
                    raise NeedsConfirmation(warnings)
                if warnings:
                    confirm_note = confirm_unusual
        changes = _changes(
            actor=actor, number=number, note=entry.note, confirm_note=confirm_note,
            submit=submit, now=now,
        )  # fmt: skip
        if report is None:
            created.append((target.pk, changes))
        else:
            changed.append((report, changes))
    return created, changed


# Set-wise writes for ``save_reports``. On PostgreSQL each is one statement fed by arrays (a
# parameter a column, not one a cell): the rows inserted or updated FROM unnest(…), their
# history rows inserted from the same statement's RETURNING (a data-modifying WITH), the
# evidence links from one array. Elsewhere (SQLite, for trying the product out)
# django-simple-history's bulk_create_with_history / bulk_update_with_history. At 10 000
# rows Django's bulk_create alone spends seconds preparing 160 000 parameters, the unnest
# insert a tenth of that.


def _write_reports(
    region: Region,
    period: str,
    created: list[tuple[int, dict]],
    changed: list[tuple[ProgressReport, dict]],
    *,
    actor,
    reason: str,
    now: datetime.datetime,
) -> dict[int, int]:
    """Insert the new reports (version 1) and update the changed ones (version + 1), each
    with its history row; returns target id → report id."""
    names = [*(created or changed)[0][1], "updated_at", "version"] if created or changed else []
    if connection.vendor == "postgresql":
        return _write_postgresql(
            region, period, created, changed, names, actor=actor, reason=reason, now=now
        )
    history = {"default_user": actor, "default_change_reason": reason, "default_date": now}
    reports = [
        ProgressReport(target_id=target_id, region=region, period=period, version=1, **changes)
        for target_id, changes in created
    ]
    if reports:
        bulk_create_with_history(reports, ProgressReport, **history)
    for report, changes in changed:
        for name, new in changes.items():
            setattr(report, name, new)
        report.updated_at, report.version = now, report.version + 1
    if changed:
        updated = [report for report, _ in changed]
        bulk_update_with_history(
            updated, ProgressReport, names, batch_size=UPDATE_BATCH, **history
        )  # fmt: skip
    return {report.target_id: report.pk for report in [*reports, *(r for r, _ in changed)]}


def _write_postgresql(region, period, created, changed, names, *, actor, reason, now):
    meta, quote = ProgressReport._meta, connection.ops.quote_name
    written: dict[int, int] = {}
    if created:
        template = ProgressReport(region=region, period=period, version=1)
        columns = {}
        for column in meta.concrete_fields:
            if column.primary_key:
                continue
            if column.attname == "target_id":
                columns[column] = [target_id for target_id, _ in created]
            elif column.name in created[0][1]:
                columns[column] = [changes[column.name] for _, changes in created]
            else:
                columns[column] = column.pre_save(template, add=True)  # defaults, auto_now
        select, params = _unnest_select(columns)
        listed = ", ".join(quote(c.column) for c in columns)
        # A report created by another transaction since ``_lock_reports`` looked is left alone
        # (the INSERT waits for that transaction): save_reports refuses the entry.
        unique = ", ".join(quote(meta.get_field(n).column) for n in ("target", "region", "period"))
        insert = (
            f"INSERT INTO {meta.db_table} ({listed}) {select} "
            f"ON CONFLICT ({unique}) DO NOTHING RETURNING *"
        )
        written |= _with_history(insert, params, "+", actor=actor, reason=reason, now=now)
    if changed:
        columns = {meta.pk: [report.pk for report, _ in changed]}
        for name in names:
            if name == "version":
                columns[meta.get_field(name)] = [report.version + 1 for report, _ in changed]
            elif name == "updated_at":
                columns[meta.get_field(name)] = now
            else:
                columns[meta.get_field(name)] = [changes[name] for _, changes in changed]
        select, params = _unnest_select(columns, named=True)
        pk = quote(meta.pk.column)
        assignments = ", ".join(
            f"{quote(c.column)} = u.{quote(c.column)}" for c in columns if not c.primary_key
        )
        update = (
            f"UPDATE {meta.db_table} AS r SET {assignments} FROM ({select}) AS u "
            f"WHERE r.{pk} = u.{pk} RETURNING r.*"
        )
        written |= _with_history(update, params, "~", actor=actor, reason=reason, now=now)
    return written


def _with_history(statement: str, params: list, kind: str, *, actor, reason, now) -> dict:
    """Run an INSERT or UPDATE … RETURNING * on the reports and insert a history row for
    every row it wrote, in the same statement; returns target id → report id."""
    history = ProgressReport.history.model
    quote = connection.ops.quote_name
    tracked = history.tracked_fields
    columns = [history._meta.get_field(f.name).column for f in tracked] + [
        history._meta.get_field(name).column
        for name in ("history_date", "history_change_reason", "history_type", "history_user")
    ]
    pk = quote(ProgressReport._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH written AS ({statement}), logged AS ("
            f"INSERT INTO {quote(history._meta.db_table)} "
            f"({', '.join(quote(c) for c in columns)}) "
            f"SELECT {', '.join(quote(f.column) for f in tracked)}, %s, %s, %s, %s FROM written"
            f") SELECT {pk}, target_id FROM written",
            [*params, now, reason, kind, actor.pk],
        )
        return {target_id: report_id for report_id, target_id in cursor.fetchall()}


def _unnest_select(columns: dict, *, named: bool = False) -> tuple[str, list]:
    """SELECT one row per element of the list-valued columns (zipped by unnest) with the
    other columns' single value on every row, each cast to its column's type (and named
    after it when ``named``). A list whose elements are all equal is sent as one value."""
    quote = connection.ops.quote_name
    selected, params, arrays, array_params = [], [], [], []
    for column, value in columns.items():
        db_type = column.db_type(connection)
        name = f" AS {quote(column.column)}" if named else ""
        if isinstance(value, list) and any(v != value[0] for v in value):
            arrays.append(f"%s::{db_type}[]")
            array_params.append([v.pk if isinstance(v, models.Model) else v for v in value])
            selected.append(f"a.c{len(arrays)}{name}")
        else:
            one = value[0] if isinstance(value, list) else value
            if isinstance(one, models.Model):
                one = one.pk
            selected.append(f"CAST(%s AS {db_type}){name}")
            params.append(column.get_db_prep_save(one, connection))
    names = ", ".join(f"c{n}" for n in range(1, len(arrays) + 1))
    source = f" FROM unnest({', '.join(arrays)}) AS a({names})" if arrays else ""
    return f"SELECT {', '.join(selected)}{source}", params + array_params


def _link_evidence(report_ids: list[int], evidence: list[Evidence]) -> None:
    """Link every stored file to every report, in one statement (links already there are
    kept)."""
    if not evidence:
        return
    link = ProgressReport.evidence.through
    if connection.vendor != "postgresql":
        link.objects.bulk_create(
            [
                link(progressreport_id=pk, evidence_id=item.pk)
                for item in evidence
                for pk in report_ids
            ],
            ignore_conflicts=True,
        )
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(link._meta.db_table)} (progressreport_id, evidence_id) "
            "SELECT report, item FROM unnest(%s::bigint[]) AS item "
            "CROSS JOIN unnest(%s::bigint[]) AS report ON CONFLICT DO NOTHING",
            [[item.pk for item in evidence], report_ids],
        )


def _lock_reports(
    plan_ids: Iterable[int], target_ids: set[int], region: Region, period: str
) -> dict[int, ProgressReport]:
    """The existing reports of these targets, locked for this transaction (SELECT … FOR
    UPDATE, as ``lock_for_edit``): target id → report."""
    found = ProgressReport.objects.filter(
        target__plan_id__in=list(plan_ids), region=region, period=period
    ).values_list("pk", "target_id")
    wanted = [pk for pk, target_id in found if target_id in target_ids]
    if not wanted:
        return {}
    return {
        r.target_id: r for r in ProgressReport.objects.select_for_update().filter(pk__in=wanted)
    }


def _open_periods(
    plans: dict[int, Plan], region: Region, period: str
) -> dict[int, ReportingPeriod | ServiceError]:
    """``_check_open`` for each plan at once: its open reporting period, or the refusal."""
    found: dict[int, ReportingPeriod | ServiceError] = {}
    for plan_id, plan in plans.items():
        try:
            _check_period_in_plan(plan, period)
        except ServiceError as error:
            found[plan_id] = error
    wanted = [plan_id for plan_id in plans if plan_id not in found]
    opened = {
        p.plan_id: p for p in ReportingPeriod.objects.filter(plan_id__in=wanted, period=period)
    }
    for plan_id in wanted:
        reporting = opened.get(plan_id)
        if reporting is None:
            found[plan_id] = _period_not_open(period)
        else:
            found[plan_id] = locked_error(reporting, region) or reporting
    return found


@transaction.atomic
def attach_evidence(report: ProgressReport, files: Sequence, *, actor) -> ProgressReport:
    """Add evidence to a report that is not yet approved (approved figures are locked)."""
    _check_may_report(actor, report.target, report.region)
    report = lock_for_edit(ProgressReport, report.pk, None)
    if report.status == ReportStatus.APPROVED:
        raise ServiceError("not_editable", _("已审核的报送不能再添加佐证材料，请先重新打开"))
    _attach(report, files, actor)
    return report


def _attach(report, files: Iterable, actor) -> None:
    files = list(files)
    for upload in files:
        check_evidence_file(upload)
    stored = [store_evidence(upload, actor=actor) for upload in files]
    if stored:
        report.evidence.add(*stored)


def _transition(report: ProgressReport, *, actor, version, allowed: set[str], to: str, reason: str):
    report = lock_for_edit(ProgressReport, report.pk, version)
    _move(report, allowed, to)
    return report


def _move(report: ProgressReport, allowed: set[str], to: str) -> None:
    """The status change of a locked report, refused from any status but ``allowed``."""
    if report.status not in allowed:
        labels = "、".join(str(ReportStatus(s).label) for s in allowed)
        raise ServiceError(
            "bad_transition",
            _("该报送当前为“%(get_status_display)s”，只有“%(labels)s”的报送才能执行此操作")
            % {"get_status_display": report.get_status_display(), "labels": labels},
        )
    report.status = to


@transaction.atomic
def submit_report(report: ProgressReport, *, actor, version: int | None = None) -> ProgressReport:
    _check_may_report(actor, report.target, report.region)
    _check_open(report.target, report.region, report.period)
    if report.value is None:
        raise ServiceError("value_required", _("提交前请填写数值"), field="value")
    report = _transition(
        report, actor=actor, version=version, allowed=EDITABLE, to=ReportStatus.SUBMITTED, reason=""
    )
    report.submitted_by, report.submitted_at = actor, timezone.now()
    save_versioned(report, ["status", "submitted_by", "submitted_at"], actor=actor, reason="提交")
    return report


def _check_may_review(actor, report: ProgressReport) -> None:
    check_plan_writable(report.target.plan)
    require(actor, APPROVE)
    if not allows(actor, report, APPROVE):
        raise NotAllowed("out_of_scope", _("该报送不在您的审核范围内"))


class OwnSubmission(ServiceError):
    """Four eyes (``settings.FOUR_EYES``, on by default): whoever submitted a figure does not
    approve or return it; another reviewer does. A ServiceError, not NotAllowed: the pages
    show the message rather than a bare 403 page (the API answers 403 all the same)."""

    status_code = 403

    def __init__(self, report: ProgressReport):
        super().__init__(
            "own_submission",
            _("不能审核本人提交的报送（%(name)s），请由其他审核人员审核")
            % {"name": report_label(report)},
        )


def report_label(report: ProgressReport) -> str:
    """Which figure a refusal is about: 「新建消防站 南召县 2024」."""
    return f"{report.target.name} {report.region.name} {report.period}"


def _review_reason(report: ProgressReport, actor, reason: str) -> str:
    """The reviewing history row's reason; with four eyes off, it says when the reviewer
    is also the submitter (who did both is then on record)."""
    if report.submitted_by_id is not None and report.submitted_by_id == actor.pk:
        return _("%(reason)s（本人提交，本人审核）") % {"reason": reason}
    return reason


def own_submission(report: ProgressReport, actor) -> bool:
    """Four eyes forbid ``actor`` to review this figure: they submitted it."""
    return bool(settings.FOUR_EYES) and report.submitted_by_id == actor.pk


def _check_four_eyes(report: ProgressReport, actor) -> None:
    if own_submission(report, actor):
        raise OwnSubmission(report)


def _check_seen(report: ProgressReport, version: int | None) -> None:
    """A review acts on the figure the reviewer saw: another version (the figure returned and
    submitted again, say) is refused, naming the figure and who changed it."""
    if version is not None and report.version != version:
        raise StaleReview(report)


class StaleReview(StaleEdit):
    def __init__(self, report: ProgressReport):
        super().__init__(report)
        detail = (
            _("%(who)s 于 %(when)s 修改")
            % {"who": self.changed_by, "when": f"{self.changed_at:%Y-%m-%d %H:%M}"}
            if self.changed_at
            else _("已被修改")
        )
        self.message = _(
            "%(name)s 在您查看后已变动（%(detail)s，现为版本 %(version)s，数值 %(value)s），"
            "请刷新后核对再审核"
        ) % {
            "name": report_label(report),
            "detail": detail,
            "version": report.version,
            "value": "—" if report.value is None else f"{report.value.normalize():f}",
        }
        self.args = (self.message,)


def _review(report: ProgressReport, *, actor, version: int | None, to: str) -> ProgressReport:
    """Lock the report, then check it is the figure the reviewer saw (``version``), that it
    awaits review and that the reviewer did not submit it (four eyes)."""
    locked = lock_for_edit(ProgressReport, report.pk, None)
    _check_seen(locked, version)
    _move(locked, {ReportStatus.SUBMITTED}, to)  # locked once: not through ``_transition``
    _check_four_eyes(locked, actor)
    return locked


@transaction.atomic
def approve_report(report: ProgressReport, *, actor, version: int | None = None) -> ProgressReport:
    """Approve a submitted figure: the version the reviewer saw (every door sends it; None
    only for internal callers), four eyes unless ``settings.FOUR_EYES`` is off."""
    _check_may_review(actor, report)
    report = _review(report, actor=actor, version=version, to=ReportStatus.APPROVED)
    report.reviewed_by, report.reviewed_at, report.return_reason = actor, timezone.now(), ""
    save_versioned(
        report,
        ["status", "reviewed_by", "reviewed_at", "return_reason"],
        actor=actor,
        reason=_review_reason(report, actor, "审核通过"),
    )
    return report


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", _("请填写理由"), field="reason")
    return reason[:2000]


@transaction.atomic
def return_report(
    report: ProgressReport, *, actor, reason: str, version: int | None = None
) -> ProgressReport:
    _check_may_review(actor, report)
    reason = _reason(reason)
    report = _review(report, actor=actor, version=version, to=ReportStatus.RETURNED)
    report.reviewed_by, report.reviewed_at, report.return_reason = actor, timezone.now(), reason
    save_versioned(
        report,
        ["status", "reviewed_by", "reviewed_at", "return_reason"],
        actor=actor,
        reason=_review_reason(report, actor, "退回"),
    )
    return report


@transaction.atomic
def reopen_report(
    report: ProgressReport, *, actor, reason: str, version: int | None = None
) -> ProgressReport:
    """Unlock an approved figure (staff only): back to returned, with the reason recorded."""
    _check_may_review(actor, report)
    reason = _reason(reason)
    report = _transition(
        report,
        actor=actor,
        version=version,
        allowed={ReportStatus.APPROVED},
        to=ReportStatus.RETURNED,
        reason=reason,
    )
    report.return_reason = f"重新打开：{reason}"
    report.reviewed_by, report.reviewed_at = actor, timezone.now()
    save_versioned(
        report,
        ["status", "return_reason", "reviewed_by", "reviewed_at"],
        actor=actor,
        reason="重新打开",
    )
    return report


@transaction.atomic
def bulk_approve(reports: Iterable[tuple[ProgressReport, int]], *, actor) -> int:
    """Approve several submitted reports, each with the version the reviewer saw in the
    inbox; all or none (one refusal — a stale version, one's own submission — aborts the
    batch and names the report)."""
    count = 0
    for report, version in reports:
        approve_report(report, actor=actor, version=version)
        count += 1
    return count


@transaction.atomic
def save_contribution(
    *, actor, target: Target, region: Region, period: str, value, note: str = "", evidence=()
) -> ReportContribution:
    """A supporting unit's figure; the lead unit sees it when consolidating."""
    scope = scope_of(actor)
    if scope.unit_id is None:
        raise ServiceError("no_unit", _("您的账号未绑定责任单位，无法作为配合单位报送"))
    _check_may_report(actor, target, region)
    _check_open(target, region, period)
    number = parse_value(value, target)
    _check_note_lengths(note)
    contribution, _created = ReportContribution.objects.select_for_update().get_or_create(
        target=target, region=region, period=period, unit_id=scope.unit_id
    )
    contribution.value, contribution.note, contribution.submitted_by = number, note, actor
    contribution._history_user = actor
    contribution.save()
    stored = [store_evidence(upload, actor=actor) for upload in evidence]
    if stored:
        contribution.evidence.add(*stored)
    return contribution


# ------------------------------------------------------------------------------ periods


@transaction.atomic
def open_period(
    *, actor, plan, period: str, due_on: datetime.date, locks_on: datetime.date
) -> ReportingPeriod:
    require(actor, CHANGE)
    if not allows(actor, plan, CHANGE):
        raise NotAllowed("out_of_scope", _("该规划不在您的管理范围内"))
    check_plan_writable(plan)
    if not is_valid_period(period):
        raise ServiceError("bad_period", _("期间格式应为 2022、2022H1 或 2022Q3"), field="period")
    if not plan.start_year <= int(period[:4]) <= plan.end_year:
        raise ServiceError(
            "period_outside_plan",
            _("期间 %(period)s 不在规划期内") % {"period": period},
            field="period",
        )
    if due_on > locks_on:
        raise ServiceError("bad_dates", _("截止日期不能晚于锁定日期"), field="due_on")
    if due_on < period_bounds(period)[0]:
        raise ServiceError("bad_dates", _("截止日期不能早于期间开始"), field="due_on")
    found, created = ReportingPeriod.objects.get_or_create(
        plan=plan,
        period=period,
        defaults={"due_on": due_on, "locks_on": locks_on, "created_by": actor},
    )
    if not created:
        found.due_on, found.locks_on = due_on, locks_on
        found._history_user = actor
        found.save(update_fields=["due_on", "locks_on"])
    return found


@transaction.atomic
def grant_lock_exception(
    *, actor, reporting_period: ReportingPeriod, region: Region, until: datetime.date, reason: str
) -> LockException:
    require(actor, CHANGE)
    if not scope_of(actor).covers(region):
        raise NotAllowed("out_of_scope", _("该区划不在您的管理范围内"))
    if not allows(actor, reporting_period.plan, VIEW):
        raise NotAllowed("out_of_scope", _("该规划不在您的管理范围内"))
    check_plan_writable(reporting_period.plan)
    reason = _reason(reason)
    if len(reason) > 255:
        raise ServiceError("too_long", _("理由不能超过 255 个字"), field="reason")
    if until < timezone.localdate():
        raise ServiceError("bad_dates", _("开放截止日期不能早于今天"), field="until")
    exception, _created = LockException.objects.update_or_create(
        reporting_period=reporting_period,
        region=region,
        defaults={"until": until, "reason": reason, "granted_by": actor},
    )
    return exception


def default_yearly_deadlines(year: int) -> tuple[datetime.date, datetime.date]:
    """Convention when staff open a yearly period without dates: figures for a year are due
    by 31 January of the next year and lock at the end of March."""
    return datetime.date(year + 1, 1, 31), datetime.date(year + 1, 3, 31)
