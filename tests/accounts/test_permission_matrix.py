"""The permission matrix through the pages: every role, on a figure inside and outside its
scope, for every action of the reporting workflow.

Inside: 南阳's target 新建消防站 (tg-new-stations), allocated to 南召县 (3 stations), period
2024. Outside: 连州's 新增市政消火栓 (t-hydrants) for 连州市, period 2024. The users sit in
南阳 (admin_nanyang, staff_nanyang, liaison_nanzhao, supervisor_nanyang, viewer_nanyang),
next door (liaison_xixia: another 南阳 county), in 连州, or far away (outsider: staff of
阜新; admin_jiangsu).

Cells: the status code of the page or action; for the review inbox and the overview, LISTED /
HIDDEN say whether the figure (inbox) or its plan (overview) shows on a 200 page. A refused
action changes nothing; an allowed one moves the figure to its next state.
"""

from dataclasses import dataclass

import pytest
from django.urls import reverse

from core.models import Region
from planning.models import Plan
from targets import services
from targets.models import ProgressReport, Target
from tests.conftest import make_user

LISTED, HIDDEN = "listed", "hidden"
NANZHAO, LIANZHOU = "nanzhao", "lianzhou"
ACTIONS = ["view", "inbox", "home", "edit", "submit", "approve", "return", "reopen"]

# fmt: off
MATRIX = [
    # who                  figure     view  inbox   home    edit submit approve return reopen
    ("admin_nanyang",      NANZHAO,   200,  LISTED, LISTED, 302, 302,   302,    302,   302),
    ("admin_nanyang",      LIANZHOU,  404,  HIDDEN, HIDDEN, 404, 404,   404,    404,   404),
    ("staff_nanyang",      NANZHAO,   200,  LISTED, LISTED, 302, 302,   302,    302,   302),
    ("staff_nanyang",      LIANZHOU,  404,  HIDDEN, HIDDEN, 404, 404,   404,    404,   404),
    ("liaison_nanzhao",    NANZHAO,   200,  403,    LISTED, 302, 302,   403,    403,   403),
    ("liaison_nanzhao",    LIANZHOU,  404,  403,    HIDDEN, 404, 404,   403,    403,   403),
    ("supervisor_nanyang", NANZHAO,   200,  403,    LISTED, 403, 403,   403,    403,   403),
    ("supervisor_nanyang", LIANZHOU,  404,  403,    HIDDEN, 404, 404,   403,    403,   403),
    ("viewer_nanyang",     NANZHAO,   200,  403,    LISTED, 403, 403,   403,    403,   403),
    ("viewer_nanyang",     LIANZHOU,  404,  403,    HIDDEN, 404, 404,   403,    403,   403),
    ("outsider",           NANZHAO,   404,  HIDDEN, HIDDEN, 404, 404,   404,    404,   404),
    ("outsider",           LIANZHOU,  404,  HIDDEN, HIDDEN, 404, 404,   404,    404,   404),
    ("admin_jiangsu",      NANZHAO,   404,  HIDDEN, HIDDEN, 404, 404,   404,    404,   404),
    ("liaison_xixia",      NANZHAO,   404,  403,    LISTED, 404, 404,   403,    403,   403),
    ("staff_lianzhou",     LIANZHOU,  200,  LISTED, LISTED, 302, 302,   302,    302,   302),
    ("liaison_lianzhou",   LIANZHOU,  200,  403,    LISTED, 302, 302,   403,    403,   403),
]
# fmt: on

# The figure's state before the action, and after it when allowed (None: no figure yet).
BEFORE = {
    "view": "submitted",
    "inbox": "submitted",
    "home": "submitted",
    "edit": None,
    "submit": None,
    "approve": "submitted",
    "return": "submitted",
    "reopen": "approved",
}
AFTER = {
    "edit": "draft",
    "submit": "submitted",
    "approve": "approved",
    "return": "returned",
    "reopen": "returned",
}


@dataclass
class Figure:
    plan: Plan
    target: Target
    region: Region
    reporter: str  # fixture names of who fills it in and who reviews it
    reviewer: str
    period: str = "2024"

    @property
    def page(self) -> str:
        return reverse("targets:report_edit", args=[self.target.pk, self.region.pk, self.period])

    def report(self) -> ProgressReport | None:
        return ProgressReport.objects.filter(
            target=self.target, region=self.region, period=self.period
        ).first()


# figure: plan, target, region, who reports it, who reviews it
FIGURES = {
    NANZHAO: ("nanyang-2021-2025", "tg-new-stations", "南召县", "liaison_nanzhao", "staff_nanyang"),
    LIANZHOU: ("lianzhou-2021-2025", "t-hydrants", "连州市", "liaison_lianzhou", "staff_lianzhou"),
}


def figure(name: str) -> Figure:
    plan_code, target_code, region_name, reporter, reviewer = FIGURES[name]
    plan = Plan.objects.get(code=plan_code)
    return Figure(
        plan=plan,
        target=Target.objects.get(plan=plan, code=target_code),
        region=Region.objects.get(name=region_name),
        reporter=reporter,
        reviewer=reviewer,
    )


@pytest.fixture
def admin_nanyang(seeded):
    return make_user("admin_nanyang", "admin", "南阳市")


def bring_to(state: str | None, item: Figure, request) -> None:
    """Put the figure in ``state`` through the services, as its own reporter and reviewer."""
    if state is None:
        return
    reporter = request.getfixturevalue(item.reporter)
    report = services.save_report(
        actor=reporter, target=item.target, region=item.region, period=item.period, value=2,
        submit=True,
    )  # fmt: skip
    if state == "approved":
        services.approve_report(report, actor=request.getfixturevalue(item.reviewer))


def act(client, action: str, item: Figure):
    report = item.report()
    if action == "view":
        return client.get(item.page)
    if action == "inbox":
        return client.get(reverse("targets:review_inbox"))
    if action == "home":
        return client.get(reverse("reports:home"))
    if action in ("edit", "submit"):
        data = {"value": "2", "note": "", "confirm_note": "", "version": "0", action: ""}
        return client.post(item.page, data)
    data = {"version": report.version, "reason": "核对后重新填报"}
    return client.post(reverse(f"targets:report_{action}", args=[report.pk]), data)


def cases():
    for who, name, *cells in MATRIX:
        for action, expected in zip(ACTIONS, cells, strict=True):
            yield pytest.param(who, name, action, expected, id=f"{who}-{name}-{action}")


@pytest.mark.parametrize(("who", "name", "action", "expected"), list(cases()))
def test_permission_matrix(request, client, open_2024, who, name, action, expected):
    item = figure(name)
    bring_to(BEFORE[action], item, request)
    user = request.getfixturevalue(who)
    client.force_login(user)

    response = act(client, action, item)

    if expected in (LISTED, HIDDEN):
        assert response.status_code == 200
        page = response.content.decode()
        shown = item.page if action == "inbox" else item.plan.title
        assert (shown in page) == (expected == LISTED)
        return
    assert response.status_code == expected
    report = item.report()
    state = report.status if report else None
    if expected == 302:
        assert state == AFTER[action], "an allowed action moves the figure on"
    else:
        assert state == BEFORE[action], "a refused action changes nothing"


def test_the_matrix_covers_every_role_inside_and_outside_its_scope():
    roles = {"admin", "staff", "liaison", "supervisor", "viewer"}
    inside = {who.split("_")[0] for who, name, *_ in MATRIX if name == NANZHAO}
    outside = {who.split("_")[0] for who, name, *_ in MATRIX if name == LIANZHOU}
    assert roles <= inside and roles <= outside
    assert "outsider" in inside and "outsider" in outside


# ------------------------------------------------------------------------------ edge cells


@pytest.mark.parametrize("with_report", [True, False], ids=["city-figure", "no-figure-yet"])
def test_a_county_liaison_cannot_open_the_city_figure_above_it(
    client, open_2024, liaison_nanzhao, staff_nanyang, with_report
):
    """南召县's liaison sees the 南阳 plan and its target, but 南阳市's own figure for that
    target lies above their scope: outside, so 404 like every out-of-scope object."""
    item = figure(NANZHAO)
    city = Region.objects.get(name="南阳市")
    if with_report:
        services.save_report(
            actor=staff_nanyang, target=item.target, region=city, period="2024", value=5
        )
    client.force_login(liaison_nanzhao)

    response = client.get(reverse("targets:report_edit", args=[item.target.pk, city.pk, "2024"]))

    assert response.status_code == 404


def test_a_liaison_with_a_unit_reports_only_for_its_units_targets(client, open_2024):
    """连州's 水务部门 leads 新增市政消火栓 (t-hydrants), not 配备消防监督执法装备."""
    water = make_user("liaison_water", "liaison", "连州市", unit_name="水务部门")
    hydrants, equipment = figure(LIANZHOU), figure(LIANZHOU)
    equipment.target = Target.objects.get(plan=equipment.plan, code="t-enforcement-equip")
    client.force_login(water)

    allowed = client.post(hydrants.page, {"value": "12", "version": "0", "save": ""})
    refused = client.post(equipment.page, {"value": "1", "version": "0", "save": ""})

    assert allowed.status_code == 302
    assert hydrants.report().value == 12
    assert refused.status_code == 403
    assert equipment.report() is None


def test_bulk_approve_refuses_a_batch_with_a_figure_outside_scope(
    client, open_2024, staff_nanyang, liaison_nanzhao, liaison_lianzhou
):
    inside, outside = figure(NANZHAO), figure(LIANZHOU)
    for item, reporter in ((inside, liaison_nanzhao), (outside, liaison_lianzhou)):
        services.save_report(
            actor=reporter, target=item.target, region=item.region, period="2024", value=2,
            submit=True,
        )  # fmt: skip
    client.force_login(staff_nanyang)

    response = client.post(
        reverse("targets:reports_bulk_approve"),
        {"report": [seen(inside.report()), seen(outside.report())]},
    )

    assert response.status_code == 403
    assert inside.report().status == outside.report().status == "submitted"


def seen(report) -> str:
    """A review inbox checkbox: the report and the version the reviewer saw."""
    return f"{report.pk}:{report.version}"
