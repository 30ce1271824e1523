"""Target adjustments (指标调整): a document adopted mid-term changes a target's value or year.

连州 t-hydrants: 新增市政消火栓 190 by 2025 (milestones 20/30/40/50/50). The target keeps the
plan's value; the value in force on a date is the latest adjustment adopted on or before it
(targets.status.value_in_force), and everything that judges or exports uses that value.
"""

import datetime
import io
import json
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.services import InvalidInput, NotAllowed, StaleEdit
from targets import upkeep
from targets.models import AdjustmentIsFinal, ProgressReport, Target, TargetAdjustment
from targets.rollups import StatusBoard
from targets.status import compute_status, load_status_inputs, value_in_force
from tests.api import client_for, error_code
from tests.targets.test_rollups import plan_with_targets

pytestmark = pytest.mark.django_db

D = datetime.date.fromisoformat
LIANZHOU = "lianzhou-2021-2025"
DOC = "连消委〔2025〕3号"


@pytest.fixture
def hydrants(seeded) -> Target:
    return Target.objects.select_related("plan").get(plan__code=LIANZHOU, code="t-hydrants")


@pytest.fixture
def reported(hydrants) -> Target:
    """160 hydrants built in 2021–2025, short of the 190 planned."""
    for period, value in {"2021": 20, "2022": 30, "2023": 40, "2024": 50, "2025": 20}.items():
        ProgressReport.objects.create(
            target=hydrants, region=hydrants.region, period=period, value=value, status="approved"
        )
    return hydrants


def adjust(target, actor, **changes):
    target.refresh_from_db()
    values = {
        "new_value": Decimal(150),
        "doc_number": DOC,
        "adopted_on": D("2025-06-30"),
        "reason": "中期评估后按实际建设条件调减",
    } | changes
    return upkeep.adjust_target(target, actor=actor, version=target.version, **values)


def number(value) -> Decimal:
    return Decimal(str(value))


def judge(target, on: str, **kwargs):
    target = Target.objects.select_related("plan").get(pk=target.pk)
    return compute_status(target, load_status_inputs([target], **kwargs), on=D(on))


# ------------------------------------------------------------------------------ service


class TestService:
    def test_staff_record_the_old_values_and_the_target_keeps_the_plans(
        self, hydrants, staff_lianzhou
    ):
        version = hydrants.version
        adjustment = adjust(hydrants, staff_lianzhou)
        assert (adjustment.old_value, adjustment.old_year) == (190, 2025)
        assert (adjustment.new_value, adjustment.new_year) == (150, 2025)  # year kept
        assert adjustment.actor == staff_lianzhou
        hydrants.refresh_from_db()
        assert (hydrants.target_value, hydrants.target_year) == (190, 2025)
        assert hydrants.version == version + 1  # the ETag changes
        assert DOC in hydrants.history.first().history_change_reason

    @pytest.mark.parametrize("who", ["liaison_lianzhou", "supervisor_nanyang"])
    def test_only_staff_may_adjust(self, request, hydrants, who):
        with pytest.raises(PermissionDenied):
            adjust(hydrants, request.getfixturevalue(who))
        assert not TargetAdjustment.objects.exists()

    def test_staff_of_another_city_may_not(self, hydrants, staff_nanyang):
        with pytest.raises(NotAllowed):
            adjust(hydrants, staff_nanyang)
        assert not TargetAdjustment.objects.exists()

    def test_a_stale_version_is_refused(self, hydrants, staff_lianzhou):
        stale = hydrants.version - 1
        with pytest.raises(StaleEdit):
            upkeep.adjust_target(
                hydrants, actor=staff_lianzhou, version=stale, new_value=150, doc_number=DOC,
                adopted_on=D("2025-06-30"), reason="调减",
            )  # fmt: skip
        assert not TargetAdjustment.objects.exists()

    def test_document_number_and_reason_are_required(self, hydrants, staff_lianzhou):
        with pytest.raises(InvalidInput) as refused:
            adjust(hydrants, staff_lianzhou, doc_number="  ", reason="")
        assert refused.value.errors == {
            "doc_number": ["请填写调整文件的文号"],
            "reason": ["请填写调整理由"],
        }

    @pytest.mark.parametrize(
        ("changes", "field", "message"),
        [
            ({"new_value": Decimal(-1)}, "new_value", "目标值不能为负数"),
            ({"new_value": None}, "new_value", "请填写调整后的目标值"),
            ({"adopted_on": None}, "adopted_on", "请填写调整文件的印发日期"),
            ({"adopted_on": D("2099-01-01")}, "adopted_on", "印发日期不能晚于今天"),
            ({"adopted_on": D("2020-06-30")}, "adopted_on", "印发日期不能早于规划期开始"),
            ({"new_value": Decimal(190)}, None, "与现行的相同"),
        ],
    )
    def test_bad_values_are_refused_by_field(
        self, hydrants, staff_lianzhou, changes, field, message
    ):
        with pytest.raises(InvalidInput) as refused:
            adjust(hydrants, staff_lianzhou, **changes)
        assert message in refused.value.errors[field][0]
        assert not TargetAdjustment.objects.exists()

    def test_an_adjustment_is_never_edited_nor_deleted(self, hydrants, staff_lianzhou):
        adjustment = adjust(hydrants, staff_lianzhou)
        adjustment.new_value = Decimal(100)
        with pytest.raises(AdjustmentIsFinal):
            adjustment.save()
        with pytest.raises(AdjustmentIsFinal):
            adjustment.delete()
        adjustment.refresh_from_db()
        assert adjustment.new_value == 150

    @pytest.mark.usefixtures("on_postgres")
    def test_the_database_refuses_update_and_delete(self, hydrants, staff_lianzhou):
        adjustment = adjust(hydrants, staff_lianzhou)
        rows = TargetAdjustment.objects.filter(pk=adjustment.pk)
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            rows.update(new_value=100)
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            rows._raw_delete(rows.db)
        assert rows.get().new_value == 150

    def test_a_wrong_adjustment_is_reversed_by_another(self, hydrants, staff_lianzhou):
        adjust(hydrants, staff_lianzhou)
        reversal = adjust(
            hydrants, staff_lianzhou, new_value=Decimal(190), doc_number="连消委〔2025〕4号",
            adopted_on=D("2025-09-01"), reason="撤销 3号文的调整",
        )  # fmt: skip
        assert (reversal.old_value, reversal.new_value) == (150, 190)
        hydrants.refresh_from_db()
        for on, value, doc in [
            ("2025-06-29", 190, None),
            ("2025-06-30", 150, DOC),
            ("2025-09-01", 190, "连消委〔2025〕4号"),
        ]:
            in_force = value_in_force(hydrants, D(on))
            assert in_force.value == value
            assert (in_force.adjustment.doc_number if in_force.adjusted else None) == doc

    def test_adjustments_take_effect_in_order_one_before_the_latest_is_refused(
        self, hydrants, staff_lianzhou
    ):
        adjust(hydrants, staff_lianzhou)
        with pytest.raises(InvalidInput) as refused:
            adjust(hydrants, staff_lianzhou, new_value=Decimal(170), adopted_on=D("2025-03-01"))
        assert "不能早于上一次调整" in refused.value.errors["adopted_on"][0]
        # The same day is fine: the one recorded later is in force.
        adjust(hydrants, staff_lianzhou, new_value=Decimal(160), doc_number="连消委〔2025〕5号")
        assert value_in_force(hydrants, D("2025-06-30")).value == 160


# ------------------------------------------------------------------------------ engine


class TestEngine:
    @pytest.mark.parametrize("source", ["rollups", "raw"])
    def test_the_value_in_force_on_the_date_judged(self, reported, staff_lianzhou, source):
        # 160 < 190 once the plan is over: 未完成 (issue 17: not 严重滞后)
        assert judge(reported, "2026-01-01", source=source).status == "unmet"
        adjust(reported, staff_lianzhou)
        before = judge(reported, "2025-06-29", source=source)
        after = judge(reported, "2026-01-01", source=source)
        assert (before.target_value, before.original_value, before.adjustment) == (190, 190, None)
        assert (after.target_value, after.original_value) == (150, 190)
        assert after.adjustment.doc_number == DOC
        assert after.status == "met"  # 160 ≥ 150
        assert after.completion == Decimal(160) / 150

    def test_a_later_target_year_moves_the_deadline(self, reported, staff_lianzhou):
        adjust(reported, staff_lianzhou, new_value=Decimal(190), new_year=2026)
        result = judge(reported, "2026-01-01")
        # No longer past the deadline: 160 of the 190 expected is 84 % of pace.
        assert (result.target_year, result.status) == (2026, "lagging")
        assert judge(reported, "2025-06-01").target_year == 2025

    def test_allocations_keep_their_shares(self, seeded, staff_nanyang):
        target = Target.objects.select_related("plan").get(
            plan__code="nanyang-2021-2025", code="tg-new-stations"
        )
        adjust(target, staff_nanyang, new_value=Decimal(20), new_year=2025)
        inputs = load_status_inputs([target])
        county = inputs.allocations[target.pk][0]
        share = compute_status(
            target,
            inputs,
            on=D("2026-01-01"),
            region_id=county.region_id,
            target_value=county.value,
        )
        assert (share.target_value, share.original_value, share.adjustment) == (
            county.value, county.value, None,
        )  # fmt: skip
        assert compute_status(target, inputs, on=D("2026-01-01")).target_value == 20

    def test_the_plan_status_command_reports_the_value_in_force(
        self, reported, staff_lianzhou, capsys
    ):
        adjust(reported, staff_lianzhou)
        call_command("plan_status", LIANZHOU, "--date", "2026-01-01", "--format", "json")
        rows = {t["code"]: t for t in json.loads(capsys.readouterr().out)["targets"]}
        hydrants = rows["t-hydrants"]
        assert (number(hydrants["target_value"]), number(hydrants["original_value"])) == (150, 190)
        assert (hydrants["status"], hydrants["adjustment"]["doc_number"]) == ("met", DOC)
        call_command("plan_status", LIANZHOU, "--date", "2026-01-01")
        assert f"调整：原目标 190 → 150（{DOC}" in capsys.readouterr().out


def test_status_inputs_cost_the_same_queries_with_adjustments(seeded, staff_lianzhou):
    targets = list(Target.objects.all())
    with CaptureQueriesContext(connection) as without:
        load_status_inputs(targets)
    hydrants = Target.objects.get(plan__code=LIANZHOU, code="t-hydrants")
    adjust(hydrants, staff_lianzhou)
    with CaptureQueriesContext(connection) as queries:
        inputs = load_status_inputs(targets)
    assert len(queries) == len(without) == 4  # adjustments ride in the status query
    assert [a.doc_number for a in inputs.adjustments[hydrants.pk]] == [DOC]
    with CaptureQueriesContext(connection) as computing:
        for target in targets:
            compute_status(target, inputs, on=D("2026-01-01"))
    assert len(computing) == 0


def board_queries(owner) -> tuple[int, StatusBoard]:
    with CaptureQueriesContext(connection) as queries:
        board = StatusBoard([owner], on=D("2022-12-31"))
        board.plan_summary(owner)
        board.region_summary(owner.region_id)
        board.unit_summary(board.assignments[0].unit_id)
    return len(queries), board


def test_the_board_costs_the_same_queries_when_targets_are_adjusted():
    plain, _board = board_queries(plan_with_targets("plain", 20))
    owner = plan_with_targets("adjusted", 20)
    for target in owner.targets.all()[:10]:
        TargetAdjustment.objects.create(
            target=target, old_value=50, new_value=40, old_year=2025, new_year=2025,
            doc_number="调整文件", adopted_on=D("2022-06-30"), reason="调减",
        )  # fmt: skip
    adjusted, board = board_queries(owner)
    assert adjusted == plain  # adjustments ride in the status query
    values = sorted(p.target_value for p in board.target_progress.values())
    assert values == [40] * 10 + [50] * 10


# ------------------------------------------------------------------------------ API


def api_url(target) -> str:
    return f"/api/v1/targets/{target.pk}/adjustments/"


BODY = {
    "new_value": "150",
    "doc_number": DOC,
    "adopted_on": "2025-06-30",
    "reason": "中期评估后按实际建设条件调减",
}


class TestApi:
    def test_staff_post_with_if_match_and_everyone_in_scope_reads(
        self, reported, staff_lianzhou, liaison_lianzhou
    ):
        api = client_for(staff_lianzhou)
        etag = api.get(f"/api/v1/targets/{reported.pk}/")["ETag"]
        response = api.post(api_url(reported), BODY, format="json", HTTP_IF_MATCH=etag)
        assert response.status_code == 201, response.content
        body = response.json()
        assert (number(body["old_value"]), number(body["new_value"]), body["doc_number"]) == (
            190, 150, DOC,
        )  # fmt: skip
        assert response["ETag"] != etag
        listed = client_for(liaison_lianzhou).get(api_url(reported))
        assert listed.status_code == 200
        assert [row["doc_number"] for row in listed.json()] == [DOC]
        detail = api.get(f"/api/v1/targets/{reported.pk}/?on=2026-01-01").json()
        assert number(detail["target_value"]) == 190  # the plan's value, unchanged
        progress = detail["progress"]
        assert (number(progress["target_value"]), number(progress["original_value"])) == (150, 190)
        assert (progress["adjustment"]["doc_number"], progress["status"]) == (DOC, "met")

    def test_without_if_match_428_stale_412_and_nothing_recorded(self, hydrants, staff_lianzhou):
        api = client_for(staff_lianzhou)
        missing = api.post(api_url(hydrants), BODY, format="json")
        assert (missing.status_code, error_code(missing)) == (428, "precondition_required")
        stale = f'"{hydrants.pk}-{hydrants.version - 1}"'
        refused = api.post(api_url(hydrants), BODY, format="json", HTTP_IF_MATCH=stale)
        assert (refused.status_code, error_code(refused)) == (412, "stale_edit")
        assert not TargetAdjustment.objects.exists()

    def test_bad_input_is_400_with_field_errors(self, hydrants, staff_lianzhou):
        etag = f'"{hydrants.pk}-{hydrants.version}"'
        api = client_for(staff_lianzhou)
        response = api.post(
            api_url(hydrants), {"new_value": "-3"}, format="json", HTTP_IF_MATCH=etag
        )
        assert response.status_code == 400
        assert {"new_value", "doc_number", "adopted_on", "reason"} <= set(response.json()["errors"])
        future = BODY | {"adopted_on": "2099-01-01"}
        response = api.post(api_url(hydrants), future, format="json", HTTP_IF_MATCH=etag)
        assert response.status_code == 400
        assert response.json()["errors"]["adopted_on"][0]["message"] == "印发日期不能晚于今天"
        assert not TargetAdjustment.objects.exists()

    def test_a_liaison_is_403_and_an_outsider_404(self, hydrants, liaison_lianzhou, outsider):
        etag = f'"{hydrants.pk}-{hydrants.version}"'
        liaison = client_for(liaison_lianzhou).post(
            api_url(hydrants), BODY, format="json", HTTP_IF_MATCH=etag
        )
        assert liaison.status_code == 403
        assert client_for(outsider).get(api_url(hydrants)).status_code == 404
        assert not TargetAdjustment.objects.exists()

    def test_the_schema_documents_the_precondition(self, client):
        schema = client.get("/api/schema/", {"format": "json"}).json()
        post = schema["paths"]["/api/v1/targets/{id}/adjustments/"]["post"]
        assert {"201", "400", "403", "412", "428"} <= set(post["responses"])
        assert any(p["name"] == "If-Match" and p["required"] for p in post["parameters"])


# ------------------------------------------------------------------------------ page


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(target, **changes) -> dict:
    target.refresh_from_db()
    return BODY | {"new_year": "", "version": target.version} | changes


class TestPage:
    def test_staff_see_the_form_and_record_an_adjustment(self, hydrants, staff_lianzhou):
        client = browser(staff_lianzhou)
        page = client.get(reverse("targets:target_detail", args=[hydrants.pk]))
        assert "指标调整" in page.content.decode() and page.context["adjust_form"] is not None
        response = client.post(
            reverse("targets:target_adjust", args=[hydrants.pk]), form_data(hydrants)
        )
        assert response.status_code == 302
        assert response["Location"].endswith(f"/targets/{hydrants.pk}/#adjustments")
        body = client.get(reverse("targets:target_detail", args=[hydrants.pk])).content.decode()
        assert "原目标值" in body and "调整后目标值" in body
        assert DOC in body and "2025-06-30" in body and "中期评估后按实际建设条件调减" in body

    def test_missing_reason_and_document_number_are_chinese_field_errors(
        self, hydrants, staff_lianzhou
    ):
        response = browser(staff_lianzhou).post(
            reverse("targets:target_adjust", args=[hydrants.pk]),
            form_data(hydrants, reason="", doc_number=""),
        )
        assert response.status_code == 400
        form = response.context["adjust_form"]
        assert form.errors["reason"] == ["请填写调整理由"]
        assert form.errors["doc_number"] == ["请填写调整文件的文号"]
        assert "未登记：请按提示修改后再提交" in response.content.decode()
        assert not TargetAdjustment.objects.exists()

    def test_a_service_refusal_lands_on_its_field_and_a_stale_form_is_409(
        self, hydrants, staff_lianzhou
    ):
        client = browser(staff_lianzhou)
        url = reverse("targets:target_adjust", args=[hydrants.pk])
        refused = client.post(url, form_data(hydrants, adopted_on="2099-01-01"))
        assert refused.context["adjust_form"].errors["adopted_on"] == ["印发日期不能晚于今天"]
        stale = client.post(url, form_data(hydrants) | {"version": hydrants.version - 1})
        assert stale.status_code == 409
        assert not TargetAdjustment.objects.exists()

    def test_the_plan_page_marks_the_adjusted_target(self, hydrants, staff_lianzhou):
        adjust(hydrants, staff_lianzhou)
        page = browser(staff_lianzhou).get(reverse("reports:plan_detail", args=[hydrants.plan_id]))
        body = page.content.decode()
        assert body.count('data-testid="adjusted-badge"') >= 1 and f"调整为 150（{DOC}）" in body

    def test_readers_see_no_form_and_a_liaison_cannot_post(self, hydrants, liaison_lianzhou):
        client = browser(liaison_lianzhou)
        page = client.get(reverse("targets:target_detail", args=[hydrants.pk]))
        assert page.context["adjust_form"] is None
        assert 'data-testid="adjust-form"' not in page.content.decode()
        url = reverse("targets:target_adjust", args=[hydrants.pk])
        assert client.post(url, form_data(hydrants)).status_code == 403
        assert not TargetAdjustment.objects.exists()


# ------------------------------------------------------------------------------ exports


def workbook(response) -> openpyxl.Workbook:
    assert response.status_code == 200, response.content[:500]
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def rows_by_header(sheet) -> list[dict]:
    """Body rows by header: a column's own header (row 4), else the one above it (row 3)."""
    headers = [low.value or high.value for high, low in zip(sheet[3], sheet[4], strict=True)]
    return [
        dict(zip(headers, row, strict=True)) for row in sheet.iter_rows(min_row=5, values_only=True)
    ]


class TestExports:
    def test_the_evaluation_shows_both_values_with_the_document(self, reported, staff_lianzhou):
        adjust(reported, staff_lianzhou)
        client = browser(staff_lianzhou)
        response = client.get(
            reverse("reports:excel_evaluation"),
            {"plan": reported.plan_id, "on": "2026-01-01", "export": "xlsx"},
        )
        rows = rows_by_header(workbook(response)["中期评估"])
        row = next(r for r in rows if r["编码"] == "t-hydrants")
        assert (row["原目标值"], row["调整后目标值"], row["调整文号"]) == (190, 150, DOC)
        assert row["状态"] == "已完成"
        other = next(r for r in rows if r["编码"] != "t-hydrants")
        assert (other["调整后目标值"], other["调整文号"]) == (None, None)
        page = client.get(
            reverse("reports:excel_evaluation"), {"plan": reported.plan_id, "on": "2026-01-01"}
        )
        assert DOC in page.content.decode()

    def test_the_assessment_shows_both_values_with_the_document(self, reported, staff_lianzhou):
        adjust(reported, staff_lianzhou)
        response = browser(staff_lianzhou).get(
            reverse("reports:excel_assessment"),
            {"plan": reported.plan_id, "year": 2025, "export": "xlsx"},
        )
        rows = rows_by_header(workbook(response)["连州市本级"])
        row = next(r for r in rows if r["指标"] == reported.name)
        assert (row["原目标值"], row["调整后目标值"], row["调整文号"]) == (190, 150, DOC)
