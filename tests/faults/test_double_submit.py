"""A form or an upload sent twice — a double click, a reload, a retry after a lost answer —
has one effect. Pages: the one-time form token (core.once). API: the Idempotency-Key
header (fireplan.idempotency). Files: the same SHA-256 is one Evidence row."""

from __future__ import annotations

import re
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import issue_api_token
from core.models import Evidence
from core.once import ALREADY_SENT
from planning.models import TaskUpdate
from reports.models import ImportBatch, ImportState
from targets.models import ProgressReport
from tests import factories
from tests.api import client_for

PDF = b"%PDF-1.4 evidence of a built fire station\n%%EOF"


def token_on(response) -> str:
    found = re.search(r'name="once_token" value="([^"]+)"', response.content.decode())
    assert found, "the form carries no one-time token"
    return found.group(1)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# ------------------------------------------------------------------------------ report form


def test_the_report_form_sent_twice_saves_once_and_the_second_is_told(client, world):
    client.force_login(world.liaison)
    page = world.page(world.stations)
    token = token_on(client.get(page))
    data = {"value": "5", "note": "", "confirm_note": "", "version": 0, "once_token": token}

    first = client.post(page, {**data, "submit": ""})
    second = client.post(page, {**data, "submit": ""}, follow=True)

    assert first.status_code == 302 and first["Location"] == page
    assert second.redirect_chain == [(page, 302)]
    assert ALREADY_SENT in messages_of(second)
    report = world.report(world.stations)
    assert (report.status, report.version, report.history.count()) == ("submitted", 1, 1)


def test_a_refused_form_can_be_corrected_and_sent_with_the_same_token(client, world):
    client.force_login(world.liaison)
    page = world.page(world.stations)
    token = token_on(client.get(page))
    data = {"note": "", "confirm_note": "", "version": 0, "once_token": token, "save": ""}

    refused = client.post(page, {**data, "value": "-3"})
    corrected = client.post(page, {**data, "value": "3"})

    assert refused.status_code == 400
    assert token_on(refused) == token  # the re-shown form keeps it: nothing happened yet
    assert corrected.status_code == 302
    assert world.report(world.stations).value == 3


def test_each_rendering_of_the_form_carries_a_new_token(client, world):
    client.force_login(world.liaison)
    page = world.page(world.stations)
    assert token_on(client.get(page)) != token_on(client.get(page))


# ------------------------------------------------------------------------------ task update


@pytest.fixture
def task(world):
    return factories.task(world.plan, "t-fault", title="建设消防站")


def test_a_task_update_sent_twice_is_added_once(client, world, task):
    client.force_login(world.liaison)
    token = token_on(client.get(reverse("reports:task_detail", args=[task.pk])))
    url = reverse("reports:task_update_create", args=[task.pk])
    data = {"text": "主体完工", "percent": "60", "once_token": token}

    first = client.post(url, data)
    second = client.post(url, data, follow=True)

    assert first.status_code == 302
    assert ALREADY_SENT in messages_of(second)
    assert TaskUpdate.objects.filter(task=task).count() == 1


def test_without_a_token_a_task_update_is_added_each_time(client, world, task):
    """What the token prevents (and proof that old pages without it still work)."""
    client.force_login(world.liaison)
    url = reverse("reports:task_update_create", args=[task.pk])
    for _ in range(2):
        assert client.post(url, {"text": "主体完工"}).status_code == 302
    assert TaskUpdate.objects.filter(task=task).count() == 2


def test_two_concurrent_task_updates_with_one_token_add_one(committed_world):
    world = committed_world
    task = factories.task(world.plan, "t-fault", title="建设消防站")
    token = "concurrent-token-0123456789"
    url = reverse("reports:task_update_create", args=[task.pk])
    statuses: list[int] = []
    start = threading.Barrier(2)

    def send():
        client = Client()
        client.force_login(world.liaison)
        start.wait()
        statuses.append(client.post(url, {"text": "同时提交", "once_token": token}).status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert statuses == [302, 302]
    assert TaskUpdate.objects.filter(task=task).count() == 1


# ------------------------------------------------------------------------------ Excel commit


def test_an_excel_import_confirmed_twice_is_committed_once(client, open_2024, liaison_nanzhao):
    from tests.reports.test_excel_import import NEW_STATIONS, download, fill, upload

    data = fill(download(client, liaison_nanzhao), {NEW_STATIONS: 2})
    preview = upload(client, liaison_nanzhao, data)
    token = token_on(preview)
    batch = ImportBatch.objects.get()
    url = reverse("reports:excel_commit", args=[batch.pk])

    first = client.post(url, {"confirm_note": "", "once_token": token})
    history = ProgressReport.history.count()
    second = client.post(url, {"confirm_note": "", "once_token": token}, follow=True)

    assert first.status_code == 302
    assert ALREADY_SENT in messages_of(second)
    batch.refresh_from_db()
    assert batch.state == ImportState.COMMITTED
    assert ProgressReport.history.count() == history


# ------------------------------------------------------------------------------ evidence


def test_the_same_file_uploaded_twice_to_a_report_is_one_evidence_row(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    report = world.draft(world.stations, 5)
    api = client_for(world.liaison)
    url = f"/api/v1/reports/{report.pk}/evidence/"

    for _ in range(2):
        upload = SimpleUploadedFile("验收.pdf", PDF, content_type="application/pdf")
        assert api.post(url, {"file": upload}, format="multipart").status_code == 200

    assert Evidence.objects.filter(sha256=Evidence.digest(PDF)).count() == 1
    assert report.evidence.count() == 1


def test_the_same_file_uploaded_at_once_to_two_reports_is_one_evidence_row(
    committed_world, settings, tmp_path
):
    """Two reports, so no row lock orders the two requests: the digest's advisory lock must."""
    world = committed_world
    settings.MEDIA_ROOT = tmp_path
    reports = [world.draft(world.stations, 5), world.draft(world.engines, 6)]
    start = threading.Barrier(2)
    statuses: list[int] = []

    def send(report):
        api = client_for(world.liaison)
        upload = SimpleUploadedFile("验收.pdf", PDF, content_type="application/pdf")
        start.wait()
        response = api.post(
            f"/api/v1/reports/{report.pk}/evidence/", {"file": upload}, format="multipart"
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=send, args=(r,)) for r in reports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert statuses == [200, 200]
    assert Evidence.objects.filter(sha256=Evidence.digest(PDF)).count() == 1
    assert all(r.evidence.count() == 1 for r in reports)


# ------------------------------------------------------------------------------ API key


_key_lock = threading.Lock()


def token_client(user) -> APIClient:
    """Authenticated as a program would be (the key is kept per caller: the token). One
    token per user object, so two clients of one user are the same caller."""
    with _key_lock:
        if not hasattr(user, "test_api_key"):
            user.test_api_key = issue_api_token(user).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {user.test_api_key}")
    return client


def create_body(world, value=5) -> dict:
    return {
        "target": world.stations.pk,
        "region": world.region.pk,
        "period": world.period,
        "value": value,
    }


def test_an_api_create_replayed_with_its_idempotency_key_gets_the_first_answer(world):
    api = token_client(world.liaison)
    headers = {"HTTP_IDEMPOTENCY_KEY": "save-2024-stations-1"}

    first = api.post("/api/v1/reports/", create_body(world), format="json", **headers)
    second = api.post("/api/v1/reports/", create_body(world), format="json", **headers)

    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert ProgressReport.history.filter(target=world.stations).count() == 1


def test_without_the_key_a_second_create_is_refused_as_existing_not_duplicated(world):
    api = token_client(world.liaison)
    api.post("/api/v1/reports/", create_body(world), format="json")
    again = api.post("/api/v1/reports/", {**create_body(world), "version": 0}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "report_exists")
    assert ProgressReport.objects.filter(target=world.stations).count() == 1


def test_an_idempotency_key_reused_for_another_body_is_refused(world):
    api = token_client(world.liaison)
    headers = {"HTTP_IDEMPOTENCY_KEY": "save-2024-stations-2"}
    api.post("/api/v1/reports/", create_body(world, 5), format="json", **headers)

    other = api.post("/api/v1/reports/", create_body(world, 9), format="json", **headers)

    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert world.report(world.stations).value == 5


def test_the_same_key_from_another_user_is_another_request(world):
    other = factories.target(world.plan, "g-other", measure_unit="座")
    headers = {"HTTP_IDEMPOTENCY_KEY": "shared-key"}
    a = token_client(world.liaison).post("/api/v1/reports/", create_body(world), **headers)
    b = token_client(world.staff).post(
        "/api/v1/reports/", {**create_body(world), "target": other.pk}, **headers
    )
    assert (a.status_code, b.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in b


def test_two_concurrent_api_creates_with_one_key_create_one_report(committed_world):
    world = committed_world
    start = threading.Barrier(2)
    answers: list = []

    def send():
        api = token_client(world.liaison)
        start.wait()
        answers.append(
            api.post(
                "/api/v1/reports/",
                create_body(world),
                format="json",
                HTTP_IDEMPOTENCY_KEY="concurrent-create",
            )
        )

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(a.status_code for a in answers) == [201, 201]
    assert answers[0].content == answers[1].content
    assert ProgressReport.history.filter(target=world.stations).count() == 1


# ------------------------------------------------------------------------------ session expiry


def test_a_post_from_an_expired_session_goes_to_login_with_the_way_back(client, world):
    page = world.page(world.stations)
    response = client.post(page, {"value": "5", "save": ""})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={page}"
    assert world.report(world.stations) is None


def test_two_concurrent_api_creates_without_a_key_give_one_report_and_no_500(committed_world):
    """The loser of the insert race (unique target/region/period) is told to retry (409)."""
    world = committed_world
    start = threading.Barrier(2)
    statuses: list[int] = []

    def send():
        api = token_client(world.liaison)
        start.wait()
        statuses.append(api.post("/api/v1/reports/", create_body(world), format="json").status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert 201 in statuses and set(statuses) <= {201, 409, 412}, statuses
    assert ProgressReport.objects.filter(target=world.stations).count() == 1
