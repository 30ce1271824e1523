"""The reporting workflow under real concurrency (issue 20, findings 1, 4 and 10): requests
at the same moment, each on its own PostgreSQL connection (a thread each, as gunicorn's
workers would be), against committed rows (``committed_world``: transactional tests).

1. Simultaneous creates of one figure: exactly one wins, the others are 409 ``report_exists``
   — never a silent overwrite of an acknowledged figure (API, form and workbook alike).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import connection
from django.test import Client

from targets import services
from targets.models import ProgressReport
from tests.api import client_for

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
