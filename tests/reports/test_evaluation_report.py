"""The evaluation report (中期/终期评估) as a Word document (issue 17 item 5), and the
finished plan judged as finished (item 4) in it."""

import datetime
import io
import os
import shutil
import subprocess

import pytest
from django.urls import reverse
from django.utils import timezone
from docx import Document

from planning.models import Plan
from reports.evaluation import cjk_font, evaluation_report
from targets import upkeep
from targets.choices import EvaluationKind
from targets.models import Target, TargetEvaluationNote
from tests.targets.test_successor import LIANZHOU, report_hydrants

AFTER_END = datetime.date(2026, 1, 31)


@pytest.fixture
def hydrants(liaison_lianzhou, staff_lianzhou):
    return report_hydrants(liaison_lianzhou, staff_lianzhou)


def read_docx(content: bytes):
    document = Document(io.BytesIO(content))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = [[c.text for c in row.cells] for table in document.tables for row in table.rows]
    return document, text, cells


def test_final_report_holds_every_target_and_says_met_or_unmet(hydrants, staff_lianzhou):
    plan = Plan.objects.get(code=LIANZHOU)
    upkeep.save_evaluation_note(
        hydrants, actor=staff_lianzhou, kind=EvaluationKind.FINAL, reason="道路改造推迟"
    )
    content = evaluation_report(plan, on=AFTER_END, kind=EvaluationKind.FINAL)
    document, text, cells = read_docx(content)

    assert "终期评估" in text
    assert "指标完成" in text and "未完成" in text
    table = document.tables[0]
    names = {row.cells[1].text for row in table.rows[1:]}
    assert names == set(Target.objects.filter(plan=plan).values_list("name", flat=True))
    row = next(r for r in cells if r[1] == "新增市政消火栓")
    # 185 of 190: unmet, 5 short, 97.4 %.
    assert row[6] == "185"
    assert row[8] == "未完成（差 5 个，完成 97.4%）"
    every_judgement = {r[8] for r in table_rows(document.tables[0])}
    assert not any("滞后" in j for j in every_judgement)
    assert len(document.inline_shapes) >= 2  # a binding target's chart and the regions
    reasons = next(r for r in cells if r[0] == "新增市政消火栓" and len(r) == 3)
    assert reasons[2] == "道路改造推迟"


def table_rows(table):
    return [[c.text for c in row.cells] for row in table.rows[1:]]


def test_a_cjk_font_is_found_for_the_charts():
    if not os.path.exists("/usr/share/fonts/opentype/noto"):
        pytest.skip("fonts-noto-cjk not installed")
    assert cjk_font() is not None


def test_report_downloads_from_the_plan_page_and_the_api(hydrants, staff_lianzhou, client):
    plan = Plan.objects.get(code=LIANZHOU)
    client.force_login(staff_lianzhou)
    page = client.get(
        reverse("reports:plan_evaluation_report", args=[plan.pk]), {"on": "2026-01-31"}
    )
    assert page.status_code == 200
    assert page["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "final" in page["Content-Disposition"]
    api = client.get(
        f"/api/v1/plans/{plan.pk}/evaluation-report/", {"on": "2026-01-31", "kind": "mid"}
    )
    assert api.status_code == 200
    _, text, _ = read_docx(api.content)
    assert "中期评估" in text


def test_bad_parameters_are_refused_with_a_code(staff_lianzhou, client):
    plan = Plan.objects.get(code=LIANZHOU)
    client.force_login(staff_lianzhou)
    url = f"/api/v1/plans/{plan.pk}/evaluation-report/"
    assert client.get(url, {"on": "2026-13-01"}).json()["code"] == "invalid"
    assert client.get(url, {"kind": "yearly"}).json()["code"] == "invalid"
    page = client.get(
        reverse("reports:plan_evaluation_report", args=[plan.pk]), {"on": "x"}, follow=True
    )
    assert "评估日期应为" in page.content.decode()


def test_outsider_gets_no_report(outsider, client):
    plan = Plan.objects.get(code=LIANZHOU)
    client.force_login(outsider)
    assert client.get(f"/api/v1/plans/{plan.pk}/evaluation-report/").status_code == 404
    page = client.get(reverse("reports:plan_evaluation_report", args=[plan.pk]))
    assert page.status_code == 404


def test_libreoffice_opens_the_report(hydrants, tmp_path):
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("soffice and pdftotext are required in CI")
        pytest.skip("注意 NOTICE: soffice or pdftotext not installed")
    plan = Plan.objects.get(code=LIANZHOU)
    source = tmp_path / "evaluation.docx"
    source.write_bytes(evaluation_report(plan, on=AFTER_END))
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "evaluation.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "终期评估" in text
    assert "新增市政消火栓" in text
    assert "未完成" in text
    assert "严重滞后" not in text


def test_staff_write_the_reason_on_the_target_page(hydrants, staff_lianzhou, client):
    client.force_login(staff_lianzhou)
    url = reverse("targets:target_evaluation_note", args=[hydrants.pk])
    response = client.post(url, {"kind": "final", "reason": "征地滞后"})
    assert response.status_code == 302
    note = TargetEvaluationNote.objects.get(target=hydrants, kind="final")
    assert (note.reason, note.actor) == ("征地滞后", staff_lianzhou)
    client.post(url, {"kind": "final", "reason": "征地滞后，次年补建"})
    note.refresh_from_db()
    assert note.reason == "征地滞后，次年补建"
    assert note.history.count() == 2
    page = client.get(reverse("targets:target_detail", args=[hydrants.pk])).content.decode()
    assert "征地滞后，次年补建" in page
    assert "未完成（差 5 个，完成 97.4%）" in page  # the finished plan's verdict
    bad = client.post(url, {"kind": "yearly", "reason": "x"})
    assert bad.status_code == 400
    client.post(url, {"kind": "final", "reason": ""})
    assert not TargetEvaluationNote.objects.filter(target=hydrants).exists()


def test_liaison_cannot_write_a_reason(hydrants, liaison_lianzhou, client):
    client.force_login(liaison_lianzhou)
    url = reverse("targets:target_evaluation_note", args=[hydrants.pk])
    assert client.post(url, {"kind": "final", "reason": "x"}).status_code == 403
    assert not TargetEvaluationNote.objects.exists()


def test_overview_separates_finished_plans(staff_lianzhou, client):
    client.force_login(staff_lianzhou)
    response = client.get(reverse("reports:home"))
    finished = {card.plan.code for card in response.context["finished_cards"]}
    running = {card.plan.code for card in response.context["running_cards"]}
    today = response.context["on"]
    ended = {p.code for p in Plan.objects.all() if p.end_year < today.year}
    assert finished <= ended and not (running & ended)
    if finished:
        assert "已结束的规划" in response.content.decode()


def test_plan_page_of_a_finished_plan_says_so(hydrants, staff_lianzhou, client):
    plan = Plan.objects.get(code=LIANZHOU)
    client.force_login(staff_lianzhou)
    text = client.get(reverse("reports:plan_detail", args=[plan.pk])).content.decode()
    if timezone.localdate().year <= plan.end_year:
        pytest.skip("the plan is still running today")
    assert 'data-testid="plan-finished"' in text
    assert "未完成（差 5 个，完成 97.4%）" in text
    assert "严重滞后" not in text.split('data-testid="plan-tree"')[1]
