"""Staff import a plan document in a real browser: 「从文件导入」 on the plan list, upload a
.docx made in the test, follow an item's 「原文」 link to its highlighted source line, drop a
task, 「发布」 → the new plan's page. Screenshots go to artifacts/."""

from urllib.parse import urlsplit

import pytest

from planning.models import Plan
from tests.plan_import.documents import docx_from_text
from tests.plan_import.test_review import TEXT

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_import_review_and_publish_a_plan_in_the_browser(
    open_session, staff_nanjing, tmp_path
):
    path = tmp_path / "行动计划.docx"
    path.write_bytes(docx_from_text(TEXT))
    session = open_session("staff_nanjing_office")
    page = session.page
    page.goto("/plans/")
    page.get_by_test_id("plan-import").click()
    page.get_by_label("规划文件").set_input_files(str(path))
    assert session.axe_violations() == []
    page.get_by_role("button", name="上传并识别").click()
    page.wait_for_load_state()
    assert "/plans/import/" in page.url
    first = page.get_by_test_id("import-task").first
    first.get_by_test_id("import-source-link").first.click()
    line = page.locator("p:target")
    assert "加强消防站建设" in line.inner_text()
    session.shot("plan-import-review")
    assert session.axe_violations() == []
    page.get_by_test_id("import-task").nth(1).get_by_label("保留任务", exact=False).uncheck()
    page.get_by_test_id("import-publish").click()
    page.wait_for_load_state()
    plan = Plan.objects.get(title="南京市消防救援能力提升行动计划（2024—2026年）")
    assert urlsplit(page.url).path == f"/plans/{plan.pk}/"  # (the #doc-L… fragment stays)
    assert sorted(plan.tasks.values_list("title", flat=True)) == ["加强消防站建设", "开展消防宣传"]
