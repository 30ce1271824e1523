"""Base figures and fire statistics in the browser and the API (基础数据): entered by the
region's liaison or staff through ``targets.bases.save_base_figures``, read by the formula
targets — 连州's binding 年均10万人口火灾死亡率 and 海门's pay premium, whose formula names
its variables in Chinese."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Profile
from core.models import Region
from planning.models import Plan
from targets import bases
from targets.formulas import parse_formula
from targets.models import BaseFigure, FireStatistic, Target
from targets.status import compute_status, load_status_inputs
from tests.api import client_for, error_code, if_match

pytestmark = pytest.mark.django_db

LIANZHOU = "lianzhou-2021-2025"
HAIMEN = "haimen-2021-2025"


def lianzhou() -> tuple[Plan, Region, Target]:
    plan = Plan.objects.get(code=LIANZHOU)
    return plan, plan.region, Target.objects.get(plan=plan, code="k-fire-death-rate")


def page(region: Region, year: int, plan: Plan | None = None) -> str:
    url = reverse("targets:base_figures", args=[region.pk, year])
    return f"{url}?plan={plan.pk}" if plan else url


def form_data(client, url: str, **values) -> dict:
    """What the page's form sends: its current values and versions, with ``values`` typed in."""
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    form = response.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {name: ("" if value is None else value) for name, value in data.items()}
    return data | values


def snapshot(region: Region) -> tuple:
    return (
        list(FireStatistic.objects.filter(region=region).order_by("pk").values_list()),
        list(BaseFigure.objects.filter(region=region).order_by("pk").values_list()),
        FireStatistic.history.count(),
        BaseFigure.history.count(),
    )


def judged(target: Target, on: datetime.date, **kwargs):
    return compute_status(target, load_status_inputs([target]), on=on, **kwargs)


# ------------------------------------------------------------------------------ the page


def test_lianzhou_death_rate_computes_once_deaths_and_population_are_entered_on_the_page(
    client, liaison_lianzhou
):
    plan, region, target = lianzhou()
    before = judged(target, datetime.date(2023, 6, 30))
    assert before.actual is None and before.status == "no_data"
    assert {(m.name, m.year) for m in before.missing_inputs} == {
        ("deaths", 2021),
        ("population", 2021),
        ("deaths", 2022),
        ("population", 2022),
    }
    client.force_login(liaison_lianzhou)

    for year, deaths, population in [(2021, "1", "400,000"), (2022, "0", "４０００００")]:
        url = page(region, year, plan)
        shown = client.get(url)
        assert "常住人口" in shown.content.decode() and "缺少" in shown.content.decode()
        data = form_data(client, url, deaths=deaths, population=population, fires="120")
        response = client.post(url, data)
        assert response.status_code == 302, response.content.decode()[:2000]

    after = judged(target, datetime.date(2023, 6, 30))
    assert after.actual == Decimal("0.125")  # (1 / 400000 + 0 / 400000) × 100000 / 2
    assert (after.status, after.source, after.missing_inputs) == ("met", "2021—2022年平均", [])
    population = BaseFigure.objects.get(region=region, year=2021, key="population")
    assert (population.name, population.value, population.measure_unit) == (
        "常住人口",
        Decimal("400000"),
        "人",
    )
    record = population.history.first()
    assert (record.history_user, record.history_change_reason) == (liaison_lianzhou, "录入")
    statistic = FireStatistic.objects.get(region=region, year=2022)
    assert (statistic.fires, statistic.deaths, statistic.version) == (120, 0, 1)


def test_a_correction_needs_a_reason_which_the_history_keeps(client, liaison_lianzhou):
    plan, region, _ = lianzhou()
    client.force_login(liaison_lianzhou)
    url = page(region, 2021, plan)
    assert client.post(url, form_data(client, url, population="400000")).status_code == 302

    refused = client.post(url, form_data(client, url, population="410000"))
    assert refused.status_code == 400
    assert "修改已录入的数值时请填写理由" in refused.context["form"].errors["reason"][0]

    data = form_data(client, url, population="410000", reason="统计公报更正")
    assert client.post(url, data).status_code == 302
    figure = BaseFigure.objects.get(region=region, year=2021, key="population")
    assert (figure.value, figure.version) == (Decimal("410000"), 2)
    assert figure.history.first().history_change_reason == "统计公报更正"
    shown = client.get(url).content.decode()
    assert "统计公报更正" in shown and "410000" in shown


def test_bad_input_is_refused_with_chinese_field_errors_and_changes_nothing(
    client, liaison_lianzhou
):
    plan, region, _ = lianzhou()
    client.force_login(liaison_lianzhou)
    url = page(region, 2021, plan)
    before = snapshot(region)
    data = form_data(
        client, url, deaths="-1", population="很多", fires="1.5", direct_loss_10k_yuan="1,5"
    )

    response = client.post(url, data)

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "不能为负数" in errors["deaths"][0]
    assert "“很多”不是数字" in errors["population"][0]
    assert "应填写整数" in errors["fires"][0]
    assert "是否为 1.5？" in errors["direct_loss_10k_yuan"][0]  # the shared parser (core.numbers)
    assert snapshot(region) == before


def test_a_stale_form_is_refused_and_changes_nothing(client, liaison_lianzhou, staff_lianzhou):
    plan, region, _ = lianzhou()
    url = page(region, 2021, plan)
    client.force_login(liaison_lianzhou)
    seen = form_data(client, url, population="400000")
    client.force_login(staff_lianzhou)
    assert client.post(url, form_data(client, url, population="390000")).status_code == 302
    client.force_login(liaison_lianzhou)

    response = client.post(url, seen)

    assert response.status_code == 409
    assert BaseFigure.objects.get(region=region, year=2021, key="population").value == 390000


def test_a_liaison_of_another_region_gets_404_and_a_viewer_403(
    client, liaison_nanzhao, viewer_nanyang, staff_lianzhou
):
    plan, region, _ = lianzhou()
    url = page(region, 2021, plan)
    before = snapshot(region)
    client.force_login(liaison_nanzhao)
    assert client.get(url).status_code == 404
    assert client.post(url, {"population": "1", "version__population": "0"}).status_code == 404
    client.force_login(viewer_nanyang)
    assert client.get(page(Region.objects.get(name="南阳市"), 2021)).status_code == 403
    assert snapshot(region) == before
    client.force_login(staff_lianzhou)
    assert client.get(url).status_code == 200
    assert client.get(page(region, 2099, plan)).status_code == 404  # a year not yet begun


def test_the_target_page_says_which_base_is_missing_who_enters_it_and_links_there(
    client, liaison_lianzhou, staff_lianzhou
):
    plan, region, target = lianzhou()
    client.force_login(liaison_lianzhou)
    html = client.get(reverse("targets:target_detail", args=[target.pk])).content.decode()
    assert 'data-testid="missing-bases"' in html
    assert f"{page(region, 2021, plan)}" in html
    assert "连州市 2021年 常住人口（population）" in html
    assert "由连州市的联络员或连州市委员会办公室工作人员录入" in html

    bases_page = client.get(page(region, 2021, plan)).content.decode()
    assert "liaison_lianzhou" in bases_page and "staff_lianzhou" in bases_page  # by name
    assert 'data-testid="missing-here"' in bases_page
    assert "style=" not in bases_page  # the CSP forbids inline styles
    assert all(" src=" in c.split(">", 1)[0] for c in bases_page.split("<script")[1:])


def test_the_page_costs_the_same_queries_however_many_figures_are_entered(client, liaison_lianzhou):
    plan, region, _ = lianzhou()
    client.force_login(liaison_lianzhou)
    url = page(region, 2021, plan)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    empty = count()
    for year in (2021, 2022, 2023):
        bases.save_base_figures(
            region, year, actor=liaison_lianzhou,
            values={"deaths": 1, "fires": 50, "population": 400000, "fulltime_firefighters": 180},
        )  # fmt: skip
        bases.save_base_figures(
            region, year, actor=liaison_lianzhou, values={"population": 410000}, reason="更正"
        )
    assert count() == empty


# ------------------------------------------------------------------------------ 海门


@pytest.fixture
def liaison_haimen(seeded):
    region = Region.objects.get(name="海门区", parent__name="南通市")
    user = User.objects.create_user("liaison_haimen", password="Pass-word-2021")
    Profile.objects.create(user=user, role="liaison", region=region)
    return user


def test_haimens_chinese_variable_formula_computes_once_its_bases_are_entered(
    client, liaison_haimen
):
    pay = Target.objects.get(plan__code=HAIMEN, code="t-fulltime-pay-premium")
    assert parse_formula(pay.formula).base_figure_names == {
        "专职消防队员工资",
        "城镇非私营单位在岗职工平均工资",
    }
    on = datetime.date(2025, 3, 1)
    missing = judged(pay, on)
    assert missing.actual is None
    assert {m.name for m in missing.missing_inputs} == {
        "专职消防队员工资",
        "城镇非私营单位在岗职工平均工资",
    }
    client.force_login(liaison_haimen)
    url = page(pay.region, 2024, pay.plan)
    html = client.get(url).content.decode()
    assert "专职消防队员工资" in html and "城镇非私营单位在岗职工平均工资" in html

    data = form_data(
        client, url, **{"专职消防队员工资": "130,000", "城镇非私营单位在岗职工平均工资": "100000"}
    )
    assert client.post(url, data).status_code == 302

    result = judged(pay, on)
    assert result.actual == Decimal(30)  # (130000 − 100000) / 100000 × 100
    assert result.status == "met"
    assert BaseFigure.objects.get(region=pay.region, year=2024, key="专职消防队员工资").value == (
        Decimal("130000")
    )


# ------------------------------------------------------------------------------ the API


def test_fire_statistics_are_created_and_updated_through_the_api_with_if_match(staff_lianzhou):
    _, region, _ = lianzhou()
    api = client_for(staff_lianzhou)

    created = api.post(
        "/api/v1/fire-statistics/",
        {"region": region.pk, "year": 2021, "fires": "1,200", "deaths": 1},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["fires"], body["deaths"], body["version"]) == (1200, 1, 1)
    url = f"/api/v1/fire-statistics/{body['id']}/"
    assert created["ETag"] == f'"{body["id"]}-1"'

    again = api.post(
        "/api/v1/fire-statistics/", {"region": region.pk, "year": 2021, "deaths": 2}, format="json"
    )
    assert (again.status_code, error_code(again)) == (409, "exists")

    statistic = FireStatistic.objects.get(pk=body["id"])
    no_precondition = api.patch(url, {"deaths": 2}, format="json")
    assert (no_precondition.status_code, error_code(no_precondition)) == (
        428,
        "precondition_required",
    )
    no_reason = api.patch(url, {"deaths": 2}, format="json", **if_match(statistic))
    assert (no_reason.status_code, error_code(no_reason)) == (400, "invalid")
    assert "reason" in no_reason.json()["errors"]
    bad = api.patch(url, {"deaths": "两人", "reason": "核对"}, format="json", **if_match(statistic))
    assert bad.status_code == 400 and "deaths" in bad.json()["errors"]

    stale_tag = if_match(statistic)
    updated = api.patch(url, {"deaths": 2, "reason": "复核更正"}, format="json", **stale_tag)
    assert updated.status_code == 200, updated.content
    assert (updated.json()["deaths"], updated.json()["version"]) == (2, 2)
    assert statistic.history.first().history_change_reason == "复核更正"

    stale = api.patch(url, {"deaths": 3, "reason": "再改"}, format="json", **stale_tag)
    assert (stale.status_code, error_code(stale)) == (412, "stale_edit")
    statistic.refresh_from_db()
    assert (statistic.deaths, statistic.version) == (2, 2)


def test_base_figures_are_created_and_updated_through_the_api(liaison_lianzhou, liaison_nanzhao):
    _, region, _ = lianzhou()
    api = client_for(liaison_lianzhou)

    created = api.post(
        "/api/v1/base-figures/",
        {"region": region.pk, "year": 2022, "key": "population", "value": "402,000"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["key"], body["name"], body["value"]) == ("population", "常住人口", 402000)
    chinese = api.post(
        "/api/v1/base-figures/",
        {
            "region": region.pk,
            "year": 2022,
            "key": "城镇非私营单位在岗职工平均工资",
            "value": 98000,
        },
        format="json",
    )
    assert chinese.status_code == 201 and chinese.json()["key"] == "城镇非私营单位在岗职工平均工资"
    bad_key = api.post(
        "/api/v1/base-figures/",
        {"region": region.pk, "year": 2022, "key": "1 + 1", "value": 1},
        format="json",
    )
    assert bad_key.status_code == 400

    figure = BaseFigure.objects.get(pk=body["id"])
    url = f"/api/v1/base-figures/{figure.pk}/"
    moved = api.patch(url, {"year": 2023, "value": 1}, format="json", **if_match(figure))
    assert moved.status_code == 400 and "year" in moved.json()["errors"]
    updated = api.patch(
        url, {"value": "405000", "reason": "公报数"}, format="json", **if_match(figure)
    )
    assert updated.status_code == 200 and updated.json()["version"] == 2

    outsider = client_for(liaison_nanzhao)
    refused = outsider.post(
        "/api/v1/base-figures/",
        {"region": region.pk, "year": 2023, "key": "population", "value": 1},
        format="json",
    )
    assert refused.status_code == 404
    assert outsider.patch(url, {"value": 1}, format="json", **if_match(figure)).status_code == 404
    figure.refresh_from_db()
    assert (figure.value, figure.version) == (Decimal("405000"), 2)


# ------------------------------------------------------------------------------ the service


def test_what_is_asked_for_comes_from_the_plans_formulas(liaison_lianzhou, liaison_nanzhao):
    plan, region, target = lianzhou()
    sheet = bases.load_sheet(region, 2021, plan=plan)
    assert [item.key for item in sheet.items] == [
        "fires", "deaths", "injuries", "direct_loss_10k_yuan", "population",
        "fulltime_firefighters",
    ]  # fmt: skip
    deaths = next(item for item in sheet.items if item.key == "deaths")
    assert deaths.used_by == [target]
    population = next(item for item in sheet.items if item.key == "population")
    assert {t.code for t in population.used_by} == {
        "k-fire-death-rate", "k-fulltime-ratio", "k-stations-per-100k",
    }  # fmt: skip
    owed = bases.owed_items(liaison_lianzhou, region, 2021, plan=plan)
    assert [item.key for item in owed.items] == ["deaths", "population", "fulltime_firefighters"]
    assert bases.owed_items(liaison_nanzhao, region, 2021, plan=plan) is None
    nanjing = Plan.objects.get(code="nanjing-2021-2023")
    assert bases.owed_items(liaison_lianzhou, region, 2021, plan=nanjing) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("１２３", Decimal(123)),
        (" 1,200 ", Decimal(1200)),
        ("400000人", Decimal(400000)),
        ("—", None),
        ("", None),
        (7, Decimal(7)),
    ],
)
def test_numbers_are_read_as_people_type_them(raw, expected):
    assert bases.parse_number(raw, bases.item_for("population")) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "不是数字"),
        ("-3", "不能为负数"),
        ("1.5", "应填写整数"),
        ("NaN", "应填写"),
        ("1,5", "千分位"),
        ("1" * 15, "数值过大"),
        (True, "应填写"),
    ],
)
def test_what_is_not_a_count_says_what_is_expected(raw, message):
    with pytest.raises(bases.NotANumber, match=message):
        bases.parse_number(raw, bases.item_for("population"))


def test_the_fire_statistic_items_are_the_formula_variables():
    from targets.formulas import FIRE_STATISTIC_FIELDS

    assert tuple(bases.FIRE_ITEMS) == FIRE_STATISTIC_FIELDS
