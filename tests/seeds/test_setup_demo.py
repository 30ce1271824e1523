"""setup_demo (issue 21 item 4): a first run leaves each demo role work to do."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from core.models import Region
from planning.choices import PlanStatus
from planning.models import Plan
from seeds.demo_setup import DEMO_PASSWORD, RETURN_REASON, USERS, demo_reports
from targets.choices import ReportStatus
from targets.models import ReportingPeriod
from targets.services import is_locked

pytestmark = pytest.mark.django_db


def run(**options) -> str:
    out = StringIO()
    call_command("setup_demo", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def demo(seeded, settings):
    settings.DEBUG = True
    return run()


def login(client, username):
    client.force_login(User.objects.get(username=username))
    return client


def test_prints_four_logins_pointed_at_the_home_page(demo):
    for user in USERS:
        assert f"用户名 {user.username}" in demo
    assert demo.count(f"密码 {DEMO_PASSWORD}") == 4
    assert "http://127.0.0.1:8000/" in demo
    assert "/admin/" not in demo
    assert {u.profile.role for u in User.objects.filter(username__startswith="demo_")} == {
        "admin",
        "staff",
        "liaison",
        "supervisor",
    }


def test_the_successor_of_lianzhou_is_published_with_2026_open_and_labelled(demo):
    plan = Plan.objects.get(predecessor__code="lianzhou-2021-2025")
    assert plan.title.startswith("【演示数据】")
    assert "十五五" in plan.title
    assert plan.status == PlanStatus.IN_FORCE
    assert (plan.start_year, plan.end_year) == (2026, 2030)
    period = ReportingPeriod.objects.get(plan=plan)
    assert period.period == "2026"
    assert period.due_on > timezone.localdate()
    assert not is_locked(period, Region.objects.get(name="九陂镇"))


def test_every_figure_made_is_demo_and_went_through_the_workflow(demo):
    reports = list(demo_reports().select_related("submitted_by", "reviewed_by"))
    assert len(reports) == 3
    assert all(r.is_demo for r in reports)
    statuses = sorted(r.status for r in reports)
    assert statuses == sorted([ReportStatus.SUBMITTED] * 2 + [ReportStatus.RETURNED])
    returned = next(r for r in reports if r.status == ReportStatus.RETURNED)
    assert returned.return_reason == RETURN_REASON
    # four eyes: the liaison submitted it, the staff returned it
    assert returned.submitted_by.username == "demo_liaison_jiupi"
    assert returned.reviewed_by.username == "demo_staff_lianzhou"
    assert all(r.history.filter(history_change_reason="演示数据").exists() for r in reports)


def test_liaison_of_jiupi_finds_figures_to_enter_and_one_to_fix(demo, client):
    page = login(client, "demo_liaison_jiupi").get("/reporting/my/")
    assert page.status_code == 200
    rows = [item for item in page.context["items"] if "十五五" in item.target.plan.title]
    states = sorted(item.state for item in rows)
    assert states.count("not_started") == 2
    assert states.count("returned") == 1
    assert states.count("submitted") == 2
    assert "【演示数据】" in page.content.decode()


def test_staff_of_lianzhou_finds_submissions_to_review(demo, client):
    page = login(client, "demo_staff_lianzhou").get("/reporting/review/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "九陂镇" in body
    assert body.count("演示数据") >= 2  # each submitted demo figure carries the badge


def test_running_twice_changes_nothing_and_prints_the_same_logins(demo):
    counts = (User.objects.count(), Plan.objects.count(), demo_reports().count())
    versions = sorted(demo_reports().values_list("pk", "version"))
    history = sum(r.history.count() for r in demo_reports())
    again = run()
    assert (User.objects.count(), Plan.objects.count(), demo_reports().count()) == counts
    assert sorted(demo_reports().values_list("pk", "version")) == versions
    assert sum(r.history.count() for r in demo_reports()) == history
    assert again.splitlines()[1:] == demo.splitlines()[1:]


def test_refused_without_debug_unless_forced(seeded, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        run()
    assert not User.objects.filter(username__startswith="demo_").exists()
    forced = run(force=True)
    assert DEMO_PASSWORD not in forced  # production: generated passwords, printed once
    assert User.objects.filter(username__startswith="demo_").count() == 4
    assert "已在首次创建时打印" in run(force=True)


def test_refused_before_the_seed_plans_are_loaded(db, settings):
    settings.DEBUG = True
    Plan.objects.filter(code="lianzhou-2021-2025").update(code="renamed")
    with pytest.raises(CommandError, match="load_seed_plans"):
        run()
