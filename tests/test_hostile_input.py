"""Issue 20, findings 11–13: what a careless or hostile request must not do — 500s (a page
number past bigint, an approved report nobody submitted, a reason longer than the history
column), a 2 000 000-character note, bidi and control characters, oversized API bodies,
English error pages — and evidence files shared across regions."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import Region
from core.services import REASON_LIMIT, InvalidInput, save_versioned
from core.text import TEXT_LIMIT, clean_text
from targets import services
from targets.models import ProgressReport, Target
from tests.api import client_for, error_code, if_match

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
HOSTILE = "\u202e\x1b[31m\ufeff"  # RLO, ESC (an ANSI colour), BOM


@pytest.fixture
def new_stations(seeded):
    """南阳 新建消防站24个, allocated per county (附件1: 南召县 3, 西峡县 1)."""
    return Target.objects.select_related("plan").get(
        plan__code="nanyang-2021-2025", code="tg-new-stations"
    )


@pytest.fixture
def hydrants(seeded):
    return Target.objects.select_related("plan").get(
        plan__code="lianzhou-2021-2025", code="t-hydrants"
    )


def region(name: str) -> Region:
    return Region.objects.get(name=name)


# ------------------------------------------------------------------ finding 12: the 500s


def test_a_page_number_past_bigint_is_a_404_with_its_code(staff_nanyang):
    response = client_for(staff_nanyang).get("/api/v1/reports/?page=99999999999999999999")
    assert response.status_code == 404 and error_code(response) == "not_found"


def test_a_page_past_the_capped_count_is_still_a_404(staff_nanyang):
    # 10 000 rows at most are counted; page 202 of 50 starts past them
    response = client_for(staff_nanyang).get("/api/v1/targets/?page=202")
    assert response.status_code == 404 and error_code(response) == "not_found"
    assert client_for(staff_nanyang).get("/api/v1/targets/?page=1").status_code == 200


def test_the_review_inbox_lists_an_approved_report_nobody_submitted(
    client, staff_nanyang, new_stations
):
    ProgressReport.objects.create(
        target=new_stations, region=region("南召县"), period="2022", value=2, status="approved"
    )
    client.force_login(staff_nanyang)
    response = client.get(reverse("targets:review_inbox"), {"status": "approved"})
    assert response.status_code == 200
    assert "南召县" in response.content.decode()


def test_a_reason_longer_than_the_history_column_is_a_field_error(hydrants, staff_lianzhou):
    with pytest.raises(InvalidInput) as refused:
        save_versioned(hydrants, [], actor=staff_lianzhou, reason="理" * (REASON_LIMIT + 1))
    assert refused.value.field == "reason" and "100" in refused.value.errors["reason"][0]
    hydrants.refresh_from_db()
    assert hydrants.version == 1
    save_versioned(hydrants, [], actor=staff_lianzhou, reason="理" * REASON_LIMIT)
    assert hydrants.history.first().history_change_reason == "理" * REASON_LIMIT


def test_an_adjustment_with_a_long_document_number_is_recorded_not_a_500(hydrants, staff_lianzhou):
    """The history reason 「指标调整（文号）」 of a 128-character 文号 is longer than 100: the
    system's own reason is clipped (the user typed a valid 文号)."""
    api = client_for(staff_lianzhou)
    etag = api.get(f"/api/v1/targets/{hydrants.pk}/")["ETag"]
    body = {
        "new_value": "150",
        "doc_number": "连" * 128,
        "adopted_on": "2025-06-30",
        "reason": "中期评估后按实际建设条件调减",
    }
    response = api.post(
        f"/api/v1/targets/{hydrants.pk}/adjustments/", body, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 201, response.content
    assert len(hydrants.history.first().history_change_reason) == REASON_LIMIT


# ------------------------------------------------------------------ finding 13: text


def test_the_report_form_refuses_a_two_million_character_note_on_the_field(
    client, liaison_nanzhao, new_stations, open_2024
):
    client.force_login(liaison_nanzhao)
    url = reverse("targets:report_edit", args=[new_stations.pk, region("南召县").pk, "2024"])
    response = client.post(url, {"value": "1", "note": "a" * 2_000_000})  # 2 MB: under Django's cap
    assert response.status_code in (200, 400)
    assert str(TEXT_LIMIT) in response.content.decode()
    assert not ProgressReport.objects.filter(target=new_stations, period="2024").exists()
    # 6 MB of Chinese is over DATA_UPLOAD_MAX_MEMORY_SIZE: a Chinese 413 page, nothing saved
    response = client.post(url, {"value": "1", "note": "火" * 2_000_000})
    assert response.status_code == 413 and "请求内容过大" in response.content.decode()
    assert not ProgressReport.objects.filter(target=new_stations, period="2024").exists()


def test_the_api_and_the_service_share_the_note_limit(liaison_nanzhao, new_stations, open_2024):
    api = client_for(liaison_nanzhao)
    body = {"target": new_stations.pk, "region": region("南召县").pk, "period": "2024"}
    response = api.post("/api/v1/reports/", body | {"note": "火" * (TEXT_LIMIT + 1)}, format="json")
    assert response.status_code == 400 and "note" in response.json()["errors"]
    with pytest.raises(services.ServiceError) as refused:
        services.save_report(
            actor=liaison_nanzhao, target=new_stations, region=region("南召县"), period="2024",
            value=1, note="火" * (TEXT_LIMIT + 1),
        )  # fmt: skip
    assert refused.value.field == "note"


def test_clean_text_removes_bidi_overrides_and_control_characters_only():
    assert clean_text(f"验收{HOSTILE}报告\t第1页\n第2页") == "验收[31m报告\t第1页\n第2页"
    assert clean_text("\u2066甲\u2069\u200b乙\x00") == "甲乙"


def test_notes_lose_bidi_and_control_characters_in_the_form_and_the_api(
    client, liaison_nanzhao, new_stations, open_2024
):
    client.force_login(liaison_nanzhao)
    url = reverse("targets:report_edit", args=[new_stations.pk, region("南召县").pk, "2024"])
    assert client.post(url, {"value": "1", "note": f"已建成{HOSTILE}1座"}).status_code == 302
    report = ProgressReport.objects.get(target=new_stations, period="2024")
    assert report.note == "已建成[31m1座"
    api = client_for(liaison_nanzhao)
    response = api.patch(
        f"/api/v1/reports/{report.pk}/", {"note": f"\u202e{HOSTILE}更正"}, format="json",
        **if_match(report),
    )  # fmt: skip
    assert response.status_code == 200, response.content
    report.refresh_from_db()
    assert report.note == "[31m更正"


def test_an_evidence_file_name_loses_its_bidi_override(
    settings, tmp_path, liaison_nanzhao, new_stations, open_2024
):
    """Django's multipart parser already drops some characters from file names; the service
    door (a workbook's import, a form's files) relies on core.evidence alone."""
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("验收\u202efdp.exe.pdf", PDF, content_type="application/pdf")
    report = services.save_report(
        actor=liaison_nanzhao, target=new_stations, region=region("南召县"), period="2024",
        value=1, evidence=[upload],
    )  # fmt: skip
    assert report.evidence.get().original_name == "验收fdp.exe.pdf"


def test_an_oversized_json_body_is_a_json_413(settings, liaison_nanzhao, new_stations):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = {"target": new_stations.pk, "region": 1, "period": "2024", "note": "火" * 20_000}
    response = client_for(liaison_nanzhao).post(
        "/api/v1/reports/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 413 and error_code(response) == "request_too_large"


def test_an_oversized_form_body_is_a_json_413(settings, liaison_nanzhao, new_stations):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = {"target": new_stations.pk, "region": 1, "period": "2024", "note": "火" * 20_000}
    response = client_for(liaison_nanzhao).post("/api/v1/reports/", body, format="multipart")
    assert response.status_code == 413 and error_code(response) == "request_too_large"


def test_error_pages_are_in_chinese(client, liaison_nanzhao):
    client.force_login(liaison_nanzhao)
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404 and "页面不存在" in missing.content.decode()
    refused = client.get(reverse("accounts:user_list"))
    assert refused.status_code == 403 and "无权访问" in refused.content.decode()


# ------------------------------------------------------------------ finding 11: evidence


def test_the_same_file_from_two_regions_keeps_each_uploader_and_name(
    settings, tmp_path, liaison_nanzhao, liaison_xixia, new_stations, open_2024
):
    settings.MEDIA_ROOT = tmp_path
    reports = {}
    for user, county, name in [
        (liaison_nanzhao, "南召县", "南召验收.pdf"),
        (liaison_xixia, "西峡县", "西峡验收.pdf"),
    ]:
        reports[county] = services.save_report(
            actor=user, target=new_stations, region=region(county), period="2024", value=1,
            evidence=[SimpleUploadedFile(name, PDF, content_type="application/pdf")],
        )  # fmt: skip
    nanzhao, xixia = (reports[c].evidence.get() for c in ("南召县", "西峡县"))
    assert (xixia.original_name, xixia.uploaded_by) == ("西峡验收.pdf", liaison_xixia)
    assert (nanzhao.original_name, nanzhao.uploaded_by) == ("南召验收.pdf", liaison_nanzhao)
    assert nanzhao.pk != xixia.pk and nanzhao.file.name == xixia.file.name  # stored once
    assert len(list(tmp_path.rglob("*.pdf"))) == 1
    body = client_for(liaison_xixia).get(f"/api/v1/reports/{reports['西峡县'].pk}/").json()
    assert "南召" not in json.dumps(body, ensure_ascii=False)
