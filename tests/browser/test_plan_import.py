"""Staff import a plan document in a real browser: 「从文件导入」 on the plan list, upload a
.docx made in the test, follow an item's 「原文」 link to its highlighted source line, attach
a milestone the extractor could not place, see 「发布」 refused while a unit name is 待确认,
choose 「新建单位」 for it, drop a task, 「发布」 → the new plan's page. Screenshots go to
artifacts/."""

from urllib.parse import urlsplit

import pytest

from core.models import Unit
from planning.models import Plan
from targets.models import Milestone
from tests.plan_import.documents import docx_from_text
from tests.plan_import.test_review import TEXT

pytestmark = pytest.mark.django_db(transaction=True)

# An annex row by year that matches no target: a milestone left for the reviewer to attach.
ANNEX = "\n附表1：年度建设计划\n2025年，全市建成消防宣传教育基地3个\n"


def test_staff_import_review_and_publish_a_plan_in_the_browser(
    open_session, staff_nanjing, tmp_path
):
    path = tmp_path / "行动计划.docx"
    path.write_bytes(docx_from_text(TEXT + ANNEX))
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
    # the matcher's proposals: 南京's own 市消防救援支队 preselected, 市委宣传部 待确认
    units = page.get_by_test_id("import-units")
    assert "完全一致 100%" in units.inner_text()
    pending = page.get_by_label("对应单位：市委宣传部")
    assert pending.input_value() == ""
    session.shot("plan-import-review")
    assert session.axe_violations() == []

    # attach the loose milestone to the task it belongs to, then 「发布」: refused
    milestone = page.get_by_test_id("import-milestone").first
    assert "全市建成消防宣传教育基地3个" in milestone.inner_text()
    attach = milestone.get_by_role("combobox")
    task = attach.locator("option", has_text="开展消防宣传").get_attribute("value")
    attach.select_option(value=task)
    page.get_by_test_id("import-publish").click()
    page.wait_for_load_state()
    assert "以下单位名称尚未确认" in page.get_by_role("alert").first.inner_text()
    assert not Plan.objects.filter(title__startswith="南京市消防救援能力提升行动计划").exists()

    # the choice made before the refusal is still there; 「新建单位」 for the pending name
    milestone = page.get_by_test_id("import-milestone").first
    assert milestone.get_by_role("combobox").input_value() == task
    page.get_by_label("对应单位：市委宣传部").select_option(label="新建单位")
    page.get_by_test_id("import-task").nth(1).get_by_label("保留任务", exact=False).uncheck()
    page.get_by_test_id("import-publish").click()
    page.wait_for_load_state()
    plan = Plan.objects.get(title="南京市消防救援能力提升行动计划（2024—2026年）")
    assert urlsplit(page.url).path == f"/plans/{plan.pk}/"  # (the #doc-L… fragment stays)
    assert sorted(plan.tasks.values_list("title", flat=True)) == ["加强消防站建设", "开展消防宣传"]
    attached = Milestone.objects.get(plan=plan, text="全市建成消防宣传教育基地3个")
    assert attached.task.title == "开展消防宣传"
    assert Unit.objects.get(name="市委宣传部").region.name == "南京市"
