"""A first run with something to do (issue 21 item 4): four demo logins and work for each.

``setup_demo()`` builds, on a database holding the seed plans, every piece through the
services that own it (no row is written around them):

- four users (``accounts.services.create_user``): an admin and a staff member of 连州市, a
  liaison of 九陂镇, a supervisor of 连州市;
- the 十五五 draft of 连州's plan (``targets.successor.create_successor``), titled
  「【演示数据】…」, published (``planning.services.update_plan``: 实施中) with its 2026
  period open (``targets.services.open_period``, the yearly deadlines);
- a few of its targets split down to 九陂镇 (``targets.allocations.split_allocation``), so the
  town's liaison owes several figures;
- the liaison's figures (``targets.services.save_report`` / ``submit_report``), each marked
  ``is_demo`` at once (``core.services.save_versioned``: a history row 「演示数据」), two of
  them submitted and waiting for the staff's review, one returned by the staff with a reason
  (``return_report``: four eyes, the submitter is not the reviewer), the rest left to enter.

Idempotent: each step is skipped when what it makes is there, so a second run writes nothing
and prints the same logins. Demo data never goes into fixtures/.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import create_user
from core.choices import Role
from core.models import Region
from core.services import ServiceError, save_versioned
from planning.choices import PlanStatus
from planning.models import Plan
from planning.services import update_plan
from targets.allocations import split_allocation
from targets.models import Allocation, ProgressReport, ReportingPeriod, Target
from targets.services import (
    default_yearly_deadlines,
    open_period,
    return_report,
    save_report,
    submit_report,
)
from targets.successor import create_successor

# Fixed and documented, for a local trial only (the command refuses without DEBUG unless
# --force, and then generates passwords instead).
DEMO_PASSWORD = "Demo-fireplan-2026"
DEMO_LABEL = "【演示数据】"
DEMO_NOTE = "演示数据（setup_demo 生成，非真实进度）"
PREDECESSOR_CODE = "lianzhou-2021-2025"
START_YEAR, END_YEAR = 2026, 2030
PERIOD = "2026"
CITY = "连州市"
TOWN = "九陂镇"
RETURN_REASON = "演示：数值与九陂镇上报台账不一致，请核实后重新提交"


def _region(name: str) -> Region:
    parent = {CITY: "清远市", TOWN: CITY}[name]
    return Region.objects.get(name=name, parent__name=parent)


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: str
    region: str
    tries: str  # what this role can try, printed with the login


USERS = [
    DemoUser("demo_admin", "演示管理员", Role.ADMIN, CITY, "用户管理、规划与全部页面"),
    DemoUser(
        "demo_staff_lianzhou", "演示工作人员（连州市）", Role.STAFF, CITY, "审核：待审核的报送"
    ),
    DemoUser(
        "demo_liaison_jiupi", "演示联络员（九陂镇）", Role.LIAISON, TOWN, "我的填报：待填、退回"
    ),
    DemoUser("demo_supervisor", "演示督查人员（连州市）", Role.SUPERVISOR, CITY, "总览与考核"),
]

# The 十五五 draft's targets split down to 九陂镇 for the demo (code → the town's part), and
# what the liaison does with each in 2026: None leaves it to enter; "submitted" waits for
# review; "returned" was sent back. t-town-brigades keeps the seed's own split (九陂镇: 1).
SPLITS = {
    "t-hydrants": Decimal(30),
    "t-town-firefighters": Decimal(8),
    "t-volunteers": Decimal("0.3"),
    "t-fire-clerks": Decimal(1),
}
# Left to enter: t-town-brigades and t-fire-clerks.
FIGURES: dict[str, tuple[Decimal, str]] = {
    "t-hydrants": (Decimal(6), "submitted"),
    "t-town-firefighters": (Decimal(8), "submitted"),
    "t-volunteers": (Decimal("0.5"), "returned"),
}


@dataclass
class Login:
    user: DemoUser
    password: str | None  # None: set on an earlier run, not shown again


@dataclass
class DemoResult:
    logins: list[Login]
    plan: Plan
    written: int  # steps that changed something (0 on a second run)


def _users(*, fixed_password: bool) -> tuple[list[Login], dict[str, User], int]:
    logins, users, written = [], {}, 0
    for demo in USERS:
        user = User.objects.filter(username=demo.username).first()
        password = DEMO_PASSWORD if fixed_password else None
        if user is None:
            password = DEMO_PASSWORD if fixed_password else secrets.token_urlsafe(12)
            user = create_user(
                actor=None,  # the command line
                username=demo.username,
                full_name=demo.full_name,
                email="",
                password=password,
                role=demo.role,
                region=_region(demo.region),
            )
            written += 1
        logins.append(Login(demo, password))
        users[demo.role] = user
    return logins, users, written


def _successor(staff: User) -> tuple[Plan, int]:
    predecessor = Plan.objects.get(code=PREDECESSOR_CODE)
    found = Plan.objects.filter(predecessor=predecessor).first()
    if found is not None:
        if not found.title.startswith(DEMO_LABEL):
            raise ServiceError(
                "successor_exists",
                _("《%(plan)s》已有非演示的下一期规划《%(successor)s》，不生成演示数据")
                % {"plan": predecessor.title, "successor": found.title},
            )
        return found, 0
    plan = create_successor(predecessor, actor=staff, start_year=START_YEAR, end_year=END_YEAR)
    plan = update_plan(
        plan,
        actor=staff,
        version=plan.version,
        changes={
            "title": DEMO_LABEL + plan.title.replace(_("（草稿）"), ""),
            "status": PlanStatus.IN_FORCE,
            "source_text": DEMO_NOTE,
        },
        reason="演示数据：发布十五五规划草稿",
    )
    return plan, 1


def _period(plan: Plan, staff: User) -> int:
    if ReportingPeriod.objects.filter(plan=plan, period=PERIOD).exists():
        return 0
    # The usual yearly deadlines, moved ahead of today when the demo is built later than that:
    # the period must be open for the demo to have work in it.
    due_on, locks_on = default_yearly_deadlines(int(PERIOD))
    due_on = max(due_on, timezone.localdate() + datetime.timedelta(days=30))
    locks_on = max(locks_on, due_on + datetime.timedelta(days=60))
    open_period(actor=staff, plan=plan, period=PERIOD, due_on=due_on, locks_on=locks_on)
    return 1


def _splits(plan: Plan, staff: User, town: Region) -> int:
    written = 0
    for code, value in SPLITS.items():
        target = Target.objects.get(plan=plan, code=code)
        if Allocation.objects.filter(target=target, region=town).exists():
            continue
        split_allocation(
            target,
            actor=staff,
            whole_region_id=None,
            values={town.pk: value},
            reason="演示数据：分解到九陂镇",
        )
        written += 1
    return written


def _figures(plan: Plan, liaison: User, staff: User, town: Region) -> int:
    written = 0
    for code, (value, state) in FIGURES.items():
        target = Target.objects.get(plan=plan, code=code)
        if ProgressReport.objects.filter(target=target, region=town, period=PERIOD).exists():
            continue
        report = save_report(
            actor=liaison, target=target, region=town, period=PERIOD, value=value, note=DEMO_NOTE
        )
        report.is_demo = True
        save_versioned(report, ["is_demo"], actor=liaison, reason="演示数据")
        report = submit_report(report, actor=liaison, version=report.version)
        if state == "returned":
            return_report(report, actor=staff, reason=RETURN_REASON, version=report.version)
        written += 1
    return written


@transaction.atomic
def setup_demo(*, fixed_password: bool = True) -> DemoResult:
    """Build the demo (see the module docstring); one transaction, all or nothing."""
    logins, users, written = _users(fixed_password=fixed_password)
    staff, liaison = users[Role.STAFF], users[Role.LIAISON]
    plan, made = _successor(staff)
    town = _region(TOWN)
    written += made + _period(plan, staff) + _splits(plan, staff, town)
    written += _figures(plan, liaison, staff, town)
    return DemoResult(logins, plan, written)


def demo_reports():
    """Every figure the demo wrote (all ``is_demo``)."""
    return ProgressReport.objects.filter(
        target__plan__predecessor__code=PREDECESSOR_CODE, region__name=TOWN, period=PERIOD
    )
