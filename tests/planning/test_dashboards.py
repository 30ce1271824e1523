"""The dashboard pages (总览, plan page, target page) by role and scope, and their query counts:
the same with the seed plans as with ten times the data."""

import copy
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from planning.models import Plan, Region, Task, TaskAssignment
from targets.models import Allocation, Milestone, ProgressReport, ReportingPeriod, Target

NANYANG = "nanyang-2021-2025"


def nanyang_new_stations() -> Target:
    return Target.objects.get(plan__code=NANYANG, name="新建消防站", region__name="南阳市")


def grow(times: int = 10) -> None:
    """``times - 1`` copies of the 南阳 plan (tasks, units, targets, milestones, allocations,
    reporting periods, approved and submitted reports): ten times the seed's volume."""
    source = Plan.objects.get(code=NANYANG)
    tasks = list(Task.objects.filter(plan=source))
    targets = list(Target.objects.filter(plan=source))
    assignments = list(TaskAssignment.objects.filter(task__plan=source))
    milestones = list(Milestone.objects.filter(target__plan=source))
    allocations = list(Allocation.objects.filter(target__plan=source))
    today = timezone.localdate()
    for n in range(1, times):
        plan = Plan.objects.create(
            code=f"copy-{n}",
            title=f"{source.title}（副本{n}）",
            kind=source.kind,
            status=source.status,
            start_year=source.start_year,
            end_year=source.end_year,
            region=source.region,
        )
        task_map = {}
        for task in tasks:
            task_map[task.pk] = Task.objects.create(
                plan=plan, code=task.code, title=task.title, due_on=task.due_on, order=task.order
            )
        TaskAssignment.objects.bulk_create(
            TaskAssignment(task=task_map[a.task_id], unit_id=a.unit_id, role=a.role, order=a.order)
            for a in assignments
        )
        target_map = {}
        for original in targets:
            target = copy.copy(original)
            target.pk = None
            target.plan = plan
            target.task = task_map.get(original.task_id)
            target.section = None
            target.save()
            target_map[original.pk] = target
        Milestone.objects.bulk_create(
            Milestone(
                plan=plan,
                target=target_map[m.target_id],
                due_on=m.due_on,
                planned_value=m.planned_value,
                is_cumulative=m.is_cumulative,
            )
            for m in milestones
        )
        Allocation.objects.bulk_create(
            Allocation(target=target_map[a.target_id], region_id=a.region_id, value=a.value)
            for a in allocations
        )
        ReportingPeriod.objects.create(
            plan=plan,
            period="2024",
            due_on=today + datetime.timedelta(days=5),
            locks_on=today + datetime.timedelta(days=20),
        )
        ProgressReport.objects.bulk_create(
            ProgressReport(
                target=target,
                region_id=allocation.region_id,
                period=period,
                value=1,
                status="approved" if period == "2023" else "submitted",
            )
            for allocation in allocations
            for target in [target_map[allocation.target_id]]
            for period in ("2023", "2024")
        )


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# ------------------------------------------------------------------------------ overview


def test_overview_shows_the_plan_lights_as_words_and_numbers(client, staff_nanyang, open_2024):
    client.force_login(staff_nanyang)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "南阳市“十四五”消防救援事业发展规划" in html
    for word in ["已完成", "正常", "滞后", "严重滞后", "未填报"]:
        assert word in html
    assert 'data-testid="not-reported"' in html
    assert "南召县" in html  # owes figures for the open period 2024


@pytest.mark.parametrize(
    "user_fixture", ["liaison_nanzhao", "supervisor_nanyang", "viewer_nanyang", "staff_nanyang"]
)
def test_every_role_in_nanyang_sees_the_nanyang_overview(client, request, user_fixture):
    client.force_login(request.getfixturevalue(user_fixture))
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "南阳市“十四五”消防救援事业发展规划" in response.content.decode()


def test_overview_of_another_city_does_not_show_nanyang(client, outsider):
    client.force_login(outsider)
    html = client.get(reverse("home")).content.decode()
    assert "南阳市“十四五”" not in html
    assert "阜新" in html


def test_a_county_liaison_is_told_only_of_its_own_missing_figures(
    client, liaison_nanzhao, open_2024
):
    client.force_login(liaison_nanzhao)
    html = client.get(reverse("home")).content.decode()
    table = html[html.index('data-testid="not-reported"') :]
    table = table[: table.index("</table>")]
    assert "南召县" in table
    assert "西峡县" not in table


def test_anonymous_visitors_are_sent_to_the_login_page(client, seeded):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_overview_query_count_is_the_same_with_ten_times_the_data(client, staff_nanyang, open_2024):
    client.force_login(staff_nanyang)
    url = reverse("home")
    count_queries(client, url)  # warm the per-process caches (content types, …)
    seed = count_queries(client, url)
    grow(10)
    assert Plan.objects.filter(region__name="南阳市").count() >= 10
    # session, user, profile, region tree, notices (header); plans; StatusBoard's fixed set;
    # reporting periods; reports; three history queries — none per plan, target or report.
    assert count_queries(client, url) == seed


# ------------------------------------------------------------------------------ plan page


def test_plan_page_shows_stages_integrity_findings_and_progress(client, staff_nanyang):
    client.force_login(staff_nanyang)
    plan = Plan.objects.get(code=NANYANG)
    html = client.get(reverse("plan_detail", args=[plan.pk])).content.decode()
    assert 'data-testid="findings"' in html
    assert "规划一致性检查" in html
    if plan.stages.exists():
        assert 'data-testid="stages"' in html


def test_plan_page_of_another_city_is_not_found(client, outsider):
    client.force_login(outsider)
    plan = Plan.objects.get(code=NANYANG)
    assert client.get(reverse("plan_detail", args=[plan.pk])).status_code == 404


def test_plan_page_query_count_does_not_grow_with_the_plan(client, staff_nanyang):
    client.force_login(staff_nanyang)
    plan = Plan.objects.get(code=NANYANG)
    url = reverse("plan_detail", args=[plan.pk])
    count_queries(client, url)
    seed = count_queries(client, url)
    # Ten times the tasks and targets in the same plan.
    section = plan.sections.first()
    for n in range(len(plan.targets.all()) * 9 // 10):
        task = Task.objects.create(plan=plan, section=section, code=f"x{n}", title=f"任务{n}")
        Target.objects.create(
            plan=plan, task=task, code=f"x{n}", name=f"指标{n}", measure="increment",
            target_value=5, target_year=2025, region=plan.region,
        )  # fmt: skip
    assert count_queries(client, url) == seed


# ------------------------------------------------------------------------------ target page


def test_target_page_has_the_chart_and_its_numbers_as_a_table(client, supervisor_nanyang):
    client.force_login(supervisor_nanyang)
    target = nanyang_new_stations()
    html = client.get(reverse("target_detail", args=[target.pk])).content.decode()
    assert f'data-url="/api/v1/targets/{target.pk}/series/"' in html
    assert 'data-testid="series-table"' in html
    assert "vendor/echarts-6.1.0/echarts.min.js" in html
    assert "编辑指标" not in html  # a supervisor reads


def test_target_page_labels_demo_figures(client, staff_nanyang, open_2024):
    target = nanyang_new_stations()
    region = Region.objects.get(name="南召县")
    ProgressReport.objects.create(
        target=target, region=region, period="2024", value=1, status="approved", is_demo=True
    )
    client.force_login(staff_nanyang)
    html = client.get(reverse("target_detail", args=[target.pk])).content.decode()
    assert 'data-testid="demo-badge"' in html
    assert "演示数据" in html


def test_target_page_of_another_city_is_not_found(client, outsider):
    client.force_login(outsider)
    target = nanyang_new_stations()
    assert client.get(reverse("target_detail", args=[target.pk])).status_code == 404


def test_target_page_query_count_does_not_grow_with_reports(client, staff_nanyang):
    client.force_login(staff_nanyang)
    target = nanyang_new_stations()
    url = reverse("target_detail", args=[target.pk])
    regions = [a.region_id for a in target.allocations.all()]
    ProgressReport.objects.create(
        target=target, region_id=regions[0], period="2021", value=1, status="approved"
    )
    count_queries(client, url)
    # As for the overview, plus the target, its reports and their evidence (one prefetch).
    seed = count_queries(client, url)
    ProgressReport.objects.bulk_create(
        ProgressReport(target=target, region_id=r, period=p, value=1, status="approved")
        for r in regions[1:]
        for p in ("2021", "2022", "2023")
    )
    assert count_queries(client, url) == seed


# ------------------------------------------------------------------------------ district and unit


def test_district_page_shows_its_allocations_and_what_it_owes(client, liaison_nanzhao, open_2024):
    client.force_login(liaison_nanzhao)
    region = Region.objects.get(name="南召县")
    response = client.get(reverse("region_detail", args=[region.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "新建消防站" in html
    assert 'data-testid="completeness"' in html
    assert 'data-testid="on-time"' in html


def test_district_of_another_city_is_not_found(client, liaison_nanzhao):
    client.force_login(liaison_nanzhao)
    other = Region.objects.get(name="阜新市")
    assert client.get(reverse("region_detail", args=[other.pk])).status_code == 404


def test_unit_page_lists_the_tasks_it_leads(client, staff_nanyang):
    client.force_login(staff_nanyang)
    assignment = (
        TaskAssignment.objects.filter(task__plan__code=NANYANG, role="lead")
        .select_related("unit", "task")
        .first()
    )
    response = client.get(reverse("unit_detail", args=[assignment.unit_id]))
    assert response.status_code == 200
    assert assignment.task.title[:20] in response.content.decode()


def test_unit_of_another_city_is_not_found(client, outsider):
    client.force_login(outsider)
    unit = TaskAssignment.objects.filter(task__plan__code=NANYANG).first().unit
    assert client.get(reverse("unit_detail", args=[unit.pk])).status_code == 404


def test_district_and_unit_pages_query_counts_are_the_same_with_ten_times_the_data(
    client, staff_nanyang, open_2024
):
    client.force_login(staff_nanyang)
    region = Region.objects.get(name="南召县")
    unit_id = TaskAssignment.objects.filter(task__plan__code=NANYANG).first().unit_id
    urls = [reverse("region_detail", args=[region.pk]), reverse("unit_detail", args=[unit_id])]
    for url in urls:
        count_queries(client, url)
    # header (session, user, profile, region tree, notices); the region or unit; plans;
    # StatusBoard's fixed set; reporting periods; reports.
    seed = [count_queries(client, url) for url in urls]
    grow(10)
    assert [count_queries(client, url) for url in urls] == seed
