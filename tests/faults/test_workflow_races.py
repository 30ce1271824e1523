"""The reporting workflow under real concurrency (issue 20, findings 1, 4 and 10): requests
at the same moment, each on its own PostgreSQL connection (a thread each, as gunicorn's
workers would be), against committed rows (``committed_world``: transactional tests).

1. Simultaneous creates of one figure: exactly one wins, the others are 409 ``report_exists``
   — never a silent overwrite of an acknowledged figure (API, form and workbook alike).
4. Every approval carries the version the reviewer saw (the inbox's boxes, the report page,
   If-Match in the API): a figure returned and submitted again meanwhile is refused, named.
10. Four eyes: the submitter cannot approve or return their own figure (``own_submission``)
   unless ``FOUR_EYES`` is off, and then the history says one person did both.
9. Idempotency keys and one-time form tokens hold across worker processes: the "shared"
   cache is the database (or Redis), and a per-process one is refused by a system check.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from accounts.services import issue_api_token
from core import checks as shared_checks
from planning.models import TaskUpdate
from targets import services
from targets.models import ProgressReport
from tests import factories
from tests.api import client_for, if_match
from tests.conftest import make_user

RACERS = 8
STAGGER = 0.015  # seconds between racers' starts where a test spreads them


def race(send: Callable[[int], object], count: int = RACERS) -> list:
    """Run ``send(i)`` for i in range(count) in threads released at the same moment; their
    answers in the order they came. Each thread has its own database connection."""
    start = threading.Barrier(count)
    answers: list = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            start.wait()
            answer = send(i)
        except Exception as error:  # the test reads it as an answer
            answer = error
        finally:
            connection.close()
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == count, "a racer did not finish"
    return answers


# ------------------------------------------------------------------------------ finding 1


def test_simultaneous_api_creates_of_one_figure_let_exactly_one_win(committed_world):
    world = committed_world
    body = {"target": world.stations.pk, "region": world.region.pk, "period": world.period}

    def send(i):
        api = client_for(world.liaison)
        time.sleep(i * STAGGER)  # spread over the first one's commit, as real traffic is
        return api.post("/api/v1/reports/", {**body, "value": 10 + i}, format="json")

    answers = race(send)

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * (RACERS - 1), statuses
    losers = [a.json()["code"] for a in answers if a.status_code == 409]
    assert set(losers) == {"report_exists"}
    [winner] = [a.json() for a in answers if a.status_code == 201]
    report = world.report(world.stations)
    # The figure acknowledged with 201 is the one kept, written once.
    assert (report.pk, report.value, report.version) == (winner["id"], winner["value"], 1)
    assert report.history.count() == 1


def test_simultaneous_form_saves_of_a_new_figure_keep_the_first_and_tell_the_others(
    committed_world,
):
    world = committed_world
    page = world.page(world.stations)

    def send(i):
        client = Client()
        client.force_login(world.liaison)
        data = {"value": str(10 + i), "note": "", "confirm_note": "", "version": 0, "save": ""}
        return client.post(page, data)

    answers = race(send)

    saved = [a for a in answers if a.status_code == 302]
    refused = [a for a in answers if a.status_code != 302]
    assert len(saved) == 1, [a.status_code for a in answers]
    assert {a.status_code for a in refused} == {400}
    assert all("该指标本期已有填报" in a.content.decode() for a in refused)
    report = world.report(world.stations)
    assert (report.version, report.history.count()) == (1, 1)


def test_simultaneous_workbook_commits_of_new_figures_write_one_and_refuse_the_rest(
    committed_world,
):
    """The Excel import's write (``save_reports``, one INSERT … ON CONFLICT for the rows):
    the entries seen as new at the preview (version 0) that someone created meanwhile."""
    world = committed_world

    def send(i):
        entries = [
            services.ReportEntry(world.stations, 10 + i, version=0),
            services.ReportEntry(world.engines, 20 + i, version=0),
        ]
        return services.save_reports(
            actor=world.liaison, region=world.region, period=world.period, entries=entries
        )

    answers = race(send, 4)

    written = [a for a in answers if isinstance(a, services.SavedReports)]
    refused = [a for a in answers if not isinstance(a, services.SavedReports)]
    assert len(written) == 1, answers
    assert all(isinstance(a, services.ReportExists) for a in refused), refused
    [ids] = [a.report_ids for a in written]
    kept = ProgressReport.objects.filter(region=world.region, period=world.period)
    assert sorted(kept.values_list("pk", flat=True)) == sorted(ids)
    assert all(r.version == 1 and r.history.count() == 1 for r in kept)


# ------------------------------------------------------------------------------ finding 4


def inbox_boxes(client) -> list[str]:
    """What the review inbox's bulk form sends for each ticked box (as the page has it)."""
    page = client.get(reverse("targets:review_inbox")).content.decode()
    return re.findall(r'type="checkbox" name="report" value="([^"]+)"', page)


def resubmit(world, report, value, *, returned_by) -> None:
    """Another reviewer returns the figure; the liaison corrects and submits it again."""
    report = services.return_report(
        report, actor=returned_by, reason="请核实", version=report.version
    )
    services.save_report(
        actor=world.liaison, target=report.target, region=world.region, period=world.period,
        value=value, version=report.version, submit=True,
    )  # fmt: skip


def test_bulk_approval_refuses_a_figure_changed_after_the_inbox_was_shown(world):
    other_reviewer = make_user("staff_fault_2", "staff", world.region.name)
    world.draft(world.stations, 5, submit=True)
    world.draft(world.engines, 6, submit=True)
    reviewer = Client()
    reviewer.force_login(world.staff)
    boxes = inbox_boxes(reviewer)  # the reviewer sees 5 and 6, and ticks both
    assert len(boxes) == 2

    resubmit(world, world.report(world.stations), 50, returned_by=other_reviewer)
    response = reviewer.post(
        reverse("targets:reports_bulk_approve"), {"report": boxes}, follow=True
    )

    message = [str(m) for m in response.context["messages"]][-1]
    assert message.startswith("批量审核未执行")
    # Names the figure, who changed it and what it is now.
    assert f"{world.stations.name} {world.region.name} {world.period}" in message
    assert "liaison_fault" in message and "数值 50" in message
    # All or none: neither figure was approved, the changed one awaits a fresh look.
    assert (world.report(world.stations).status, world.report(world.stations).value) == (
        "submitted",
        50,
    )
    assert world.report(world.engines).status == "submitted"
    assert inbox_boxes(reviewer) != boxes  # the refreshed inbox carries the new version


def test_a_bulk_approval_without_the_versions_seen_is_refused(world):
    report = world.draft(world.stations, 5, submit=True)
    reviewer = Client()
    reviewer.force_login(world.staff)
    response = reviewer.post(
        reverse("targets:reports_bulk_approve"), {"report": [str(report.pk)]}, follow=True
    )
    assert "页面缺少版本信息" in [str(m) for m in response.context["messages"]][-1]
    assert world.report(world.stations).status == "submitted"


def test_single_approvals_on_the_page_and_in_the_api_need_the_version_seen(world):
    other_reviewer = make_user("staff_fault_2", "staff", world.region.name)
    report = world.draft(world.stations, 5, submit=True)
    seen = report.version
    resubmit(world, report, 50, returned_by=other_reviewer)

    page = Client()
    page.force_login(world.staff)
    answer = page.post(
        reverse("targets:report_approve", args=[report.pk]), {"version": seen}, follow=True
    )
    assert "在您查看后已变动" in [str(m) for m in answer.context["messages"]][-1]
    api = client_for(world.staff)
    url = f"/api/v1/reports/{report.pk}/approve/"
    assert api.post(url, {}, format="json").status_code == 428
    stale = api.post(url, {"version": seen}, format="json")
    assert (stale.status_code, stale.json()["code"]) == (412, "stale_edit")
    assert "数值 50" in stale.json()["message"]
    assert world.report(world.stations).status == "submitted"
    fresh = api.post(url, {}, format="json", **if_match(report))
    assert fresh.json()["status"] == "approved"


# ------------------------------------------------------------------------------ finding 10


def test_staff_cannot_approve_or_return_their_own_submission(world):
    own = services.save_report(  # staff entered and submitted the figure themselves
        actor=world.staff, target=world.stations, region=world.region, period=world.period,
        value=6, submit=True,
    )  # fmt: skip
    api = client_for(world.staff)

    for action, body in (("approve", {}), ("return", {"reason": "不对"})):
        answer = api.post(
            f"/api/v1/reports/{own.pk}/{action}/", body, format="json", **if_match(own)
        )
        assert (answer.status_code, answer.json()["code"]) == (403, "own_submission")
        assert "不能审核本人提交的报送" in answer.json()["message"]

    page = Client()
    page.force_login(world.staff)
    shown = page.get(world.page(world.stations)).content.decode()
    assert 'data-testid="own-submission"' in shown
    assert reverse("targets:report_approve", args=[own.pk]) not in shown
    assert inbox_boxes(page) == []  # no box to tick for one's own figure
    forced = page.post(
        reverse("targets:reports_bulk_approve"),
        {"report": [f"{own.pk}:{own.version}"]},
        follow=True,
    )
    assert "不能审核本人提交的报送" in [str(m) for m in forced.context["messages"]][-1]
    assert world.report(world.stations).status == "submitted"

    # Another reviewer may.
    other_reviewer = make_user("staff_fault_2", "staff", world.region.name)
    services.approve_report(own, actor=other_reviewer, version=own.version)
    assert world.report(world.stations).status == "approved"


def test_with_four_eyes_off_one_person_may_do_both_and_the_history_says_so(world, settings):
    settings.FOUR_EYES = False
    own = services.save_report(
        actor=world.staff, target=world.stations, region=world.region, period=world.period,
        value=6, submit=True,
    )  # fmt: skip
    api = client_for(world.staff)
    answer = api.post(f"/api/v1/reports/{own.pk}/approve/", {}, format="json", **if_match(own))
    assert answer.json()["status"] == "approved"
    last = world.report(world.stations).history.first()
    assert last.history_user == world.staff
    assert last.history_change_reason == "审核通过（本人提交，本人审核）"


# ------------------------------------------------------------------------------ finding 9

# A worker of its own: a separate Python process with its own Django, cache and database
# connection, sending one request (argv[1], JSON) through the test client to the same
# database as the test, and printing the answer's status and replay header.
WORKER = r"""
import json, os, sys
import django
django.setup()
from django.test import Client
from django.contrib.auth import get_user_model
spec = json.loads(sys.argv[1])
client = Client(**spec.get("headers", {}))
if spec.get("login"):
    client.force_login(get_user_model().objects.get(username=spec["login"]))
if spec.get("json"):
    answer = client.post(spec["path"], json.dumps(spec["json"]), content_type="application/json")
else:
    answer = client.post(spec["path"], spec["data"])
print(json.dumps({"status": answer.status_code, "replayed": answer.get("Idempotent-Replayed")}))
"""


def in_another_process(spec: dict) -> dict:
    if connection.vendor != "postgresql":
        pytest.skip("another process reaches the test database only on PostgreSQL")
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fireplan.settings",
        "DATABASE_URL": url,
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
    }
    done = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps(spec)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_api_post_replayed_on_another_worker_process_acts_once(committed_world):
    world = committed_world
    task = factories.task(world.plan, "t-replay", title="建设消防站")
    key = issue_api_token(world.liaison).key
    spec = {
        "path": "/api/v1/task-updates/",
        "json": {"task": task.pk, "text": "主体完工", "percent": 60},
        "headers": {
            "HTTP_AUTHORIZATION": f"Token {key}",
            "HTTP_IDEMPOTENCY_KEY": "task-update-replayed-0001",
        },
    }

    first = in_another_process(spec)
    second = in_another_process(spec)  # the client's retry reaches another worker

    assert (first["status"], second["status"]) == (201, 201)
    assert second["replayed"] == "true"
    assert TaskUpdate.objects.filter(task=task).count() == 1


def test_a_form_sent_again_to_another_worker_process_acts_once(committed_world):
    world = committed_world
    task = factories.task(world.plan, "t-once", title="建设消防站")
    spec = {
        "path": reverse("reports:task_update_create", args=[task.pk]),
        "data": {"text": "主体完工", "once_token": "token-across-workers-0001"},
        "login": world.liaison.username,
    }

    first = in_another_process(spec)
    second = in_another_process(spec)

    assert (first["status"], second["status"]) == (302, 302)
    assert TaskUpdate.objects.filter(task=task).count() == 1


LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


@pytest.mark.parametrize(
    ("debug", "workers", "refused"),
    [(False, 1, True), (True, 3, True), (True, 1, False)],
)
def test_a_per_process_shared_cache_is_refused_where_several_workers_may_serve(
    debug, workers, refused
):
    caches = {"default": LOCMEM, "shared": LOCMEM}
    with override_settings(DEBUG=debug, WEB_CONCURRENCY=workers, CACHES=caches):
        errors = shared_checks.check_shared_cache()
        assert [e.id for e in errors] == (["core.E002"] if refused else [])
        if refused:
            with pytest.raises(ImproperlyConfigured):
                shared_checks.refuse_per_process_cache()


def test_the_shared_cache_is_the_database_without_redis():
    backend = settings.CACHES["shared"]["BACKEND"]
    assert backend == "django.core.cache.backends.db.DatabaseCache" or settings.REDIS_URL
    assert shared_checks.check_shared_cache() == []
