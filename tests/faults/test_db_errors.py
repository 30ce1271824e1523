"""When PostgreSQL refuses — a row held by someone else, a deadlock, a statement that runs too
long, a database that is gone — pages answer 409/503 with a Chinese message, the API answers
409/503 with a stable code and Retry-After, never a 500; and nothing was written.

The other party is a second connection (raw psycopg2) holding row locks, so these tests are
transactional. Timeouts are made tiny for the request's connection by changing its
connection options (``-c lock_timeout=…``) and reconnecting.
"""

from __future__ import annotations

import contextlib
import threading
import time

import psycopg2
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from core.db_errors import BUSY_MESSAGE, UNAVAILABLE_MESSAGE
from core.scope import APPROVE
from targets.models import ProgressReport
from tests.api import client_for

pytestmark = pytest.mark.usefixtures("on_postgres")


def raw_connection():
    """A second session on the test database, as another request would have."""
    params = connection.settings_dict
    return psycopg2.connect(
        dbname=params["NAME"],
        user=params["USER"],
        password=params["PASSWORD"],
        host=params["HOST"],
        port=params["PORT"] or 5432,
    )


@contextlib.contextmanager
def row_locked(report: ProgressReport):
    """Another transaction holds the report's row (SELECT … FOR UPDATE) until the block ends."""
    other = raw_connection()
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM targets_progressreport WHERE id = %s FOR UPDATE", [report.pk]
            )
        yield other
    finally:
        other.rollback()
        other.close()


@contextlib.contextmanager
def request_options(options: str):
    """Reconnect the request's connection with these server options (and back afterwards)."""
    settings_dict = connection.settings_dict
    saved = settings_dict.get("OPTIONS", {}).copy()
    settings_dict.setdefault("OPTIONS", {})["options"] = options
    connection.close()
    try:
        yield
    finally:
        settings_dict["OPTIONS"] = saved
        connection.close()


def tiny_lock_timeout():
    return request_options("-c lock_timeout=300 -c statement_timeout=0")


def tiny_statement_timeout():
    return request_options("-c lock_timeout=0 -c statement_timeout=300")


def unchanged(report: ProgressReport) -> tuple:
    return ProgressReport.objects.filter(pk=report.pk).values_list("value", "status", "version")[0]


def form_data(world, report, value) -> dict:
    return {"value": value, "note": "", "confirm_note": "", "version": report.version, "save": ""}


# ------------------------------------------------------------------------------ lock timeout


def test_a_page_save_on_a_row_held_by_someone_else_answers_409_and_changes_nothing(
    committed_world,
):
    world = committed_world
    report = world.draft(world.stations, 5)
    before = unchanged(report)
    client = Client()
    client.force_login(world.liaison)

    with tiny_lock_timeout(), row_locked(report):
        response = client.post(world.page(world.stations), form_data(world, report, 7))

    assert response.status_code == 409
    assert str(BUSY_MESSAGE) in response.content.decode()
    assert response["Retry-After"] == "2"
    assert unchanged(report) == before
    assert report.history.count() == 1


def test_an_api_save_on_a_row_held_by_someone_else_answers_409_conflict_locked(committed_world):
    world = committed_world
    report = world.draft(world.stations, 5)
    before = unchanged(report)
    api = client_for(world.liaison)

    with tiny_lock_timeout(), row_locked(report):
        response = api.patch(
            f"/api/v1/reports/{report.pk}/",
            {"value": 7, "version": report.version},
            format="json",
        )

    assert response.status_code == 409
    assert response.json() == {"code": "conflict_locked", "message": BUSY_MESSAGE}
    assert response["Retry-After"] == "2"
    assert unchanged(report) == before


def test_an_api_approval_on_a_row_held_by_someone_else_answers_409(committed_world):
    world = committed_world
    report = world.draft(world.stations, 5, submit=True)
    api = client_for(world.staff)

    with tiny_lock_timeout(), row_locked(report):
        response = api.post(
            f"/api/v1/reports/{report.pk}/approve/", {"version": report.version}, format="json"
        )

    assert (response.status_code, response.json()["code"]) == (409, "conflict_locked")
    assert world.report(world.stations).status == "submitted"


# ------------------------------------------------------------------------------ statement timeout


def test_a_statement_timeout_answers_503_on_pages_and_in_the_api(committed_world):
    world = committed_world
    report = world.draft(world.stations, 5)
    before = unchanged(report)
    client = Client()
    client.force_login(world.liaison)
    api = client_for(world.liaison)

    with tiny_statement_timeout(), row_locked(report):
        page = client.post(world.page(world.stations), form_data(world, report, 7))
        response = api.patch(
            f"/api/v1/reports/{report.pk}/", {"value": 7, "version": 1}, format="json"
        )

    assert page.status_code == 503
    assert str(UNAVAILABLE_MESSAGE) in page.content.decode()
    assert (response.status_code, response.json()["code"]) == (503, "timeout")
    assert response["Retry-After"] == "5"
    assert unchanged(report) == before


# ------------------------------------------------------------------------------ deadlock


def test_a_deadlock_between_a_bulk_approval_and_an_edit_lets_one_finish_and_answers_409(
    committed_world,
):
    """The approval locks report A then B; an editor's transaction holds B and then wants A.
    PostgreSQL breaks the cycle by aborting the approval (its deadlock_timeout, 1 s, expires
    first: the editor's is 10 s); the editor's change goes through, the approval wrote nothing."""
    world = committed_world
    world.draft(world.stations, 5, submit=True)
    world.draft(world.engines, 6, submit=True)
    first, second = ProgressReport.objects.for_user(world.staff, APPROVE).filter(
        region=world.region
    )
    editor_done = threading.Event()
    editor_errors: list[Exception] = []

    def editor():
        other = raw_connection()
        try:
            with other.cursor() as cursor:
                cursor.execute("SET deadlock_timeout = '10s'")
                cursor.execute(
                    "UPDATE targets_progressreport SET note = 'B' WHERE id = %s", [second.pk]
                )
                time.sleep(0.6)  # the approval now holds A and waits for B
                cursor.execute(
                    "UPDATE targets_progressreport SET note = 'A' WHERE id = %s", [first.pk]
                )
            other.commit()
        except Exception as error:  # pragma: no cover - reported below
            editor_errors.append(error)
            other.rollback()
        finally:
            other.close()
            editor_done.set()

    client = Client()
    client.force_login(world.staff)
    thread = threading.Thread(target=editor)
    with request_options("-c deadlock_timeout=1000 -c lock_timeout=0"):
        thread.start()
        time.sleep(0.2)  # the editor holds B
        response = client.post(
            reverse("targets:reports_bulk_approve"),
            {"report": [f"{r.pk}:{r.version}" for r in (first, second)]},
        )
    thread.join(20)

    assert editor_done.is_set() and not editor_errors, editor_errors
    assert response.status_code == 409
    body = response.content.decode()
    assert str(BUSY_MESSAGE) in body and 'data-code="deadlock"' in body
    rows = ProgressReport.objects.filter(pk__in=[first.pk, second.pk]).order_by("pk")
    assert {(r.status, r.note) for r in rows} == {("submitted", "A"), ("submitted", "B")}


# ------------------------------------------------------------------------------ database gone


def test_with_the_database_gone_pages_and_api_answer_503_not_500(committed_world):
    world = committed_world
    client = Client(raise_request_exception=False)
    client.force_login(world.liaison)
    api = Client(raise_request_exception=False)
    api.force_login(world.liaison)
    settings_dict = connection.settings_dict
    saved = (settings_dict["HOST"], settings_dict["PORT"])
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", "1"  # nothing listens there
    connection.close()
    try:
        page = client.get(reverse("targets:my_reports"))
        save = client.post(world.page(world.stations), {"value": 3, "save": ""})
        response = api.get("/api/v1/reports/")
    finally:
        settings_dict["HOST"], settings_dict["PORT"] = saved
        connection.close()

    assert (page.status_code, save.status_code) == (503, 503)
    assert str(UNAVAILABLE_MESSAGE) in page.content.decode()
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert response["Retry-After"] == "10"
    assert world.report(world.stations) is None
