"""Reminders (提醒): notices for each user about what they owe and what falls behind, and the
e-mail digest of the new ones. Run nightly by ``manage.py send_notices``.

Three kinds, each created once (``Notice.key`` is unique per user, so a rerun adds nothing):

info (blue)     a reporting deadline the user owes figures for is within ``DUE_SOON_DAYS``
                days and some are not submitted — one notice per period and deadline;
danger (red)    that deadline has passed and some are still not submitted (draft, returned or
                not started) — one notice per period and deadline;
warning (yellow) a target or task falls behind pace (status lagging or critical, see
                targets.rollups.StatusBoard) — one notice per item, status and year, so an
                item that worsens from lagging to critical is told again. Liaisons hear about
                the targets they report (for an allocated target, their region's share);
                staff, admins and supervisors about every target and task of the plans set in
                their region or below. Viewers get none.

"What they owe" is targets.owed.owed_items: the same list the user sees under 我的填报.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.choices import NoticeLevel
from accounts.models import Notice
from core.choices import Role
from core.scope import REPORT, VIEW, can, scope_of
from planning.choices import PlanStatus
from planning.models import Plan
from targets.choices import ProgressStatus, ReportStatus
from targets.models import Target
from targets.owed import NOT_STARTED, OwedItem, owed_items
from targets.rollups import StatusBoard
from targets.status import compute_allocations

DUE_SOON_DAYS = 7
NOT_SUBMITTED = {NOT_STARTED, ReportStatus.DRAFT, ReportStatus.RETURNED}
BEHIND = {ProgressStatus.LAGGING, ProgressStatus.CRITICAL}
OVERSEERS = {Role.ADMIN, Role.STAFF, Role.SUPERVISOR}
TEXT_MAX = Notice._meta.get_field("text").max_length
LEVEL_ORDER = [NoticeLevel.DANGER, NoticeLevel.WARNING, NoticeLevel.INFO]
LEVEL_HEADINGS = {
    NoticeLevel.DANGER: "【已逾期】",
    NoticeLevel.WARNING: "【进度滞后】",
    NoticeLevel.INFO: "【临近截止】",
}


@dataclass(frozen=True)
class Draft:
    level: str
    key: str
    text: str
    url: str = ""


def _url(name: str, *args) -> str:
    """The page's path, or "" while that page is not installed."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _clip(text: str) -> str:
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"


# ------------------------------------------------------------------------------ deadlines


def deadline_notices(items: Iterable[OwedItem], on: datetime.date) -> list[Draft]:
    """Blue for a deadline within the week, red for one passed; per reporting period."""
    pending: dict[int, list[OwedItem]] = defaultdict(list)
    for item in items:
        if item.state in NOT_SUBMITTED:
            pending[item.reporting_period.pk].append(item)
    drafts = []
    url = _url("targets:my_reports")
    for group in pending.values():
        period = group[0].reporting_period
        plan = group[0].target.plan
        stamp = f"{period.pk}:{period.due_on:%Y%m%d}"
        if period.due_on < on:
            locked = all(item.locked for item in group)
            tail = "，期间已锁定，如需补报请联系委员会办公室" if locked else "，请尽快补报"
            text = (
                f"{plan.title} {period.period} 期间填报已于 {period.due_on:%Y-%m-%d} 截止，"
                f"仍有 {len(group)} 项未提交{tail}"
            )
            drafts.append(Draft(NoticeLevel.DANGER, f"overdue:{stamp}", _clip(text), url))
        elif (period.due_on - on).days <= DUE_SOON_DAYS:
            days = (period.due_on - on).days
            left = f"还剩 {days} 天" if days else "今日截止"
            text = (
                f"{plan.title} {period.period} 期间填报将于 {period.due_on:%Y-%m-%d} 截止"
                f"（{left}），尚有 {len(group)} 项未提交"
            )
            drafts.append(Draft(NoticeLevel.INFO, f"due:{stamp}", _clip(text), url))
    return drafts


# ------------------------------------------------------------------------------ pace


def _target_text(target, region_name: str, status: str) -> str:
    label = ProgressStatus(status).label
    return _clip(f"{label}：{target.plan.title} · {target.name}（{region_name}）")


def pace_notices(user, board: StatusBoard, on: datetime.date) -> list[Draft]:
    """Yellow for targets and tasks behind pace that concern the user."""
    scope = scope_of(user)
    if scope.role == Role.LIAISON:
        return _liaison_pace(user, board, on)
    if scope.role not in OVERSEERS and not scope.everything:
        return []

    def mine(plan_id: int) -> bool:
        return scope.covers(board.plans[plan_id].region_id)

    drafts = []
    for target in board.targets:
        progress = board.target_progress[target.pk]
        if progress.status in BEHIND and mine(target.plan_id):
            drafts.append(
                Draft(
                    NoticeLevel.WARNING,
                    f"pace:target:{target.pk}:{progress.status}:{on.year}",
                    _target_text(target, target.region.name, progress.status),
                    _url("targets:target_detail", target.pk),
                )
            )
    for task in board.tasks:
        progress = board.task_progress[task.pk]
        if progress.status in BEHIND and mine(task.plan_id):
            label = ProgressStatus(progress.status).label
            plan = board.plans[task.plan_id]
            number = f"{task.number} " if task.number else ""
            drafts.append(
                Draft(
                    NoticeLevel.WARNING,
                    f"pace:task:{task.pk}:{progress.status}:{on.year}",
                    _clip(f"任务{label}：{plan.title} · {number}{task.title}"),
                    _url("reports:task_detail", task.pk),
                )
            )
    return drafts


def _liaison_pace(user, board: StatusBoard, on: datetime.date) -> list[Draft]:
    """The targets the liaison reports: their region's share when the target is allocated
    to it, otherwise the target itself."""
    scope = scope_of(user)
    owed = set(Target.objects.for_user(user, REPORT).values_list("pk", flat=True))
    drafts = []
    for target in board.targets:
        if target.pk not in owed:
            continue
        judged = [(target.region_id, board.target_progress[target.pk])]
        shares = compute_allocations(target, board.inputs, on=board.on, rules=board.rules)
        mine = [(a.region_id, p) for a, p in shares if scope.covers(a.region_id)]
        if mine:
            judged = mine
        elif not scope.covers(target.region_id):
            continue
        for region_id, progress in judged:
            if progress.status not in BEHIND:
                continue
            region_name = board.inputs.regions.names.get(region_id, "")
            drafts.append(
                Draft(
                    NoticeLevel.WARNING,
                    f"pace:target:{target.pk}:{region_id}:{progress.status}:{on.year}",
                    _target_text(target, region_name, progress.status),
                    _url("targets:target_detail", target.pk),
                )
            )
    return drafts


# ------------------------------------------------------------------------------ generate


def generate_notices(on: datetime.date | None = None) -> int:
    """Create the notices due at ``on`` (default today) for every active user with a
    profile; return how many were created. Notices that exist already (same user and key)
    are not created again."""
    on = on or timezone.localdate()
    User = get_user_model()
    users = list(
        User.objects.filter(is_active=True, profile__isnull=False)
        .select_related("profile")
        .order_by("pk")
    )
    if not users:
        return 0
    # One status board for every plan, built once; each user's share is picked in Python.
    board = StatusBoard(Plan.objects.exclude(status=PlanStatus.REFERENCE), on=on)
    candidates: list[Notice] = []
    for user in users:
        drafts = []
        if can(user, REPORT):
            drafts += deadline_notices(owed_items(user, on=on), on)
        if can(user, VIEW):
            drafts += pace_notices(user, board, on)
        candidates += [
            Notice(user=user, level=d.level, key=d.key, text=d.text, url=d.url) for d in drafts
        ]
    if not candidates:
        return 0
    existing = set(
        Notice.objects.filter(
            user__in=users, key__in={notice.key for notice in candidates}
        ).values_list("user_id", "key")
    )
    new = [n for n in candidates if (n.user_id, n.key) not in existing]
    with transaction.atomic():
        # ignore_conflicts: a run started in parallel may have created the same notice.
        Notice.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


# ------------------------------------------------------------------------------ e-mail


def digest_text(user, notices: list[Notice], base_url: str = "") -> str:
    name = user.get_full_name() or user.username
    lines = [f"{name}，您好：", "", f"消防规划跟踪系统有 {len(notices)} 条新提醒：", ""]
    for level in LEVEL_ORDER:
        group = [n for n in notices if n.level == level]
        if not group:
            continue
        lines.append(LEVEL_HEADINGS[level])
        for notice in group:
            lines.append(f"- {notice.text}")
            if notice.url:
                lines.append(f"  {base_url}{notice.url}")
        lines.append("")
    lines.append(f"查看全部提醒：{base_url}{reverse('accounts:notice_list')}")
    lines += ["", "（本邮件由系统自动发送，请勿直接回复）"]
    return "\n".join(lines)


def send_digests(*, base_url: str = "", now: datetime.datetime | None = None) -> tuple[int, list]:
    """E-mail every active user with an address one digest of their notices not yet
    e-mailed and not yet read, and stamp them ``emailed_at``. Returns (e-mails sent, users
    whose e-mail failed); a failed user's notices stay unstamped and go out next time."""
    now = now or timezone.now()
    pending = (
        Notice.objects.filter(emailed_at__isnull=True, read_at__isnull=True, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("user_id", "created_at", "pk")
    )
    by_user: dict[int, list[Notice]] = defaultdict(list)
    for notice in pending:
        by_user[notice.user_id].append(notice)
    sent, failed = 0, []
    for notices in by_user.values():
        user = notices[0].user
        message = EmailMessage(
            subject=f"【消防规划跟踪】您有 {len(notices)} 条新提醒",
            body=digest_text(user, notices, base_url),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[user.email],
        )
        try:
            message.send()
        except OSError as error:  # SMTP and socket errors; the others still get theirs
            failed.append((user, error))
            continue
        Notice.objects.filter(pk__in=[n.pk for n in notices]).update(emailed_at=now)
        sent += 1
    return sent, failed
