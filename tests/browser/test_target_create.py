"""Staff add a target to a seed task and a milestone to it, in a real browser: 「新增指标」 on
the task page, a number typed as 3万 shown as read before saving (「已识别为 30000，请确认后
保存」), then 「新增节点」 on the target page. The figures are the test's own."""

import pytest

from planning.models import Task
from targets.models import Target

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_add_a_target_and_a_milestone_from_the_task_page(open_session, staff_nanyang):
    task = Task.objects.get(plan__code="nanyang-2021-2025", code="b1.2")
    session = open_session("staff_nanyang")
    page = session.page
    page.goto(f"/plans/tasks/{task.pk}/")
    page.get_by_test_id("target-create").click()
    page.wait_for_load_state()

    page.get_by_label("指标名称").fill("新增城市主战消防车")
    page.get_by_label("计量方式").select_option("increment")
    page.get_by_label("计量单位").fill("辆")
    page.get_by_label("目标值", exact=True).fill("3万")
    page.get_by_label("目标年度").fill("2025")
    page.get_by_label("修改原因").fill("支队装备规划新增")
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()

    notice = page.get_by_test_id("numbers-to-confirm")
    assert "目标值“3万”已识别为 30000，请确认后保存" in notice.inner_text()
    assert not Target.objects.filter(name="新增城市主战消防车").exists()
    assert session.axe_violations() == []
    session.shot("target-create-confirm")
    page.get_by_role("button", name="确认并保存").click()
    page.wait_for_load_state()

    target = Target.objects.get(name="新增城市主战消防车")
    assert (target.task_id, target.target_value) == (task.pk, 30000)
    assert target.history.get().history_change_reason == "支队装备规划新增"
    assert page.url.endswith(f"/targets/{target.pk}/")

    page.get_by_test_id("milestone-create").click()
    page.wait_for_load_state()
    page.get_by_label("完成时限").fill("2023-12-31")
    page.get_by_label("计划值").fill("１，２００")
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()

    assert page.url.endswith(f"/targets/{target.pk}/#milestones")
    assert target.milestones.get().planned_value == 1200
    table = page.get_by_test_id("milestones").inner_text()
    assert "2023-12-31" in table and "1200" in table
    session.shot("target-create-milestone")
