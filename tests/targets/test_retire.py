"""Retire, don't lose; delete only what nothing points at; archive a plan (issue 16 item 2).

南阳 tg-new-stations: 新建消防站 24 个 by 2025, allocated to the counties (南召县 3).
连州 t-hydrants: 新增市政消火栓 with yearly milestones 20/30/40/50/50.
Every seed plan ends in 2025 or earlier, so each may be archived (today is after it).
"""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import Region
from core.services import NotAllowed, ServiceError
from planning import services as planning_services
from planning.models import Plan, Task
from targets import retire, services, tally_store, upkeep
from targets.models import Allocation, Milestone, ProgressReport, ReportingTally, Target
from targets.owed import owed_items, owing_q, owing_regions
from tests.api import client_for as api_client
from tests.api import error_code, if_match
from tests.conftest import make_user
from tests.planning.editing import form_data

pytestmark = pytest.mark.django_db

NANYANG = "nanyang-2021-2025"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def stations(seeded) -> Target:
    return Target.objects.get(plan__code=NANYANG, code="tg-new-stations")


@pytest.fixture
def nanzhao(seeded) -> Region:
    return Region.objects.get(name="南召县")


def report_nanzhao(liaison, target, region, value=3) -> ProgressReport:
    return services.save_report(
        actor=liaison, target=target, region=region, period="2024", value=value
    )


def owed_targets(user) -> set[int]:
    return {item.target.pk for item in owed_items(user)}


def owed_in_tally(plan, region) -> int:
    return sum(
        ReportingTally.objects.filter(plan=plan, region=region).values_list("owed", flat=True)
    )


# ------------------------------------------------------------------------ delete refused


def test_deleting_a_target_with_figures_is_refused_and_offers_retiring(
    open_2024, stations, nanzhao, liaison_nanzhao, staff_nanyang
):
    report_nanzhao(liaison_nanzhao, stations, nanzhao)

    with pytest.raises(ServiceError) as refused:
        retire.delete_target(stations, actor=staff_nanyang, version=stations.version)

    assert refused.value.code == "has_attachments"
    assert "进度填报" in refused.value.message and "停用" in refused.value.message
    assert Target.objects.filter(pk=stations.pk).exists()
    assert Allocation.objects.filter(target=stations).count() > 0


def test_the_page_says_why_a_delete_was_refused(open_2024, stations, nanzhao, liaison_nanzhao,
                                                staff_nanyang):  # fmt: skip
    report_nanzhao(liaison_nanzhao, stations, nanzhao)
    client = client_for(staff_nanyang)
    url = reverse("targets:target_action", args=[stations.pk, "delete"])

    response = client.post(url, {"version": stations.version}, follow=True)

    assert response.status_code == 200
    body = response.content.decode()
    assert "不能删除" in body and "停用" in body
    assert Target.objects.filter(pk=stations.pk).exists()


def test_deleting_a_task_with_targets_or_notes_is_refused(seeded, staff_nanyang):
    task = Target.objects.filter(plan__code=NANYANG, task__isnull=False).first().task
    with pytest.raises(ServiceError) as refused:
        planning_services.delete_task(task, actor=staff_nanyang, version=task.version)
    assert refused.value.code == "has_attachments"
    assert "目标指标" in refused.value.message
    assert Task.objects.filter(pk=task.pk).exists()


# ------------------------------------------------------------------------ delete allowed


def test_a_milestone_nothing_points_at_is_deleted_with_a_history_row(seeded, staff_lianzhou):
    milestone = Milestone.objects.get(target__code="t-hydrants", due_on=datetime.date(2022, 12, 31))
    pk = milestone.pk
    client = client_for(staff_lianzhou)
    url = reverse("targets:milestone_action", args=[pk, "delete"])

    response = client.post(url, {"version": milestone.version, "reason": "录入重复"})

    assert response.status_code == 302
    assert not Milestone.objects.filter(pk=pk).exists()
    record = Milestone.history.filter(id=pk).order_by("-history_date").first()
    assert record.history_type == "-"
    assert record.history_user == staff_lianzhou
    assert record.history_change_reason == "录入重复"


def test_an_empty_task_is_deleted_with_its_units_and_history(seeded, staff_nanyang):
    plan = Plan.objects.get(code=NANYANG)
    task = planning_services.create_task(
        plan, actor=staff_nanyang, values={"code": "t-empty", "title": "临时任务"}
    )

    planning_services.delete_task(task, actor=staff_nanyang, version=task.version)

    assert not Task.objects.filter(pk=task.pk).exists()
    assert Task.history.filter(id=task.pk, history_type="-").exists()


# ------------------------------------------------------------------------ retire / restore


@pytest.mark.usefixtures("on_postgres")
def test_a_retired_target_is_owed_by_nobody_and_restore_brings_it_back(
    open_2024, stations, nanzhao, liaison_nanzhao, staff_nanyang
):
    plan = stations.plan
    assert stations.pk in owed_targets(liaison_nanzhao)
    owed_before = owed_in_tally(plan, nanzhao)
    assert owed_before > 0

    retired = retire.retire_target(
        stations, actor=staff_nanyang, version=stations.version, reason="指标合并"
    )

    assert retired.retired_on is not None
    assert stations.pk not in owed_targets(liaison_nanzhao)
    assert not Target.objects.filter(owing_q([nanzhao.pk]), pk=stations.pk).exists()
    assert owing_regions(retired) == set()
    assert owed_in_tally(plan, nanzhao) < owed_before
    assert tally_store.tally_matches_reports() == []  # the SQL agrees with the Python rule
    with pytest.raises(ServiceError) as refused:
        report_nanzhao(liaison_nanzhao, retired, nanzhao)
    assert refused.value.code == "retired"
    assert retired.history.first().history_change_reason == "指标合并"

    restored = retire.restore_target(retired, actor=staff_nanyang, version=retired.version)

    assert restored.retired_on is None
    assert stations.pk in owed_targets(liaison_nanzhao)
    assert owed_in_tally(plan, nanzhao) == owed_before
    assert tally_store.tally_matches_reports() == []
    report_nanzhao(liaison_nanzhao, restored, nanzhao)


@pytest.mark.usefixtures("on_postgres")
def test_a_retired_allocation_frees_its_region_only(
    open_2024, stations, nanzhao, liaison_nanzhao, staff_nanyang
):
    allocation = Allocation.objects.get(target=stations, region=nanzhao)
    client = client_for(staff_nanyang)

    response = client.post(reverse("targets:allocation_action", args=[allocation.pk, "retire"]))

    assert response.status_code == 302
    allocation.refresh_from_db()
    assert allocation.retired_on is not None
    assert stations.pk not in owed_targets(liaison_nanzhao)
    assert nanzhao.pk not in owing_regions(Target.objects.get(pk=stations.pk))
    assert stations.region_id in owing_regions(Target.objects.get(pk=stations.pk))
    assert tally_store.tally_matches_reports() == []
    with pytest.raises(ServiceError) as refused:
        report_nanzhao(liaison_nanzhao, stations, nanzhao)
    assert refused.value.code in ("out_of_scope", "region_not_owed")  # no longer owes it
    assert allocation.history.first().history_user == staff_nanyang


def test_retired_targets_are_not_in_my_reports_nor_the_figures_template(
    open_2024, stations, nanzhao, liaison_nanzhao, staff_nanyang
):
    retire.retire_target(stations, actor=staff_nanyang, version=stations.version)

    page = client_for(liaison_nanzhao).get(reverse("targets:my_reports"))
    assert stations.name not in page.content.decode()
    targets, _ = services.owed_targets(liaison_nanzhao, stations.plan, nanzhao, "2024")
    assert stations.pk not in {t.pk for t in targets}


def test_the_target_page_shows_a_retired_target_struck_through(stations, staff_nanyang):
    retire.retire_target(stations, actor=staff_nanyang, version=stations.version)
    body = client_for(staff_nanyang).get(reverse("targets:target_detail", args=[stations.pk]))
    assert "已停用" in body.content.decode()


# ------------------------------------------------------------------------------ archive


@pytest.fixture
def archived(seeded, staff_nanyang) -> Plan:
    plan = Plan.objects.get(code=NANYANG)
    return planning_services.archive_plan(plan, actor=staff_nanyang, version=plan.version)


def test_an_archived_plan_refuses_every_write(archived, stations, nanzhao, staff_nanyang):
    stations = Target.objects.select_related("plan").get(pk=stations.pk)
    task = Task.objects.filter(plan=archived).first()
    calls = [
        lambda: planning_services.update_plan(
            archived, actor=staff_nanyang, version=archived.version, changes={"title": "x"}
        ),
        lambda: planning_services.update_task(
            task, actor=staff_nanyang, version=task.version, changes={"title": "x"}
        ),
        lambda: upkeep.update_target(
            stations, actor=staff_nanyang, version=stations.version, changes={"name": "x"}
        ),
        lambda: retire.retire_target(stations, actor=staff_nanyang, version=stations.version),
        lambda: services.save_reports(
            actor=staff_nanyang,
            region=nanzhao,
            period="2024",
            entries=[services.ReportEntry(target=stations, value=3)],
        ),  # the Excel import's path
        lambda: services.save_report(
            actor=staff_nanyang, target=stations, region=nanzhao, period="2024", value=3
        ),
    ]
    for call in calls:
        with pytest.raises(ServiceError) as refused:
            call()
        assert refused.value.code == "plan_archived"
    assert Target.objects.get(pk=stations.pk).name != "x"
    assert not ProgressReport.objects.filter(target=stations).exists()


def test_an_archived_plan_refuses_page_and_api_writes(archived, stations, staff_nanyang):
    client = client_for(staff_nanyang)
    page = client.post(reverse("targets:target_action", args=[stations.pk, "retire"]), follow=True)
    assert "已归档" in page.content.decode()
    api = api_client(staff_nanyang)
    url = f"/api/v1/targets/{stations.pk}/"
    for response in (
        api.patch(url, {"name": "改名"}, format="json", **if_match(stations)),
        api.post(url + "retire/", {}, format="json", **if_match(stations)),
        api.delete(url, **if_match(stations)),
    ):
        assert response.status_code == 400
        assert error_code(response) == "plan_archived"
    assert Target.objects.get(pk=stations.pk).retired_on is None


def test_only_an_admin_unarchives(archived, staff_nanyang):
    with pytest.raises(NotAllowed):
        planning_services.unarchive_plan(archived, actor=staff_nanyang, version=archived.version)
    admin = make_user("admin_henan", "admin", "河南省")
    plan = planning_services.unarchive_plan(archived, actor=admin, version=archived.version)
    assert plan.archived_on is None
    assert plan.history.first().history_change_reason == "取消归档"


def test_a_plan_still_running_cannot_be_archived(seeded, staff_nanyang):
    plan = Plan.objects.get(code=NANYANG)
    plan = planning_services.update_plan(
        plan, actor=staff_nanyang, version=plan.version, changes={"end_year": 2099}
    )
    with pytest.raises(ServiceError) as refused:
        planning_services.archive_plan(plan, actor=staff_nanyang, version=plan.version)
    assert refused.value.code == "plan_not_over"


# ------------------------------------------------------------------------------ the API


def test_the_api_retires_restores_and_refuses_deleting_with_the_same_codes(
    open_2024, stations, nanzhao, liaison_nanzhao, staff_nanyang
):
    report_nanzhao(liaison_nanzhao, stations, nanzhao)
    api = api_client(staff_nanyang)
    url = f"/api/v1/targets/{stations.pk}/"

    refused = api.delete(url, **if_match(stations))
    assert refused.status_code == 400
    assert error_code(refused) == "has_attachments"
    assert "停用" in refused.json()["message"]
    assert api.delete(url).status_code == 428  # no version: nothing checked, nothing deleted

    retired = api.post(url + "retire/", {"reason": "合并"}, format="json", **if_match(stations))
    assert retired.status_code == 200, retired.content
    assert retired.json()["retired_on"] is not None
    restored = api.post(url + "restore/", {}, format="json", **if_match(stations))
    assert restored.status_code == 200
    assert restored.json()["retired_on"] is None
    assert api_client(liaison_nanzhao).post(url + "retire/", {}, format="json").status_code == 403


def test_the_api_deletes_an_empty_milestone(seeded, staff_lianzhou):
    milestone = Milestone.objects.get(target__code="t-hydrants", due_on=datetime.date(2022, 12, 31))
    response = api_client(staff_lianzhou).delete(
        f"/api/v1/milestones/{milestone.pk}/", **if_match(milestone)
    )
    assert response.status_code == 204
    assert not Milestone.objects.filter(pk=milestone.pk).exists()


def test_the_api_archives_a_plan(seeded, staff_nanyang):
    plan = Plan.objects.get(code=NANYANG)
    response = api_client(staff_nanyang).post(
        f"/api/v1/plans/{plan.pk}/archive/", {}, format="json", **if_match(plan)
    )
    assert response.status_code == 200, response.content
    assert response.json()["archived_on"] is not None
    again = api_client(staff_nanyang).post(
        f"/api/v1/plans/{plan.pk}/unarchive/", {}, format="json", **if_match(plan)
    )
    assert again.status_code == 403
    assert error_code(again) == "admin_only"


# ------------------------------------------------------------------------------ the admin


def test_the_admin_refuses_deleting_what_the_services_refuse(
    client, open_2024, stations, nanzhao, liaison_nanzhao, staff_user
):
    report_nanzhao(liaison_nanzhao, stations, nanzhao)
    client.force_login(staff_user)
    url = reverse("admin:targets_target_delete", args=[stations.pk])
    response = client.post(url, {"post": "yes"}, follow=True)
    assert Target.objects.filter(pk=stations.pk).exists()
    task = stations.task
    response = client.post(
        reverse("admin:planning_task_delete", args=[task.pk]), {"post": "yes"}, follow=True
    )
    assert response.status_code in (200, 403)
    assert Task.objects.filter(pk=task.pk).exists()


# ------------------------------------------------------------------------------ pages


def test_the_plan_page_lists_retired_parts_struck_through_without_more_queries(
    client, seeded, stations, staff_nanyang
):
    url = reverse("reports:plan_detail", args=[stations.plan_id])
    client.force_login(staff_nanyang)
    client.get(url)  # warm caches (scope, sessions)
    with CaptureQueriesContext(connection) as before:
        assert client.get(url).status_code == 200
    retire.retire_target(stations, actor=staff_nanyang, version=stations.version)
    task = Task.objects.filter(plan=stations.plan).last()
    planning_services.retire_task(task, actor=staff_nanyang, version=task.version)
    # The first view after a change judges the changed target again and re-runs the plan's
    # integrity check (both cached after it); the view after that is the one to compare.
    client.get(url)
    with CaptureQueriesContext(connection) as after:
        page = client.get(url)

    body = page.content.decode()
    assert f"<del>{stations.name}</del>" in body
    assert "<del>" in body.split(task.title)[0][-200:] or f"{task.title}</del>" in body
    assert len(after) == len(before)


def test_the_api_retires_an_allocation_without_a_version(seeded, stations, nanzhao, staff_nanyang):
    allocation = Allocation.objects.get(target=stations, region=nanzhao)
    url = f"/api/v1/allocations/{allocation.pk}/"
    response = api_client(staff_nanyang).post(url + "retire/", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["retired_on"] is not None
    deleted = api_client(staff_nanyang).delete(url)
    assert deleted.status_code == 204  # no figures of 南召县 for it: nothing attached
    assert not Allocation.objects.filter(pk=allocation.pk).exists()
    assert Allocation.history.filter(id=allocation.pk, history_type="-").exists()


def test_the_edit_pages_offer_retire_delete_and_archive(seeded, stations, staff_nanyang):
    client = client_for(staff_nanyang)
    task = Task.objects.filter(plan=stations.plan).first()
    section = task.section or stations.plan.sections.first()
    milestone = Milestone.objects.filter(plan=stations.plan).first()
    pages = {
        reverse("planning:section_edit", args=[section.pk]): "planning:section_action",
        reverse("planning:task_edit", args=[task.pk]): "planning:task_action",
        reverse("targets:target_edit", args=[stations.pk]): "targets:target_action",
        reverse("targets:milestone_edit", args=[milestone.pk]): "targets:milestone_action",
    }
    objects = [section, task, stations, milestone]
    for (url, action), obj in zip(pages.items(), objects, strict=True):
        body = client.get(url).content.decode()
        assert "确认停用" in body and "确认删除" in body, url
        assert reverse(action, args=[obj.pk, "retire"]) in body
    plan_page = client.get(reverse("planning:plan_edit", args=[stations.plan_id]))
    assert reverse("planning:plan_archive", args=[stations.plan_id, "archive"]) in (
        plan_page.content.decode()
    )


def test_a_section_is_retired_and_restored_from_its_page(seeded, stations, staff_nanyang):
    client = client_for(staff_nanyang)
    section = stations.plan.sections.order_by("pk").first()
    retire_url = reverse("planning:section_action", args=[section.pk, "retire"])

    page = client.post(retire_url, {"version": section.version, "reason": "并入他章"}, follow=True)

    section.refresh_from_db()
    assert section.retired_on is not None
    assert "已停用" in page.content.decode() and "恢复" in page.content.decode()
    assert section.history.first().history_change_reason == "并入他章"
    plan_page = client.get(reverse("reports:plan_detail", args=[stations.plan_id]))
    assert f"<del>{section.number} {section.title}</del>" in plan_page.content.decode()

    stale = client.post(
        reverse("planning:section_action", args=[section.pk, "restore"]),
        {"version": section.version - 1},
        follow=True,
    )
    assert "已被他人修改" in stale.content.decode()
    client.post(
        reverse("planning:section_action", args=[section.pk, "restore"]),
        {"version": section.version},
    )
    section.refresh_from_db()
    assert section.retired_on is None


def test_a_liaison_cannot_retire(seeded, stations, liaison_nanzhao):
    response = client_for(liaison_nanzhao).post(
        reverse("targets:target_action", args=[stations.pk, "retire"]),
        {"version": stations.version},
    )
    assert response.status_code == 403
    stations.refresh_from_db()
    assert stations.retired_on is None


def test_archiving_from_the_plan_page_makes_the_pages_read_only(seeded, stations, staff_nanyang):
    client = client_for(staff_nanyang)
    plan = stations.plan
    client.post(
        reverse("planning:plan_archive", args=[plan.pk, "archive"]), {"version": plan.version}
    )
    plan.refresh_from_db()
    assert plan.archived_on is not None
    assert "已归档" in client.get(reverse("reports:plan_detail", args=[plan.pk])).content.decode()
    edit_url = reverse("targets:target_edit", args=[stations.pk])
    loaded = client.get(edit_url)
    edit = loaded.content.decode()
    assert "所属规划已归档" in edit and "确认删除" not in edit
    saved = client.post(edit_url, form_data(loaded, name="改名"))
    assert saved.status_code == 400
    assert "已归档" in saved.content.decode()
    assert Target.objects.get(pk=stations.pk).name == stations.name


def test_a_retired_milestone_leaves_the_schedule_and_is_listed_struck_through(
    seeded, staff_lianzhou
):
    milestone = Milestone.objects.get(target__code="t-hydrants", due_on=datetime.date(2022, 12, 31))
    retire.retire_milestone(milestone, actor=staff_lianzhou, version=milestone.version)

    page = client_for(staff_lianzhou).get(
        reverse("targets:target_detail", args=[milestone.target_id])
    )
    assert milestone.pk not in [m.pk for m, _, _ in page.context["milestones"]]
    assert len(page.context["milestones"]) == 4  # of 20/30/40/50/50
    assert [m.pk for m in page.context["retired_milestones"]] == [milestone.pk]
    assert 'data-testid="retired-milestones"' in page.content.decode()
