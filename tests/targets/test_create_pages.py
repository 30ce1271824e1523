"""Staff create targets and milestones in the browser (「新增指标」, 「新增节点」), numbers read as
people type them, a reason kept in the history (targets.views.target_create, milestone_create;
targets.upkeep).

南阳's plan (nanyang-2021-2025), task b1.2; its staff (staff_nanyang) may change it, the
南召县 liaison and the 南阳 viewer may not, 阜新's staff do not see it. The figures of the new
targets are made up by the tests themselves (no fixture holds them).
"""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from planning.models import Plan, Task
from targets import upkeep
from targets.models import Milestone, Target
from tests.api import client_for as api_client_for
from tests.planning.editing import count_queries, form_data
from tests.targets.test_upkeep import client_for

pytestmark = pytest.mark.django_db

NANYANG = "nanyang-2021-2025"
REASON = "市政府常务会议决定新增"


@pytest.fixture
def plan(seeded) -> Plan:
    return Plan.objects.get(code=NANYANG)


@pytest.fixture
def task(plan) -> Task:
    return Task.objects.get(plan=plan, code="b1.2")


def create_url(plan, task=None) -> str:
    url = reverse("targets:target_create", args=[plan.pk])
    return f"{url}?task={task.pk}" if task else url


TARGET = {
    "name": "新增城市消防车",
    "measure": "increment",
    "measure_unit": "辆",
    "comparator": "gte",
    "target_value": "１，２００",
    "target_year": "2025",
    "baseline_value": "—",
    "baseline_year": "2020",
    "attribute": "expected",
    "feed": "reports",
}


def post_target(client, url, **changes):
    return client.post(url, form_data(client.get(url), **(TARGET | changes)))


def add_milestone(client, target, **values):
    """Post the milestone form; a number read as something else is confirmed by sending the
    form again as the page showed it (the hidden field then holds what was shown)."""
    url = reverse("targets:milestone_create", args=[target.pk])
    response = client.post(url, form_data(client.get(url), **values))
    if response.status_code == 200 and response.context.get("asked"):
        response = client.post(url, form_data(response))
    return response


# ------------------------------------------------------------------------------ the whole way


def test_staff_create_a_target_with_three_milestones_on_a_seed_task(staff_nanyang, task):
    client = client_for(staff_nanyang)
    task_page = client.get(reverse("reports:task_detail", args=[task.pk])).content.decode()
    assert create_url(task.plan, task).replace("&", "&amp;") in task_page  # 「新增指标」
    assert "新增指标" in task_page

    response = post_target(client, create_url(task.plan, task), reason=REASON)

    assert response.status_code == 302, response.content.decode()[:3000]
    target = Target.objects.get(plan=task.plan, name="新增城市消防车")
    assert response.url == reverse("targets:target_detail", args=[target.pk])
    assert (target.task, target.section, target.region.name) == (task, task.section, "南阳市")
    assert (target.target_value, target.baseline_value) == (1200, None)
    assert target.code == "b1.2-t1"  # left blank: numbered after the task
    created = target.history.get()
    assert (created.history_user, created.history_change_reason) == (staff_nanyang, REASON)
    # Written differently, not meaning something else: saved at once, and said after.
    assert "目标值“１，２００”已识别为 1200" in client.get(response.url).content.decode()

    for due, value in (("2023-12-31", "3万"), ("2024-12-31", "600"), ("2025-12-31", "1,200")):
        saved = add_milestone(client, target, due_on=due, planned_value=value, reason=REASON)
        assert saved.status_code == 302, saved.content.decode()[:3000]
        assert saved.url.endswith("#milestones")

    milestones = list(Milestone.objects.filter(target=target).order_by("due_on"))
    assert [m.planned_value for m in milestones] == [30000, 600, 1200]
    assert [m.code for m in milestones] == ["b1.2-t1-m1", "b1.2-t1-m2", "b1.2-t1-m3"]
    assert {m.history.get().history_change_reason for m in milestones} == {REASON}
    body = client.get(reverse("targets:target_detail", args=[target.pk])).content.decode()
    for milestone in milestones:
        assert reverse("targets:milestone_edit", args=[milestone.pk]) in body  # 编辑 links
    assert reverse("targets:milestone_create", args=[target.pk]) in body  # 「新增节点」


def test_a_plan_level_target_from_the_plan_page(staff_nanyang, plan):
    client = client_for(staff_nanyang)
    plan_page = client.get(reverse("reports:plan_detail", args=[plan.pk])).content.decode()
    assert create_url(plan) in plan_page

    response = post_target(client, create_url(plan), code="g-new-trucks")

    assert response.status_code == 302, response.content.decode()[:3000]
    target = Target.objects.get(plan=plan, code="g-new-trucks")
    assert (target.task, target.target_value) == (None, 1200)
    assert target.history.get().history_change_reason == "创建"  # no reason given


def test_staff_add_a_qualitative_milestone_to_a_task(staff_nanyang, task):
    client = client_for(staff_nanyang)
    task_page = client.get(reverse("reports:task_detail", args=[task.pk])).content.decode()
    url = reverse("targets:task_milestone_create", args=[task.pk])
    assert url in task_page
    form = client.get(url)
    assert "planned_value" not in form.context["form"].fields  # a task's step has no value

    text = "出台消防车辆装备更新实施方案"
    response = client.post(url, form_data(form, due_on="2023-06-30", text=text, reason=REASON))

    assert response.status_code == 302, response.content.decode()[:3000]
    assert response.url == reverse("reports:task_detail", args=[task.pk]) + "#milestones"
    milestone = task.milestones.get(text=text)
    assert (milestone.target, milestone.planned_value, milestone.plan) == (None, None, task.plan)
    assert milestone.history.get().history_change_reason == REASON
    assert text in client.get(response.url).content.decode()


# ------------------------------------------------------------------------------ numbers


def test_a_number_read_as_something_else_is_confirmed_before_saving(staff_nanyang, task):
    client = client_for(staff_nanyang)
    url = create_url(task.plan, task)

    asked = post_target(client, url, target_value="3万")

    body = asked.content.decode()
    assert asked.status_code == 200
    assert "目标值“3万”已识别为 30000，请确认后保存" in body
    assert "确认并保存" in body
    assert not Target.objects.filter(name=TARGET["name"]).exists()

    # Changed to another such number: asked again, still nothing saved.
    again = client.post(url, form_data(asked, target_value="4万"))
    assert again.status_code == 200 and "已识别为 40000" in again.content.decode()
    assert not Target.objects.filter(name=TARGET["name"]).exists()

    saved = client.post(url, form_data(again), follow=True)
    assert saved.redirect_chain, saved.content.decode()[:3000]
    assert Target.objects.get(name=TARGET["name"]).target_value == 40000
    assert "目标值“4万”已识别为 40000" in saved.content.decode()


def test_a_percent_is_read_for_a_percent_target(staff_nanyang, task):
    client = client_for(staff_nanyang)
    url = create_url(task.plan, task)
    values = {"name": "消防车辆装备达标率", "measure": "ratio", "measure_unit": "%"}

    asked = post_target(client, url, target_value="95%", **values)
    assert "已识别为 95" in asked.content.decode()
    assert client.post(url, form_data(asked)).status_code == 302
    target = Target.objects.get(name="消防车辆装备达标率")
    assert target.target_value == 95

    # The milestone's value is in the target's unit: 80% is read too.
    assert (
        add_milestone(client, target, due_on="2023-12-31", planned_value="80%").status_code == 302
    )
    assert target.milestones.get().planned_value == 80


@pytest.mark.parametrize("typed", ["1,5", "12,75"])
def test_a_decimal_comma_is_refused_with_the_hint(staff_nanyang, task, typed):
    client = client_for(staff_nanyang)

    response = post_target(client, create_url(task.plan, task), target_value=typed)

    assert response.status_code == 400
    suggestion = typed.replace(",", ".")
    assert f"是否为 {suggestion}？" in response.content.decode()
    assert not Target.objects.filter(name=TARGET["name"]).exists()


def test_a_milestone_with_a_decimal_comma_is_refused(staff_nanyang, task):
    client = client_for(staff_nanyang)
    assert post_target(client, create_url(task.plan, task)).status_code == 302
    target = Target.objects.get(name=TARGET["name"])

    response = add_milestone(client, target, due_on="2023-12-31", planned_value="1,5")

    assert response.status_code == 400
    assert "是否为 1.5？" in response.content.decode()
    assert not target.milestones.exists()


# ------------------------------------------------------------------------------ refusals


def test_bad_input_is_said_field_by_field(staff_nanyang, task):
    client = client_for(staff_nanyang)

    response = post_target(
        client, create_url(task.plan, task), name="", target_year="2019", baseline_year="2020"
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "name" in errors
    assert not Target.objects.filter(plan=task.plan, task=task, target_year=2019).exists()
    # The service's rule (InvalidInput): the years, on their field.
    response = post_target(client, create_url(task.plan, task), target_year="2019")
    assert response.status_code == 400
    assert response.context["form"].errors["target_year"] == ["目标年度不能早于基期年度"]


@pytest.mark.parametrize(
    ("formula", "saved"),
    [
        ("avg(火灾死亡人数 / 常住人口 * 100000)", True),
        ("火灾死亡人数 / ", False),
        ("__import__('os')", False),
    ],
)
def test_a_formula_target(staff_nanyang, plan, formula, saved):
    client = client_for(staff_nanyang)
    values = {"feed": "formula", "formula": formula, "measure": "rate", "measure_unit": ""}

    response = post_target(client, create_url(plan), target_value="0.5", **values)

    if saved:
        assert response.status_code == 302, response.content.decode()[:3000]
        assert Target.objects.get(name=TARGET["name"]).formula == formula
    else:
        assert response.status_code == 400
        (message,) = response.context["form"].errors["formula"]
        assert message.startswith("公式无法识别：")
        assert not Target.objects.filter(name=TARGET["name"]).exists()


def test_an_over_long_reason_is_a_form_error(staff_nanyang, task):
    client = client_for(staff_nanyang)

    response = post_target(client, create_url(task.plan, task), reason="因" * 101)

    assert response.status_code == 400
    assert "修改原因最多 100 个字" in response.content.decode()
    assert not Target.objects.filter(name=TARGET["name"]).exists()
    # The service refuses it too (the API and other callers), naming the field.
    with pytest.raises(upkeep.InvalidInput) as refused:
        upkeep.create_target(
            task.plan,
            actor=staff_nanyang,
            values={"name": "x", "measure": "level"},
            reason="因" * 101,
        )
    assert refused.value.field == "reason"


def test_the_edit_forms_keep_the_reason_in_the_history(staff_nanyang, task):
    target = Target.objects.get(plan=task.plan, code="tg-new-stations")
    client = client_for(staff_nanyang)
    url = reverse("targets:target_edit", args=[target.pk])

    too_long = client.post(url, form_data(client.get(url), target_value="25", reason="因" * 101))
    assert too_long.status_code == 400 and "修改原因最多 100 个字" in too_long.content.decode()

    response = client.post(url, form_data(client.get(url), target_value="25", reason=REASON))
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.target_value, target.history.first().history_change_reason) == (25, REASON)

    milestone = Milestone.objects.create(
        plan=task.plan, target=target, code="x-m", due_on=datetime.date(2023, 12, 31)
    )
    url = reverse("targets:milestone_edit", args=[milestone.pk])
    response = client.post(url, form_data(client.get(url), planned_value="10", reason="核对原文"))
    assert response.status_code == 302
    assert milestone.history.first().history_change_reason == "核对原文"


def test_a_liaison_and_a_viewer_are_refused(liaison_nanzhao, viewer_nanyang, task):
    target = Target.objects.get(plan=task.plan, code="tg-new-stations")
    for user in (liaison_nanzhao, viewer_nanyang):
        client = client_for(user)
        task_page = client.get(reverse("reports:task_detail", args=[task.pk])).content.decode()
        assert "新增指标" not in task_page
        assert (
            reverse("targets:milestone_create", args=[target.pk])
            not in client.get(reverse("targets:target_detail", args=[target.pk])).content.decode()
        )
        for url in (
            create_url(task.plan, task),
            reverse("targets:milestone_create", args=[target.pk]),
            reverse("targets:task_milestone_create", args=[task.pk]),
        ):
            assert client.get(url).status_code == 403
            assert client.post(url, TARGET | {"due_on": "2023-12-31"}).status_code == 403
    assert not Target.objects.filter(name=TARGET["name"]).exists()
    assert not target.milestones.exists()
    assert not task.milestones.filter(due_on=datetime.date(2023, 12, 31)).exists()


def test_staff_of_another_city_get_404(outsider, task):
    client = client_for(outsider)
    target = Target.objects.get(plan=task.plan, code="tg-new-stations")
    assert client.get(create_url(task.plan, task)).status_code == 404
    assert client.post(create_url(task.plan), TARGET).status_code == 404
    assert client.get(reverse("targets:milestone_create", args=[target.pk])).status_code == 404


def test_a_task_of_another_plan_is_404(staff_nanyang, plan, seeded):
    other = Task.objects.exclude(plan=plan).first()
    url = f"{reverse('targets:target_create', args=[plan.pk])}?task={other.pk}"
    assert client_for(staff_nanyang).get(url).status_code == 404


# ------------------------------------------------------------------------------ queries


def test_the_target_page_queries_do_not_grow_with_its_milestones(staff_nanyang, task):
    target = upkeep.create_target(
        task.plan,
        actor=staff_nanyang,
        values={"name": "新增城市消防车", "measure": "increment", "target_value": 10, "task": task},
    )
    client = client_for(staff_nanyang)
    url = reverse("targets:target_detail", args=[target.pk])
    client.get(url)  # warm the per-process caches
    upkeep.create_milestone(
        actor=staff_nanyang, values={"target": target, "due_on": datetime.date(2023, 12, 31)}
    )
    one, _ = count_queries(client, url)
    for year in (2024, 2025, 2026, 2027):
        upkeep.create_milestone(
            actor=staff_nanyang,
            values={"target": target, "due_on": datetime.date(year, 12, 31), "planned_value": 1},
        )
    five, queries = count_queries(client, url)
    assert len(client.get(url).context["milestones"]) == 5
    assert five == one, "\n".join(queries)


# ------------------------------------------------------------------------------ the API


def test_the_api_reads_the_same_numbers(staff_nanyang, task):
    client = api_client_for(staff_nanyang)
    values = {
        "plan": task.plan.pk, "task": task.pk, "code": "api-trucks", "name": "新增城市消防车",
        "measure": "increment", "measure_unit": "辆", "region": task.plan.region_id,
    }  # fmt: skip

    refused = client.post("/api/v1/targets/", values | {"target_value": "1,5"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"]["target_value"][0]["code"] == "decimal_comma"
    assert "是否为 1.5？" in refused.json()["errors"]["target_value"][0]["message"]

    created = client.post(
        "/api/v1/targets/",
        values | {"target_value": "１，２００", "baseline_value": "—"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    target = Target.objects.get(plan=task.plan, code="api-trucks")
    assert (target.target_value, target.baseline_value) == (1200, None)

    milestone = client.post(
        "/api/v1/milestones/",
        {"plan": task.plan.pk, "target": target.pk, "code": "api-trucks-m1",
         "due_on": "2023-12-31", "planned_value": "3万"},
        format="json",
    )  # fmt: skip
    assert milestone.status_code == 201, milestone.json()
    assert Decimal(str(milestone.json()["planned_value"])) == 30000


def test_the_api_keeps_the_reason_in_the_history(staff_nanyang, task):
    target = Target.objects.get(plan=task.plan, code="tg-new-stations")
    client = api_client_for(staff_nanyang)
    url = f"/api/v1/targets/{target.pk}/"

    change = {"target_value": "25", "version": target.version}

    too_long = client.patch(url, change | {"reason": "因" * 101}, format="json")
    assert too_long.status_code == 400 and "reason" in too_long.json()["errors"]

    saved = client.patch(url, change | {"reason": REASON}, format="json")
    assert saved.status_code == 200, saved.json()
    target.refresh_from_db()
    assert (target.target_value, target.history.first().history_change_reason) == (25, REASON)
    assert "reason" not in saved.json()  # written, not read back


def test_an_adjustment_with_a_long_document_number_keeps_its_history_note_short(staff_lianzhou):
    # The adjustment form has its own reason (调整理由, kept on the adjustment); the history row
    # of the target names the document, which may be longer than the history's 100 characters.
    target = Target.objects.get(plan__code="lianzhou-2021-2025", code="t-hydrants")
    doc = "清消委〔2023〕" + "5" * 110

    upkeep.adjust_target(
        target,
        actor=staff_lianzhou,
        version=target.version,
        new_value=Decimal(150),
        doc_number=doc,
        adopted_on=datetime.date(2023, 6, 30),
        reason="中期评估后调减",
    )

    note = target.history.first().history_change_reason
    assert (
        len(note) == 100 and note.startswith("指标调整（清消委〔2023〕555") and note.endswith("…")
    )
    assert target.adjustments.get().doc_number == doc
