"""The evaluation report (中期/终期评估) as a Word document (issue 17 item 5), and the
finished plan judged as finished (item 4) in it."""

import datetime
import io
import os
import shutil
import subprocess

import pytest
from django.urls import reverse
from docx import Document

from planning.models import Plan
from reports.evaluation import cjk_font, evaluation_report
from targets import upkeep
from targets.choices import EvaluationKind
from targets.models import Target
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
