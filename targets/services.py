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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from accounts.scope import APPROVE, CHANGE, REPORT, VIEW, allows, require, scope_of
from fireplan.services import NotAllowed, ServiceError, lock_for_edit, save_versioned
from planning.evidence import check_evidence_file, store_evidence
from planning.models import Region

from .choices import Feed, ReportStatus
from .models import (
    LockException,
    ProgressReport,
    ReportContribution,
    ReportingPeriod,
    Target,
)
from .periods import is_valid_period, period_bounds

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


class NeedsConfirmation(ServiceError):
    """The figure is unusual; it is accepted once the reporter explains it."""

    def __init__(self, warnings: list[str]):
        super().__init__("confirmation_required", "；".join(warnings), field="confirm_note")
        self.warnings = warnings


# ------------------------------------------------------------------------------ parsing


def parse_value(raw, target: Target) -> Decimal | None:
    """A reported value as a number, with a message saying what is wrong and expected."""
    if raw is None or (isinstance(raw, str) and raw.strip() in {"", "—", "-", "－"}):
        return None
    if isinstance(raw, Decimal):
        value = raw
    else:
        try:
            value = Decimal(str(raw).strip().replace(",", ""))
        except InvalidOperation:
            raise ServiceError(
                "not_a_number", f"“{raw}”不是数字，应填写{_expected(target)}", field="value"
            ) from None
    if not value.is_finite():
        raise ServiceError("not_a_number", f"应填写{_expected(target)}", field="value")
    if value < 0:
        raise ServiceError("negative", f"不能为负数，应填写{_expected(target)}", field="value")
    if target.measure_unit == "%" and value > 100:
        raise ServiceError("out_of_range", "百分比应在 0 到 100 之间", field="value")
    if target.measure_unit == "‰" and value > 1000:
        raise ServiceError("out_of_range", "千分比应在 0 到 1000 之间", field="value")
    if target.measure_unit in COUNT_UNITS and value != value.to_integral_value():
        raise ServiceError(
            "not_whole", f"计量单位为“{target.measure_unit}”，应填写整数", field="value"
        )
    if abs(value) >= Decimal("1e14"):
        raise ServiceError("out_of_range", "数值过大", field="value")
    return value


def _expected(target: Target) -> str:
    unit = target.measure_unit or "（无单位）"
    if target.measure_unit == "%":
        return "0 到 100 之间的百分数"
    return f"不小于 0 的数字（单位：{unit}）"


# ------------------------------------------------------------------------------ periods


def reporting_period(target: Target, period: str) -> ReportingPeriod:
    if not is_valid_period(period):
        raise ServiceError("bad_period", "期间格式应为 2022、2022H1 或 2022Q3", field="period")
    plan = target.plan
    year = int(period[:4])
    if not plan.start_year <= year <= plan.end_year:
        raise ServiceError(
            "period_outside_plan",
            f"期间 {period} 不在规划期 {plan.start_year}—{plan.end_year} 内",
            field="period",
        )
    found = ReportingPeriod.objects.filter(plan_id=target.plan_id, period=period).first()
    if found is None:
        raise ServiceError("period_not_open", f"期间 {period} 尚未开放填报", field="period")
    return found


def is_locked(period: ReportingPeriod, region: Region, on: datetime.date | None = None) -> bool:
    """Locked after ``locks_on``, unless the region (or a region above it) has an exception."""
    on = on or timezone.localdate()
    if on <= period.locks_on:
        return False
    region_ids = [region.pk, *(r.pk for r in region.ancestors())]
    return not LockException.objects.filter(
        reporting_period=period, region_id__in=region_ids, until__gte=on
    ).exists()


def _check_open(target: Target, region: Region, period: str) -> ReportingPeriod:
    found = reporting_period(target, period)
    if is_locked(found, region):
        raise ServiceError(
            "period_locked",
            f"{period} 期间已于 {found.locks_on} 锁定，如需补报请联系委员会办公室开放",
            field="period",
        )
    return found


# ------------------------------------------------------------------------------ scope


def owed_regions(target: Target) -> set[int]:
    """Regions a figure may be reported for: the target's region and its allocations."""
    return {target.region_id, *(a.region_id for a in target.allocations.all())}


def _check_may_report(actor, target: Target, region: Region) -> None:
    require(actor, REPORT)
    scope = scope_of(actor)
    if not allows(actor, target, REPORT) or not (scope.everything or region.pk in scope.region_ids):
        raise NotAllowed("out_of_scope", "该指标或区划不在您的填报范围内")
    if region.pk not in owed_regions(target):
        raise ServiceError(
            "region_not_owed", f"{region.name}不承担该指标，无需填报", field="region"
        )
    if target.feed != Feed.REPORTS:
        raise ServiceError(
            "not_reported", "该指标的实际值由系统计算（公式或台账），无需填报", field="value"
        )


def plausibility(target: Target, region: Region, period: str, value: Decimal) -> Plausibility:
    result = Plausibility()
    previous = (
        ProgressReport.objects.filter(
            target=target, region=region, status=ReportStatus.APPROVED, period__lt=period
        )
        .order_by("-period")
        .values_list("value", flat=True)
        .first()
    )
    if previous:
        jump = abs(value - previous) / previous
        if jump > JUMP_RATIO:
            result.warnings.append(
                f"与上期审核值 {previous.normalize():f} 相差 {jump * 100:.0f}%，请说明原因"
            )
    goal = target.target_value
    if region.pk != target.region_id:
        # A county is compared with its own share (南召县: 3 of 南阳's 24), not the city's goal.
        share = next((a.value for a in target.allocations.all() if a.region_id == region.pk), None)
        goal = share if share is not None else goal
    if goal and value > goal * TIMES_TARGET:
        result.warnings.append(f"数值超过目标值 {goal.normalize():f} 的 {TIMES_TARGET} 倍，请确认")
    return result


# ------------------------------------------------------------------------------ writes


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
    """Create or change a draft (or returned) report; with ``submit`` also submit it."""
    _check_may_report(actor, target, region)
    _check_open(target, region, period)
    # Check every file before writing anything, so a bad second file leaves no stored first
    # file behind (the database rolls back; files on disk would not).
    for upload in evidence:
        check_evidence_file(upload)
    number = parse_value(value, target)
    if submit and number is None:
        raise ServiceError("value_required", "提交前请填写数值", field="value")
    existing = ProgressReport.objects.filter(target=target, region=region, period=period).first()
    if existing is not None:
        report = lock_for_edit(ProgressReport, existing.pk, version)
        if report.status not in EDITABLE:
            raise ServiceError(
                "not_editable",
                f"该报送当前为“{report.get_status_display()}”，不能修改",
            )
    else:
        if version not in (None, 0):
            raise ServiceError("stale_edit", "该报送已被删除，请刷新后重试")
        report = ProgressReport(target=target, region=region, period=period, version=0)
    if number is not None and not confirm_note.strip():
        check = plausibility(target, region, period, number)
        if check:
            raise NeedsConfirmation(check.warnings)
    report.value = number
    report.note = note
    report.confirm_note = confirm_note.strip()
    report.submitted_by = actor
    fields = ["value", "note", "confirm_note", "submitted_by", "updated_at"]
    if submit:
        report.status = ReportStatus.SUBMITTED
        report.submitted_at = timezone.now()
        fields += ["status", "submitted_at"]
    if report.pk is None:
        report.version = 1
        report._history_user = actor
        report._change_reason = "提交" if submit else "保存草稿"
        report.save()
    else:
        save_versioned(report, fields, actor=actor, reason="提交" if submit else "保存草稿")
    _attach(report, evidence, actor)
    return report


@transaction.atomic
def attach_evidence(report: ProgressReport, files: Sequence, *, actor) -> ProgressReport:
    """Add evidence to a report that is not yet approved (approved figures are locked)."""
    _check_may_report(actor, report.target, report.region)
    report = lock_for_edit(ProgressReport, report.pk, None)
    if report.status == ReportStatus.APPROVED:
        raise ServiceError("not_editable", "已审核的报送不能再添加佐证材料，请先重新打开")
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
    if report.status not in allowed:
        labels = "、".join(str(ReportStatus(s).label) for s in allowed)
        raise ServiceError(
            "bad_transition",
            f"该报送当前为“{report.get_status_display()}”，只有“{labels}”的报送才能执行此操作",
        )
    report.status = to
    return report


@transaction.atomic
def submit_report(report: ProgressReport, *, actor, version: int | None = None) -> ProgressReport:
    _check_may_report(actor, report.target, report.region)
    _check_open(report.target, report.region, report.period)
    if report.value is None:
        raise ServiceError("value_required", "提交前请填写数值", field="value")
    report = _transition(
        report, actor=actor, version=version, allowed=EDITABLE, to=ReportStatus.SUBMITTED, reason=""
    )
    report.submitted_by, report.submitted_at = actor, timezone.now()
    save_versioned(report, ["status", "submitted_by", "submitted_at"], actor=actor, reason="提交")
    return report


def _check_may_review(actor, report: ProgressReport) -> None:
    require(actor, APPROVE)
    if not allows(actor, report, APPROVE):
        raise NotAllowed("out_of_scope", "该报送不在您的审核范围内")


@transaction.atomic
def approve_report(report: ProgressReport, *, actor, version: int | None = None) -> ProgressReport:
    _check_may_review(actor, report)
    report = _transition(
        report,
        actor=actor,
        version=version,
        allowed={ReportStatus.SUBMITTED},
        to=ReportStatus.APPROVED,
        reason="",
    )
    report.reviewed_by, report.reviewed_at, report.return_reason = actor, timezone.now(), ""
    save_versioned(
        report,
        ["status", "reviewed_by", "reviewed_at", "return_reason"],
        actor=actor,
        reason="审核通过",
    )
    return report


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", "请填写理由", field="reason")
    return reason[:2000]


@transaction.atomic
def return_report(
    report: ProgressReport, *, actor, reason: str, version: int | None = None
) -> ProgressReport:
    _check_may_review(actor, report)
    reason = _reason(reason)
    report = _transition(
        report,
        actor=actor,
        version=version,
        allowed={ReportStatus.SUBMITTED},
        to=ReportStatus.RETURNED,
        reason=reason,
    )
    report.reviewed_by, report.reviewed_at, report.return_reason = actor, timezone.now(), reason
    save_versioned(
        report,
        ["status", "reviewed_by", "reviewed_at", "return_reason"],
        actor=actor,
        reason="退回",
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
def bulk_approve(reports: Iterable[ProgressReport], *, actor) -> int:
    """Approve several submitted reports; all or none (one refusal aborts the batch)."""
    count = 0
    for report in reports:
        approve_report(report, actor=actor)
        count += 1
    return count


@transaction.atomic
def save_contribution(
    *, actor, target: Target, region: Region, period: str, value, note: str = "", evidence=()
) -> ReportContribution:
    """A supporting unit's figure; the lead unit sees it when consolidating."""
    scope = scope_of(actor)
    if scope.unit_id is None:
        raise ServiceError("no_unit", "您的账号未绑定责任单位，无法作为配合单位报送")
    _check_may_report(actor, target, region)
    _check_open(target, region, period)
    number = parse_value(value, target)
    contribution, _ = ReportContribution.objects.select_for_update().get_or_create(
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
        raise NotAllowed("out_of_scope", "该规划不在您的管理范围内")
    if not is_valid_period(period):
        raise ServiceError("bad_period", "期间格式应为 2022、2022H1 或 2022Q3", field="period")
    if not plan.start_year <= int(period[:4]) <= plan.end_year:
        raise ServiceError("period_outside_plan", f"期间 {period} 不在规划期内", field="period")
    if due_on > locks_on:
        raise ServiceError("bad_dates", "截止日期不能晚于锁定日期", field="due_on")
    if due_on < period_bounds(period)[0]:
        raise ServiceError("bad_dates", "截止日期不能早于期间开始", field="due_on")
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
    scope = scope_of(actor)
    if not (scope.everything or region.pk in scope.region_ids):
        raise NotAllowed("out_of_scope", "该区划不在您的管理范围内")
    if not allows(actor, reporting_period.plan, VIEW):
        raise NotAllowed("out_of_scope", "该规划不在您的管理范围内")
    reason = _reason(reason)
    if len(reason) > 255:
        raise ServiceError("too_long", "理由不能超过 255 个字", field="reason")
    if until < timezone.localdate():
        raise ServiceError("bad_dates", "开放截止日期不能早于今天", field="until")
    exception, _ = LockException.objects.update_or_create(
        reporting_period=reporting_period,
        region=region,
        defaults={"until": until, "reason": reason, "granted_by": actor},
    )
    return exception


def default_yearly_deadlines(year: int) -> tuple[datetime.date, datetime.date]:
    """Convention when staff open a yearly period without dates: figures for a year are due
    by 31 January of the next year and lock at the end of March."""
    return datetime.date(year + 1, 1, 31), datetime.date(year + 1, 3, 31)
