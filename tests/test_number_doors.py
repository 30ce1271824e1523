"""One number parser behind every door (core.numbers): the same typed text gives the same
number — or the same refusal, with the same hint and code — through the parser itself, the
report form, the API and the Excel import; and the edit forms and the API's number fields
read it the same way.

The figures: 南召县's 2024 rows of 南阳's plan, liaison_nanzhao. For the table, 新建消防站
(template row 4) is given the unit 平方米 (so decimals and big numbers are plausible units)
and 新建改建全国重点镇消防站 (row 5) the unit % (for “95%”). Every accepted figure is far from
the county's share of 3, so each door is given the same 异常值说明.
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from core.forms import NumberField
from core.numbers import NumberError, parse_number
from targets.models import ProgressReport, Target
from tests.api import client_for
from tests.planning.editing import form_data
from tests.reports.test_excel_import import commit, download, fill, region, upload

pytestmark = pytest.mark.django_db

NANYANG = "nanyang-2021-2025"
AREA, PERCENT = "tg-new-stations", "tg-b3-key-town"
ROWS = {AREA: 4, PERCENT: 5}
UNITS = {AREA: "平方米", PERCENT: "%"}
CONFIRM = "核实无误"
REFUSED = object()

# (typed, target, number or REFUSED, error code, words of the message)
TABLE = [
    ("１，２００", AREA, Decimal(1200), None, None),
    ("3万", AREA, Decimal(30000), None, None),
    ("95%", PERCENT, Decimal(95), None, None),
    ("—", AREA, None, None, None),
    ("/", AREA, None, None, None),
    ("1,5", AREA, REFUSED, "decimal_comma", "是否为 1.5？"),
    ("1,200", AREA, Decimal(1200), None, None),
    ("12,345,678", AREA, Decimal(12345678), None, None),
    ("3e-5", AREA, REFUSED, "not_a_number", "科学计数法"),
    ("1_000", AREA, REFUSED, "not_a_number", "不是数字"),
    ("1.23456", AREA, REFUSED, "too_many_decimals", "最多保留 4 位小数"),
    ("١٢", AREA, REFUSED, "not_a_number", "不是数字"),
]
IDS = [typed for typed, *_ in TABLE]


@pytest.fixture
def figures(open_2024, liaison_nanzhao):
    for code, unit in UNITS.items():
        Target.objects.filter(plan__code=NANYANG, code=code).update(measure_unit=unit)
    return liaison_nanzhao


def target(code: str) -> Target:
    return Target.objects.get(plan__code=NANYANG, code=code)


def stored(code: str) -> ProgressReport | None:
    return ProgressReport.objects.filter(
        target=target(code), region=region("南召县"), period="2024"
    ).first()


# ------------------------------------------------------------------------------ the doors


@pytest.mark.parametrize(("typed", "code", "expected", "error", "words"), TABLE, ids=IDS)
def test_the_parser(typed, code, expected, error, words):
    if expected is REFUSED:
        with pytest.raises(NumberError) as refused:
            parse_number(typed, measure_unit=UNITS[code])
        assert (refused.value.code, words in refused.value.message) == (error, True)
    else:
        assert parse_number(typed, measure_unit=UNITS[code]) == expected


@pytest.mark.parametrize(("typed", "code", "expected", "error", "words"), TABLE, ids=IDS)
def test_the_report_form(client, figures, typed, code, expected, error, words):
    client.force_login(figures)
    page = reverse("targets:report_edit", args=[target(code).pk, region("南召县").pk, "2024"])
    data = {"value": typed, "note": "", "confirm_note": CONFIRM, "version": 0, "save": ""}

    response = client.post(page, data)

    if expected is REFUSED:
        assert response.status_code == 400
        assert words in response.content.decode()
        assert stored(code) is None
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert stored(code).value == expected


@pytest.mark.parametrize(("typed", "code", "expected", "error", "words"), TABLE, ids=IDS)
def test_the_api(figures, typed, code, expected, error, words):
    fields = {"target": target(code).pk, "region": region("南召县").pk, "period": "2024"}

    response = client_for(figures).post(
        "/api/v1/reports/", fields | {"value": typed, "confirm_note": CONFIRM}, format="json"
    )

    body = response.json()
    if expected is REFUSED:
        assert (response.status_code, body["code"]) == (400, error)
        assert words in body["message"] and words in body["errors"]["value"][0]["message"]
        assert stored(code) is None
    else:
        assert response.status_code == 201, body
        # The API answers with the number it understood.
        assert (None if body["value"] is None else Decimal(str(body["value"]))) == expected
        assert stored(code).value == expected


@pytest.mark.parametrize(("typed", "code", "expected", "error", "words"), TABLE, ids=IDS)
def test_the_excel_import(client, figures, typed, code, expected, error, words):
    row = ROWS[code]
    data = fill(fill(download(client, figures), {row: typed}), {row: CONFIRM}, column="J")

    response = upload(client, figures, data, mode="draft")

    preview = {r.row: r for r in response.context["preview"].rows}[row]
    if expected is REFUSED:
        assert response.status_code == 400
        assert [words in e.message for e in preview.errors] == [True]
        assert stored(code) is None
        return
    assert (response.status_code, preview.errors, preview.value) == (200, [], expected)
    if expected is not None:
        commit(client, response.context["batch"])
        assert stored(code).value == expected
    else:
        assert stored(code) is None  # a blank row is not imported


@pytest.mark.parametrize(("typed", "code", "expected", "error", "words"), TABLE, ids=IDS)
def test_the_edit_forms_number_field(typed, code, expected, error, words):
    field = NumberField(max_digits=18, decimal_places=4, required=False)
    field.measure_unit = UNITS[code]
    if expected is REFUSED:
        with pytest.raises(Exception) as refused:
            field.clean(typed)
        assert (refused.value.code, words in refused.value.messages[0]) == (error, True)
    else:
        assert field.clean(typed) == expected


# ------------------------------------------------------------------------------ what was understood


def test_the_report_form_says_what_it_understood(client, figures):
    client.force_login(figures)
    page = reverse("targets:report_edit", args=[target(AREA).pk, region("南召县").pk, "2024"])
    data = {"value": "3万", "note": "", "confirm_note": "", "version": 0, "save": ""}

    # Refused (30000 against a share of 3 needs an explanation): the value is shown as read.
    refused = client.post(page, data)
    assert refused.status_code == 400
    assert 'data-testid="understood-value"' in refused.content.decode()
    assert "已理解为 30000" in refused.content.decode()
    assert stored(AREA) is None

    saved = client.post(page, data | {"confirm_note": CONFIRM}, follow=True)
    assert "（数值“3万”已理解为 30000）" in saved.content.decode()
    assert stored(AREA).value == 30000
    # The form shows it back plainly (not 3E+4, which would be refused if saved again).
    assert client.get(page).context["form"].initial["value"] == "30000"


def test_a_plain_number_needs_no_explanation(client, figures):
    client.force_login(figures)
    page = reverse("targets:report_edit", args=[target(AREA).pk, region("南召县").pk, "2024"])
    data = {"value": "30000", "note": "", "confirm_note": "", "version": 0, "save": ""}
    assert "已理解为" not in client.post(page, data).content.decode()


# ------------------------------------------------------------------------------ upkeep doors


def test_the_target_form_reads_typed_numbers_and_refuses_a_decimal_comma(client, staff_nanyang):
    stations = Target.objects.get(plan__code=NANYANG, code=AREA)
    client.force_login(staff_nanyang)
    url = reverse("targets:target_edit", args=[stations.pk])

    refused = client.post(url, form_data(client.get(url), target_value="2,5"))
    assert refused.status_code == 400
    assert "是否为 2.5？" in refused.content.decode()
    stations.refresh_from_db()
    assert (stations.target_value, stations.version) == (24, 1)

    # The unit of the form: 个, so 95% is refused for a count.
    wrong_unit = client.post(url, form_data(client.get(url), target_value="95%"))
    assert wrong_unit.status_code == 400 and "不应填写百分数" in wrong_unit.content.decode()

    typed = {"target_value": "２６", "baseline_value": "1,200"}
    saved = client.post(url, form_data(client.get(url), **typed))
    assert saved.status_code == 302
    stations.refresh_from_db()
    assert (stations.target_value, stations.baseline_value) == (26, 1200)


def test_the_target_api_reads_typed_numbers_and_refuses_a_decimal_comma(staff_nanyang):
    stations = Target.objects.get(plan__code=NANYANG, code=AREA)
    client = client_for(staff_nanyang)
    url = f"/api/v1/targets/{stations.pk}/"

    refused = client.patch(url, {"target_value": "2,5", "version": stations.version}, format="json")
    assert refused.status_code == 400
    error = refused.json()["errors"]["target_value"][0]
    assert error["code"] == "decimal_comma" and "是否为 2.5？" in error["message"]

    typed = {"target_value": "１，２００", "version": stations.version}
    saved = client.patch(url, typed, format="json")
    assert saved.status_code == 200, saved.json()
    assert Decimal(str(saved.json()["target_value"])) == 1200


def test_the_station_form_takes_the_same_numbers(staff_nanyang, seeded):
    from stations.forms import StationForm

    form = StationForm(user=staff_nanyang)
    assert isinstance(form.fields["floor_area_m2"], NumberField)
    assert form.fields["floor_area_m2"].clean("1,200㎡") == 1200
    assert form.fields["investment_10k_yuan"].clean("3万元") == 3
    with pytest.raises(Exception, match=r"是否为 1\.5？"):
        form.fields["land_area_m2"].clean("1,5")
