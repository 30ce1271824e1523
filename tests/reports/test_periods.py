"""Reporting periods and locks in the browser: staff open a period (default yearly deadlines,
or their own dates), bad periods are refused with nothing written, and a lock exception
re-opens a locked period for exactly one region. Cast from tests/conftest.py."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import Region
from planning.models import Plan
from targets import services
from targets.models import LockException, ReportingPeriod, Target
from tests.conftest import open_period

pytestmark = pytest.mark.django_db

NANYANG = "nanyang-2021-2025"


def plan(code: str = NANYANG) -> Plan:
    return Plan.objects.get(code=code)


def region(name: str) -> Region:
    return Region.objects.get(name=name)


def new_stations() -> Target:
    """南阳 附件1: new stations, allocated to every county (南召县 3, 西峡县 1)."""
    return Target.objects.get(plan__code=NANYANG, code="tg-new-stations")


def text(response) -> str:
    return response.content.decode()


def open_form(**overrides) -> dict:
    return {"plan": plan().pk, "period": "2024", "due_on": "", "locks_on": ""} | overrides


def report(actor, name: str, period: str, value="1"):
    return services.save_report(
        actor=actor, target=new_stations(), region=region(name), period=period, value=value
    )


# ------------------------------------------------------------------------------ open


def test_staff_open_a_yearly_period_with_the_default_deadlines(client, staff_nanyang):
    client.force_login(staff_nanyang)
    response = client.post(reverse("reports:period_open"), open_form())

    found = ReportingPeriod.objects.get(plan=plan(), period="2024")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('reports:period_list')}?plan={plan().pk}"
    assert (found.due_on, found.locks_on) == (
        datetime.date(2025, 1, 31),
        datetime.date(2025, 3, 31),
    )
    assert found.created_by == staff_nanyang
    assert found.history.get().history_user == staff_nanyang
    page = text(client.get(response["Location"]))
    assert "已开放 2024 期间：2025-01-31 截止，2025-03-31 后锁定" in page


def test_staff_open_a_half_year_with_their_own_dates_and_later_change_them(client, staff_nanyang):
    client.force_login(staff_nanyang)
    client.post(
        reverse("reports:period_open"),
        open_form(period="2025h1", due_on="2025-07-15", locks_on="2025-08-31"),
    )
    found = ReportingPeriod.objects.get(plan=plan(), period="2025H1")
    assert (found.due_on, found.locks_on) == (
        datetime.date(2025, 7, 15),
        datetime.date(2025, 8, 31),
    )

    form = client.get(reverse("reports:period_open"), {"plan": plan().pk, "period": "2025H1"})
    assert 'value="2025-07-15"' in text(form)  # the form shows the dates it will change
    response = client.post(
        reverse("reports:period_open"),
        open_form(period="2025H1", due_on="2025-07-20", locks_on="2025-09-30"),
        follow=True,
    )
    found.refresh_from_db()
    assert found.due_on == datetime.date(2025, 7, 20)
    assert "已修改 2025H1 期间" in text(response)
    assert ReportingPeriod.objects.filter(plan=plan()).count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"period": "2030"}, "期间 2030 不在规划期内"),
        ({"due_on": "2025-04-30", "locks_on": "2025-03-31"}, "截止日期不能晚于锁定日期"),
        ({"due_on": "2023-12-31", "locks_on": "2025-03-31"}, "截止日期不能早于期间开始"),
        ({"period": "2024Q5"}, "“2024Q5”不是有效期间，应为 2024、2024H1 或 2024Q3"),
        ({"period": "2024Q2"}, "半年、季度期间请填写截止日期和锁定日期"),
        ({"due_on": "2025-01-31"}, "请填写锁定日期（或两个日期都留空，使用默认日期）"),
        ({"due_on": "31/01/2025", "locks_on": "2025-03-31"}, "日期格式应为 2025-01-31"),
    ],
)
def test_a_bad_period_is_refused_with_what_is_expected_and_nothing_opened(
    client, staff_nanyang, overrides, message
):
    client.force_login(staff_nanyang)
    response = client.post(reverse("reports:period_open"), open_form(**overrides))

    assert response.status_code == 400
    assert message in text(response)
    assert not ReportingPeriod.objects.exists()


def test_a_plan_outside_the_scope_cannot_be_chosen(client, outsider):
    client.force_login(outsider)
    response = client.post(reverse("reports:period_open"), open_form())

    assert response.status_code == 400
    assert plan().title not in text(response)
    assert not ReportingPeriod.objects.exists()


def test_a_plan_above_the_scope_is_readable_but_cannot_be_given_periods(client, seeded):
    from tests.conftest import make_user

    county_staff = make_user("staff_nanzhao", "staff", "南召县")
    client.force_login(county_staff)
    assert client.post(reverse("reports:period_open"), open_form()).status_code == 400
    with pytest.raises(services.NotAllowed):
        services.open_period(
            actor=county_staff,
            plan=plan(),
            period="2024",
            due_on=datetime.date(2025, 1, 31),
            locks_on=datetime.date(2025, 3, 31),
        )
    assert not ReportingPeriod.objects.exists()


@pytest.mark.parametrize("name", ["liaison_nanzhao", "supervisor_nanyang", "viewer_nanyang"])
def test_roles_without_change_cannot_open_periods(client, request, name):
    user = request.getfixturevalue(name)
    client.force_login(user)
    assert client.get(reverse("reports:period_open")).status_code == 403
    assert client.post(reverse("reports:period_open"), open_form()).status_code == 403
    assert not ReportingPeriod.objects.exists()


# ------------------------------------------------------------------------------ list


def test_the_list_shows_each_plans_periods_with_their_state(client, staff_nanyang, open_2024):
    past = open_period(NANYANG, "2022", due_in_days=-60, locks_in_days=-30)
    client.force_login(staff_nanyang)
    page = text(client.get(reverse("reports:period_list")))

    assert "填报中（10 天后截止）" in page
    assert f'data-testid="period-{past.pk}"' in page
    assert "已锁定" in page
    assert reverse("reports:lock_exception_grant", args=[past.pk]) in page
    assert "连州" not in page  # another city's plan


def test_readers_see_the_deadlines_without_the_buttons(client, viewer_nanyang, open_2024):
    client.force_login(viewer_nanyang)
    page = text(client.get(reverse("reports:period_list")))

    assert open_2024[NANYANG].due_on.strftime("%Y-%m-%d") in page
    assert reverse("reports:period_open") not in page
    assert "为区划开放" not in page


@pytest.mark.parametrize("rows", [1, 30])
def test_the_list_runs_the_same_queries_for_1_and_30_periods(client, staff_nanyang, rows):
    codes = [str(y) for y in range(2021, 2026)]
    codes += [f"{y}H{h}" for y in range(2021, 2026) for h in (1, 2)]
    codes += [f"{y}Q{q}" for y in range(2021, 2026) for q in (1, 2, 3, 4)]
    today = timezone.localdate()
    for code in codes[:rows]:
        period = ReportingPeriod.objects.create(
            plan=plan(), period=code, due_on=today, locks_on=today
        )
        LockException.objects.create(
            reporting_period=period, region=region("南召县"), until=today, reason="补报"
        )
    client.force_login(staff_nanyang)
    client.get(reverse("reports:period_list"))  # warm the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("reports:period_list"))

    assert response.content.decode().count("南召县 至") == rows
    # session, user with profile, region tree (scope), header notices; plans in scope, their
    # periods, the exceptions in scope (with region and granting user), plans changeable.
    assert len(queries) == 8, [q["sql"] for q in queries]


# ------------------------------------------------------------------------------ locks


@pytest.fixture
def locked_2022(seeded, staff_nanyang):
    """2022 on the 南阳 plan, opened with the default dates: long past, so locked."""
    return services.open_period(
        actor=staff_nanyang,
        plan=plan(),
        period="2022",
        due_on=datetime.date(2023, 1, 31),
        locks_on=datetime.date(2023, 3, 31),
    )


def test_a_locked_period_refuses_reports(locked_2022, liaison_nanzhao):
    with pytest.raises(services.ServiceError) as refused:
        report(liaison_nanzhao, "南召县", "2022")
    assert refused.value.code == "period_locked"


def test_a_lock_exception_reopens_exactly_one_region(
    client, locked_2022, staff_nanyang, liaison_nanzhao, liaison_xixia
):
    client.force_login(staff_nanyang)
    until = timezone.localdate() + datetime.timedelta(days=7)
    response = client.post(
        reverse("reports:lock_exception_grant", args=[locked_2022.pk]),
        {"region": region("南召县").pk, "until": until.isoformat(), "reason": "县政府延期上报"},
        follow=True,
    )

    assert f"已为南召县开放 2022 期间填报，至 {until:%Y-%m-%d}" in text(response)
    exception = LockException.objects.get()
    assert (exception.region.name, exception.granted_by) == ("南召县", staff_nanyang)
    assert exception.history.get().history_user == staff_nanyang

    saved = report(liaison_nanzhao, "南召县", "2022")
    assert saved.pk is not None
    with pytest.raises(services.ServiceError) as refused:
        report(liaison_xixia, "西峡县", "2022")
    assert refused.value.code == "period_locked"


def test_an_exception_offers_only_the_plans_regions_in_scope(client, locked_2022, staff_nanyang):
    client.force_login(staff_nanyang)
    page = text(client.get(reverse("reports:lock_exception_grant", args=[locked_2022.pk])))

    assert "南召县" in page and "南阳市" in page
    assert "阜新市" not in page and "连州市" not in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"until": "2020-01-01"}, "开放截止日期不能早于今天"),
        ({"reason": ""}, "请填写理由"),
        ({"region": "999999"}, "所选区划不存在"),
        ({"until": "明天"}, "日期格式应为 2025-01-31"),
        ({"region": "阜新市"}, "所选区划不存在"),
    ],
)
def test_a_bad_exception_is_refused_and_nothing_reopened(
    client, locked_2022, staff_nanyang, data, message
):
    client.force_login(staff_nanyang)
    until = timezone.localdate() + datetime.timedelta(days=7)
    if data.get("region") == "阜新市":
        data = {"region": region("阜新市").pk}  # exists, but outside the scope and the plan
    form = {"region": region("南召县").pk, "until": until.isoformat(), "reason": "延期"} | data
    response = client.post(reverse("reports:lock_exception_grant", args=[locked_2022.pk]), form)

    assert response.status_code == 400
    assert message in text(response)
    assert not LockException.objects.exists()


def test_a_period_outside_the_scope_is_404_and_a_liaison_403(
    client, locked_2022, outsider, liaison_nanzhao
):
    url = reverse("reports:lock_exception_grant", args=[locked_2022.pk])
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(liaison_nanzhao)
    assert client.post(url, {"region": region("南召县").pk}).status_code == 403
    assert not LockException.objects.exists()
