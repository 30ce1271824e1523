"""Staff keep targets and milestones current in the browser (targets.upkeep).

南阳 tg-new-stations: 新建消防站 24 个 by 2025, allocated to the counties (南召县 3).
连州 t-hydrants: 新增市政消火栓 with yearly milestones 20/30/40/50/50.
南阳 t4.1.1-m1: a task's qualitative milestone (出台《南阳市居民住宅区消防安全管理条例》).
"""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models import Region
from core.services import InvalidInput, NotAllowed, StaleEdit
from planning.models import Plan, Task
from targets import upkeep
from targets.models import Milestone, Target
from tests.conftest import make_user
from tests.planning.editing import form_data


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def stations_target(seeded) -> Target:
    return Target.objects.get(plan__code="nanyang-2021-2025", code="tg-new-stations")


@pytest.fixture
def hydrant_milestone(seeded) -> Milestone:
    return Milestone.objects.get(target__code="t-hydrants", due_on=datetime.date(2022, 12, 31))


@pytest.fixture
def task_milestone(seeded) -> Milestone:
    return Milestone.objects.get(plan__code="nanyang-2021-2025", code="t4.1.1-m1")


# ------------------------------------------------------------------------------ pages


def test_the_target_page_shows_source_status_milestones_allocations(staff_lianzhou, seeded):
    target = Target.objects.get(plan__code="lianzhou-2021-2025", code="t-hydrants")
    page = client_for(staff_lianzhou).get(reverse("targets:target_detail", args=[target.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert target.source_text[:20] in body
    assert page.context["progress"].status  # from targets.status.compute_status
    assert [m.planned_value for m, _, _ in page.context["milestones"]] == [20, 30, 40, 50, 50]
    assert "2022-12-31" in body and "修改记录" in body


def test_the_target_page_lists_each_countys_allocation(supervisor_nanyang, stations_target):
    page = client_for(supervisor_nanyang).get(
        reverse("targets:target_detail", args=[stations_target.pk])
    )
    allocations = {name: allocation.value for allocation, name, _ in page.context["allocations"]}
    assert allocations["南召县"] == 3
    assert "南召县" in page.content.decode()


def test_staff_edit_a_target_and_the_history_names_them(staff_nanyang, stations_target):
    client = client_for(staff_nanyang)
    url = reverse("targets:target_edit", args=[stations_target.pk])

    response = client.post(url, form_data(client.get(url), target_value="26", attribute="binding"))

    assert response.status_code == 302
    stations_target.refresh_from_db()
    assert (stations_target.target_value, stations_target.version) == (26, 2)
    assert stations_target.history.first().history_user == staff_nanyang
    detail = client.get(
        reverse("targets:target_detail", args=[stations_target.pk])
    ).content.decode()
    assert "目标值：24 → 26" in detail
    assert "指标属性：— → 约束性" in detail


def test_staff_mark_a_qualitative_milestone_done(staff_nanyang, task_milestone):
    client = client_for(staff_nanyang)
    url = reverse("targets:milestone_edit", args=[task_milestone.pk])
    page = client.get(url)
    assert "planned_value" not in page.context["form"].fields  # a task's milestone has no value

    response = client.post(url, form_data(page, completed_on="2022-03-01"))

    assert response.status_code == 302
    assert response.url == reverse("reports:task_detail", args=[task_milestone.task_id])
    task_milestone.refresh_from_db()
    assert task_milestone.completed_on == datetime.date(2022, 3, 1)
    assert task_milestone.history.first().history_user == staff_nanyang
    task_page = client.get(response.url).content.decode()
    assert "已完成（2022-03-01）" in task_page


def test_staff_change_a_milestones_planned_value(staff_lianzhou, hydrant_milestone):
    client = client_for(staff_lianzhou)
    url = reverse("targets:milestone_edit", args=[hydrant_milestone.pk])

    response = client.post(url, form_data(client.get(url), planned_value="35"))

    assert response.status_code == 302
    hydrant_milestone.refresh_from_db()
    assert (hydrant_milestone.planned_value, hydrant_milestone.version) == (35, 2)
    page = client.get(url).content.decode()
    assert "计划值：30 → 35" in page


# ------------------------------------------------------------------------------ scope


def test_outsider_gets_404_for_target_and_milestone_pages(
    outsider, stations_target, task_milestone
):
    client = client_for(outsider)
    for url in [
        reverse("targets:target_detail", args=[stations_target.pk]),
        reverse("targets:target_edit", args=[stations_target.pk]),
        reverse("targets:milestone_edit", args=[task_milestone.pk]),
    ]:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"name": "x"}).status_code == 404, url
    stations_target.refresh_from_db()
    assert stations_target.version == 1


@pytest.mark.parametrize("who", ["liaison_nanzhao", "supervisor_nanyang", "viewer_nanyang"])
def test_read_only_roles_see_targets_but_get_403_on_edits(
    who, request, stations_target, task_milestone
):
    client = client_for(request.getfixturevalue(who))
    page = client.get(reverse("targets:target_detail", args=[stations_target.pk]))
    assert page.status_code == 200
    assert reverse("targets:target_edit", args=[stations_target.pk]) not in page.content.decode()
    for url in [
        reverse("targets:target_edit", args=[stations_target.pk]),
        reverse("targets:milestone_edit", args=[task_milestone.pk]),
    ]:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "x", "version": "1"}).status_code == 403, url
    stations_target.refresh_from_db()
    assert stations_target.version == 1


def test_the_services_refuse_targets_outside_the_scope(outsider, stations_target):
    with pytest.raises(NotAllowed):
        upkeep.update_target(
            stations_target, actor=outsider, version=1, changes={"target_value": 1}
        )
    with pytest.raises(NotAllowed):
        upkeep.create_target(
            stations_target.plan,
            actor=outsider,
            values={"code": "x", "name": "x", "measure": "increment"},
        )


def test_a_target_cannot_be_set_for_a_region_outside_the_scope(staff_nanyang, stations_target):
    haimen = Region.objects.get(name="海门区")
    with pytest.raises(NotAllowed):
        upkeep.update_target(
            stations_target, actor=staff_nanyang, version=1, changes={"region": haimen}
        )
    stations_target.refresh_from_db()
    assert stations_target.region.name == "南阳市"


def test_staff_create_targets_and_milestones_in_their_plans(staff_nanyang, seeded):
    plan = Plan.objects.get(code="nanyang-2021-2025")
    task = Task.objects.get(plan=plan, code="b1.2")
    target = upkeep.create_target(
        plan,
        actor=staff_nanyang,
        values={
            "code": "tg-new",
            "name": "新增消防车",
            "measure": "increment",
            "measure_unit": "辆",
            "target_value": 40,
            "target_year": 2025,
            "task": task,
        },
    )
    milestone = upkeep.create_milestone(
        actor=staff_nanyang,
        values={
            "target": target,
            "code": "tg-new-2023",
            "due_on": datetime.date(2023, 12, 31),
            "planned_value": 20,
        },
    )
    assert (target.region.name, milestone.plan) == ("南阳市", plan)
    assert target.history.get().history_user == staff_nanyang
    with pytest.raises(InvalidInput) as refused:
        upkeep.create_milestone(
            actor=staff_nanyang,
            values={"task": task, "code": "b1.2-m", "due_on": datetime.date(2023, 6, 30),
                    "planned_value": 3},
        )  # fmt: skip
    assert refused.value.field == "planned_value"


# ------------------------------------------------------------------------------ conflicts


def test_the_second_of_two_concurrent_target_edits_is_refused_naming_the_first(
    staff_nanyang, stations_target
):
    colleague = make_user("staff_nanyang_wang", "staff", "南阳市", first_name="王五")
    first, second = client_for(colleague), client_for(staff_nanyang)
    url = reverse("targets:target_edit", args=[stations_target.pk])
    first_page, second_page = first.get(url), second.get(url)

    assert first.post(url, form_data(first_page, target_value="25")).status_code == 302
    response = second.post(url, form_data(second_page, target_value="30"))

    assert response.status_code == 409
    assert "该记录已被他人修改，请刷新后重试（王五 于 " in response.content.decode()
    stations_target.refresh_from_db()
    assert (stations_target.target_value, stations_target.version) == (25, 2)


def test_a_stale_milestone_save_is_refused(staff_lianzhou, hydrant_milestone):
    upkeep.update_milestone(
        hydrant_milestone, actor=staff_lianzhou, version=1, changes={"planned_value": 31}
    )
    with pytest.raises(StaleEdit) as refused:
        upkeep.update_milestone(
            hydrant_milestone, actor=staff_lianzhou, version=1, changes={"planned_value": 29}
        )
    assert "staff_lianzhou" in refused.value.message
    hydrant_milestone.refresh_from_db()
    assert hydrant_milestone.planned_value == 31


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"target_value": "-5"}, "确保该值大于或等于0"),
        ({"baseline_year": "2024", "target_year": "2020"}, "目标年度不能早于基期年度"),
        ({"feed": "formula", "formula": ""}, "数据来源为公式计算时请填写计算公式"),
        ({"feed": "formula", "formula": "deaths / import os"}, "公式无法识别"),
        ({"target_value": "二十四"}, "“二十四”不是数字"),
        ({"target_value": "2,5"}, "是否为 2.5？"),
        ({"measure": "guess"}, "选择一个有效的选项"),
    ],
)
def test_bad_target_input_is_a_400_that_changes_nothing(
    staff_nanyang, stations_target, changes, message
):
    client = client_for(staff_nanyang)
    url = reverse("targets:target_edit", args=[stations_target.pk])
    response = client.post(url, form_data(client.get(url), **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    stations_target.refresh_from_db()
    assert (stations_target.target_value, stations_target.version) == (24, 1)


def test_a_completion_date_in_the_future_is_refused(staff_nanyang, task_milestone):
    client = client_for(staff_nanyang)
    url = reverse("targets:milestone_edit", args=[task_milestone.pk])
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = client.post(url, form_data(client.get(url), completed_on=tomorrow.isoformat()))

    assert response.status_code == 400
    assert "完成日期不能晚于今天" in response.content.decode()
    task_milestone.refresh_from_db()
    assert task_milestone.completed_on is None


def test_a_negative_planned_value_is_refused(staff_lianzhou, hydrant_milestone):
    client = client_for(staff_lianzhou)
    url = reverse("targets:milestone_edit", args=[hydrant_milestone.pk])
    response = client.post(url, form_data(client.get(url), planned_value="-1"))
    assert response.status_code == 400
    assert "计划值" in response.content.decode()
    assert "确保该值大于或等于0" in response.content.decode()
    hydrant_milestone.refresh_from_db()
    assert (hydrant_milestone.planned_value, hydrant_milestone.version) == (30, 1)
