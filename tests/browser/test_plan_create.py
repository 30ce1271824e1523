"""Staff build a new plan in a real browser: 「新建规划」 on the plan list, two chapters and a
subsection from the plan page, a task with its units, then 上移 and 缩进 by the buttons beside
the sections. Screenshots go to artifacts/."""

import pytest

from planning.models import Plan, Section, Task

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_create_a_plan_and_order_its_sections_in_the_browser(open_session, staff_nanyang):
    session = open_session("staff_nanyang")
    page = session.page
    page.goto("/plans/")
    page.get_by_test_id("plan-create").click()
    page.get_by_label("编码").fill("nanyang-2026-2030")
    page.get_by_label("标题").fill("南阳市“十五五”消防救援事业发展规划")
    page.get_by_label("类型").select_option("five_year")
    page.get_by_label("区划").select_option(label="南阳市")
    page.get_by_label("起始年度").fill("2026")
    page.get_by_label("终止年度").fill("2030")
    page.get_by_label("修改原因").fill("按市政府部署编制")
    assert session.axe_violations() == []
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()
    plan = Plan.objects.get(code="nanyang-2026-2030")
    assert page.url.endswith(f"/plans/{plan.pk}/")

    for title in ("总体要求", "主要任务"):
        page.get_by_test_id("section-create").click()
        page.get_by_label("标题").fill(title)
        page.get_by_role("button", name="保存").click()
        page.wait_for_load_state()
    second = page.locator("section", has_text="主要任务")
    second.get_by_role("link", name="新增子节").click()
    page.get_by_label("标题").fill("消防站建设")
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()

    page.locator("section", has_text="消防站建设").get_by_role("link", name="新增任务").click()
    page.get_by_label("任务名称").fill("新建城市消防站")
    page.get_by_label("牵头单位").select_option(index=0)
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()
    task = Task.objects.get(plan=plan, title="新建城市消防站")
    assert page.url.endswith(f"/plans/tasks/{task.pk}/")
    assert task.section.title == "消防站建设"

    page.goto(f"/plans/{plan.pk}/")
    assert session.axe_violations() == []
    session.shot("plan-page-section-tools")
    page.locator("section", has_text="主要任务").first.get_by_role(
        "button", name="上移", exact=True
    ).click()
    page.wait_for_load_state()
    assert "已调整章节位置" in page.content()
    page.locator("section", has_text="总体要求").get_by_role(
        "button", name="缩进", exact=True
    ).click()
    page.wait_for_load_state()
    tree = [
        (s.title, s.parent.title if s.parent else "")
        for s in Section.objects.filter(plan=plan).select_related("parent").order_by("order")
    ]
    assert tree == [("主要任务", ""), ("消防站建设", "主要任务"), ("总体要求", "主要任务")]
