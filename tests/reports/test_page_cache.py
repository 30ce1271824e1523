"""The dashboards cached whole (reports.page_cache, reports/page_clock.py): after every kind of
change a page shows, the next read through the cache is what the page computed afresh shows
(and differs from before: the change is on the page); one scope's content never reaches
another; tokens are each response's own; the triggers a fresh migrate installs are the
module's."""

import datetime
import re

import pytest
from django.db import connection
from django.db.models import Value
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils import timezone

from core.models import Region, Unit
from planning.models import Plan, Task, TaskAssignment
from reports import page_cache, page_clock
from targets import rollup_store, services, tally_store, upkeep
from targets.models import Milestone, ProgressReport, Target
from tests.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("on_postgres")]

NANYANG = "nanyang-2021-2025"
TOKENS = re.compile(r'name="(csrfmiddlewaretoken|once_token)" value="[^"]*"')


def new_stations() -> Target:
    return Target.objects.get(plan__code=NANYANG, name="新建消防站", region__name="南阳市")


def urls() -> list[str]:
    plan = Plan.objects.get(code=NANYANG)
    unit_id = (
        TaskAssignment.objects.filter(task__plan=plan, role="lead")
        .order_by("unit__name", "pk")
        .values_list("unit_id", flat=True)
        .first()
    )
    return [
        reverse("reports:home"),
        reverse("reports:region_detail", args=[Region.objects.get(name="南召县").pk]),
        reverse("reports:unit_detail", args=[unit_id]),
        reverse("reports:plan_detail", args=[plan.pk]),
    ]


def read(client, pages: list[str]) -> dict[str, str]:
    found = {}
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert page_cache.CSRF_SLOT not in html
        assert "page-slot:" not in html
        found[url] = TOKENS.sub("", html)
    return found


def fresh(client, pages, settings) -> dict[str, str]:
    settings.PAGE_CACHE = False
    try:
        return read(client, pages)
    finally:
        settings.PAGE_CACHE = True


def submitted(target: Target, region_name: str, value=3) -> ProgressReport:
    return ProgressReport.objects.create(
        target=target,
        region=Region.objects.get(name=region_name),
        period="2024",
        value=value,
        status="submitted",
        submitted_at=timezone.now(),
    )


def approve(staff, **_):
    report = submitted(new_stations(), "南召县")
    services.approve_report(report, actor=staff)


def reopen(staff, approved, **_):
    services.reopen_report(approved, actor=staff, reason="数据有误")


def adjust(staff, **_):
    target = new_stations()
    upkeep.adjust_target(
        target,
        actor=staff,
        version=target.version,
        new_value=target.target_value + 7,
        doc_number="宛消〔2024〕9号",
        adopted_on=timezone.localdate(),
        reason="中期调整",
    )


def edit_milestone(staff, **_):
    milestone = Milestone.objects.filter(plan__code=NANYANG).order_by("pk").first()
    upkeep.update_milestone(
        milestone,
        actor=staff,
        version=milestone.version,
        changes={"text": "时间节点已改名", "due_on": timezone.localdate() + datetime.timedelta(30)},
    )


def edit_task(staff, **_):
    task = Task.objects.filter(plan__code=NANYANG, assignments__role="lead").order_by("pk").first()
    task.title = "任务已改名"
    task.save()


def rename_region(staff, **_):
    Region.objects.filter(name="南召县").update(name="南召县（改名）")


def rename_unit(staff, **_):
    units = TaskAssignment.objects.filter(task__plan__code=NANYANG).values("unit_id")
    Unit.objects.filter(pk__in=units).update(name=Concat("name", Value("（改名）")))


def rename_plan(staff, **_):
    Plan.objects.filter(code=NANYANG).update(title="南阳市规划（改名）")


@pytest.mark.parametrize(
    "change",
    [approve, reopen, adjust, edit_milestone, edit_task, rename_region, rename_unit, rename_plan],
)
def test_the_next_read_after_a_change_shows_it(change, client, staff_nanyang, open_2024, settings):
    settings.FOUR_EYES = False
    approved = None
    if change is reopen:
        approved = submitted(new_stations(), "南召县")
        services.approve_report(approved, actor=staff_nanyang)
        approved.refresh_from_db()
    client.force_login(staff_nanyang)
    pages = urls()
    before = read(client, pages)
    assert read(client, pages) == before  # read through the cache: the same
    assert before == fresh(client, pages, settings)
    change(staff_nanyang, approved=approved)
    after = read(client, pages)
    assert after == fresh(client, pages, settings), "a cached page is stale"
    assert after != before, "the change is not on any page"


def test_a_new_day_is_a_new_page(client, staff_nanyang, open_2024, settings, monkeypatch):
    client.force_login(staff_nanyang)
    pages = urls()
    before = read(client, pages)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: tomorrow)
    after = read(client, pages)
    assert after == fresh(client, pages, settings)
    assert any(after[url] != before[url] for url in pages)


def test_a_user_renamed_in_the_recent_changes(client, staff_nanyang, open_2024, settings):
    settings.FOUR_EYES = False
    approve(staff_nanyang)
    client.force_login(staff_nanyang)
    home = [reverse("reports:home")]
    before = read(client, home)
    staff_nanyang.first_name, staff_nanyang.last_name = "改", "名"
    staff_nanyang.save()
    after = read(client, home)
    assert after == fresh(client, home, settings)
    assert after != before


def test_a_login_does_not_tick_the_clocks(staff_nanyang):
    before = page_cache.clocks([])
    staff_nanyang.last_login = timezone.now()
    staff_nanyang.save(update_fields=["last_login"])
    assert page_cache.clocks([]) == before


@pytest.mark.parametrize("rebuild", ["rollups", "tallies"])
def test_a_rebuild_of_what_pages_show_gives_every_page_a_new_key(rebuild, staff_nanyang):
    """A rebuild repairs roll-ups or tallies without a reporting trigger firing: every cached
    page's key must change, or a page rendered from the drifted rows would be shown on."""
    plan = Plan.objects.get(code=NANYANG)
    before = page_cache.clocks([plan.pk])
    if rebuild == "rollups":
        rollup_store.rebuild_rollups([new_stations().pk])
    else:
        tally_store.rebuild_tally([plan.pk])
    assert page_cache.clocks([plan.pk]) != before
    assert page_cache.clocks([]) != before


def test_one_reporting_region_ticks_its_own_row(staff_nanyang, open_2024):
    plan = Plan.objects.get(code=NANYANG)
    south, west = (Region.objects.get(name=name) for name in ("南召县", "西峡县"))
    submitted(new_stations(), "南召县")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT region_id FROM reports_pageclock WHERE plan_id = %s AND region_id <> 0",
            [plan.pk],
        )
        regions = {row[0] for row in cursor.fetchall()}
    assert south.pk in regions
    assert west.pk not in regions


def test_no_scope_sees_another_scopes_content(
    client, staff_nanyang, liaison_nanzhao, supervisor_nanyang, open_2024, settings
):
    pages = [*urls()[:2], urls()[3]]
    client.force_login(staff_nanyang)
    staff = read(client, pages)  # cached for the staff's scope
    assert "编辑规划" in staff[pages[2]]
    for other in (liaison_nanzhao, supervisor_nanyang):
        client.force_login(other)
        seen = {url: client.get(url) for url in pages}
        shown = {
            url: TOKENS.sub("", r.content.decode())
            for url, r in seen.items()
            if r.status_code == 200
        }
        expected = {url: html for url, html in fresh(client, list(shown), settings).items()}
        assert shown == expected
        assert all(shown[url] != staff[url] for url in shown)
    assert "编辑规划" not in shown[pages[2]]  # the supervisor reads


def test_each_response_has_its_own_csrf_token(client, staff_nanyang):
    other = make_user("staff_nanyang_2", "staff", "南阳市")
    plan_page = urls()[3]
    client.force_login(staff_nanyang)
    first = client.get(plan_page).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', first)
    assert token, "the plan page has forms"
    client.logout()
    client.force_login(other)
    second = client.get(plan_page).content.decode()
    assert token.group(1) not in second
    assert 'name="csrfmiddlewaretoken" value="' in second
    assert 'name="once_token"' in second  # the successor form, rendered for this response


def test_filtered_and_odd_queries_are_not_cached(rf, staff_nanyang):
    request = rf.get("/regions/1/", {"page": "2"})
    assert page_cache.plain_query(request, "page")
    for query in ({"page": "x"}, {"page": "9" * 9}, {"q": "1"}):
        assert not page_cache.plain_query(rf.get("/regions/1/", query), "page")


def installed_page_sql() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.tgrelid::regclass::text, t.tgname, pg_get_triggerdef(t.oid),
                   pg_get_functiondef(t.tgfoid)
              FROM pg_trigger t
             WHERE NOT t.tgisinternal AND t.tgname LIKE 'fireplan_page_%'
             ORDER BY 1, 2
            """
        )
        return {(table, name): rest for table, name, *rest in cursor.fetchall()}


def test_migrate_installs_exactly_what_the_page_clock_installs_today():
    migrated = installed_page_sql()
    assert len(migrated) == len(page_clock.TRIGGERS)
    page_clock.install_triggers()
    assert installed_page_sql() == migrated, "add a migration with the page clock's new SQL"
