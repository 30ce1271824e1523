"""Scope checks on every URL: the whole URL map (pages, admin, API) and the whole OpenAPI
schema, walked with the path parameters pointing at 连州's objects, as users outside 连州.

The users: an admin of 南阳市 (every action of every role, so only the scope stands in the
way) and 南召县's liaison. Outside their scope an object does not exist (404) or the action
is refused (403); a page that answers only another method may say 405. Never 200, never a
redirect to success, never 500. The admin site is for superusers only: everyone else is sent
to its login. Lists (no parameters) answer, but never show a 连州 object (SENTINEL).

Old addresses of moved pages (kind "moved") answer every one of them with a permanent redirect
to the page's new address (tests/test_moved_urls.py checks where each leads).

A new URL with parameters fails ``test_every_url_pattern_is_walked`` until tests/url_map.py
says which object its parameters name: no page can forget the check unnoticed.
"""

import io
import re

import openpyxl
import pytest
from django.conf import settings
from django.urls import resolve, reverse

from targets.models import ProgressReport
from tests import url_map
from tests.api import client_for
from tests.conftest import make_user

REFUSED = {403, 404, 405}
# What the POSTs of the walk send: enough for every form and action to get past validation to
# the scope check (a 400 for a missing reason would prove nothing about the scope).
POSTED = {"reason": "核对后重新填报（越界）", "value": "9", "title": "越界", "text": "越界"}
API_METHODS = ["get", "post", "put", "patch", "delete"]


@pytest.fixture
def admin_nanyang(seeded):
    return make_user("admin_nanyang", "admin", "南阳市")


@pytest.fixture
def lianzhou(open_2024, liaison_lianzhou, staff_lianzhou, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return url_map.build_objects(
        reporter=liaison_lianzhou, staff=staff_lianzhou, period=open_2024["lianzhou-2021-2025"]
    )


@pytest.fixture
def outsiders(admin_nanyang, liaison_nanzhao):
    return {"admin_nanyang": admin_nanyang, "liaison_nanzhao": liaison_nanzhao}


def walked(lianzhou):
    for pattern in url_map.patterns():
        url = url_map.url_of(pattern, lianzhou)
        assert url is not None, f"no parameters for {pattern}"
        yield pattern, url


def body(response) -> bytes:
    """The response's bytes; for a workbook, the text of every cell of every sheet."""
    data = b"".join(response.streaming_content) if response.streaming else response.content
    if data.startswith(b"PK"):
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        cells = (
            str(value)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        )
        return "\n".join(cells).encode()
    return data


def foreign_filters(lianzhou) -> dict:
    """Query parameters naming 连州's objects, for every list's filter bar."""
    return {
        "plan": lianzhou.plan.pk, "region": lianzhou.region.pk, "target": lianzhou.target.pk,
        "task": lianzhou.task.pk, "unit": lianzhou.unit.pk, "year": 2024, "period": "2024",
    }  # fmt: skip


def fill_moved(pattern, url: str) -> str:
    """Where the old address ``url`` of ``pattern`` leads: its page with the same parameters."""
    return reverse(pattern.moved_to, kwargs=resolve(url).kwargs)


def is_login_redirect(response, *login_urls: str) -> bool:
    return response.status_code == 302 and response["Location"].startswith(login_urls)


def test_every_url_pattern_is_walked(lianzhou):
    missing = url_map.unmapped(lianzhou)
    assert not missing, (
        "URL patterns whose parameters tests/url_map.py does not map to an object (add them "
        "to PAGE_PARAMS or API_OBJECTS, or to PUBLIC if deliberately public):\n"
        + "\n".join(missing)
    )


def test_every_page_is_named_in_the_namespace_of_its_app():
    """A page's name is ``app:name``, the app whose view module serves it (README, 页面地址
    URLs); Django's own pages and the project's /healthz keep plain names, and so do the log-in
    and password pages accounts serves in their place (accounts/auth_urls.py: LOGIN_URL and
    Django's templates name them plainly)."""
    plain = {"login", "logout", "password_change", "password_change_done", "password_reset"}
    plain |= {"password_reset_done", "password_reset_confirm", "password_reset_complete"}
    wrong = []
    for pattern in url_map.patterns():
        if pattern.route.startswith(("admin/", "api/")) or pattern.kind == "moved":
            continue
        app = pattern.pattern.callback.__module__.split(".")[0]
        namespace = pattern.name.rpartition(":")[0]
        if pattern.name in plain and namespace == "":
            continue
        if namespace != ("" if app in ("django", "fireplan") else app):
            wrong.append(f"{pattern} (view in {pattern.pattern.callback.__module__})")
    assert not wrong, "\n".join(wrong)


def test_the_walk_covers_pages_admin_and_api(lianzhou):
    kinds = {pattern.kind for pattern, _ in walked(lianzhou)}
    assert kinds == {"page", "admin", "api", "public", "moved"}
    with_objects = [p for p, _ in walked(lianzhou) if p.object_params and p.kind != "admin"]
    assert len(with_objects) >= len(url_map.PAGE_PARAMS) + len(url_map.API_OBJECTS)


def test_anonymous_users_are_sent_to_the_login_everywhere(client, lianzhou):
    page_login, admin_login = reverse(settings.LOGIN_URL), reverse("admin:login")
    wrong = []
    for pattern, url in walked(lianzhou):
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            code = response.status_code
            if pattern.kind == "public":
                ok = code < 500
            elif pattern.kind == "admin":
                # Only the login page itself answers; everything else goes to a login.
                ok = pattern.name == "admin:login" or is_login_redirect(
                    response, admin_login, page_login
                )
            elif pattern.kind == "api":
                ok = code == 401
            elif pattern.kind == "moved":
                # An old address leads to the page's new one, whose login then applies
                # (tests/test_moved_urls.py).
                ok = code in (301, 308) and response["Location"] == fill_moved(pattern, url)
            else:
                ok = is_login_redirect(response, page_login) or code == 405
            if not ok:
                wrong.append(f"{method.upper()} {url} → {code} ({pattern})")
    assert not wrong, "anonymous requests not refused:\n" + "\n".join(wrong)


def test_users_outside_the_scope_get_404_or_403_on_every_url_with_an_object(
    client, lianzhou, outsiders
):
    admin_login = reverse("admin:login")
    wrong = []
    for who, user in outsiders.items():
        client.force_login(user)
        for pattern, url in walked(lianzhou):
            if pattern.kind in ("public", "moved"):
                continue  # no login needed; moved: the redirect shows nothing (the page checks)
            if not (pattern.object_params or pattern.kind == "admin"):
                continue
            for method in ("get", "post"):
                response = getattr(client, method)(url, POSTED if method == "post" else {})
                code = response.status_code
                if pattern.kind == "admin":
                    ok = is_login_redirect(response, admin_login) or pattern.name == "admin:login"
                else:
                    ok = code in REFUSED
                if not ok:
                    wrong.append(f"{who}: {method.upper()} {url} → {code} ({pattern})")
    assert not wrong, "out-of-scope requests not refused:\n" + "\n".join(wrong)


def test_nothing_changed_after_the_out_of_scope_walk(client, lianzhou, outsiders):
    """The refused POSTs above leave 连州's report and objects as they were."""
    report, plan = lianzhou.report, lianzhou.plan
    before = (report.status, report.version, plan.version, plan.history.count())
    client.force_login(outsiders["admin_nanyang"])
    for pattern, url in walked(lianzhou):
        if pattern.object_params and pattern.kind in ("page", "api"):
            client.post(url, POSTED)
    report.refresh_from_db()
    plan.refresh_from_db()
    assert (report.status, report.version, plan.version, plan.history.count()) == before


def test_lists_never_show_objects_outside_the_scope(client, lianzhou, outsiders):
    """Pages and endpoints without parameters (lists, dashboards, exports) answer an outsider,
    also when their filters name 连州's plan, region or target, and never show 连州's objects
    (the refusals — 400 for a filter choice outside the scope, 403 for a role — are fine)."""
    wrong = []
    for who, user in outsiders.items():
        client.force_login(user)
        for pattern, url in walked(lianzhou):
            if pattern.kind not in ("page", "api") or pattern.object_params:
                continue
            for query in ({}, foreign_filters(lianzhou), {"export": "xlsx"}):
                response = client.get(url, query)
                if response.status_code >= 500 or url_map.SENTINEL.encode() in body(response):
                    wrong.append(f"{who}: GET {url} {query} → {response.status_code}")
    assert not wrong, "lists failing or showing 连州's objects:\n" + "\n".join(wrong)


def test_the_sentinel_does_show_inside_the_scope(client, lianzhou, staff_lianzhou):
    """The list checks can fail: 连州's own staff see the sentinel objects, in pages, in the
    API and in exported workbooks."""
    client.force_login(staff_lianzhou)
    sentinel = url_map.SENTINEL.encode()
    assert sentinel in body(client.get(reverse("stations:station_list")))
    assert sentinel in body(client.get(reverse("reports:excel_station_register")))
    assert sentinel in body(client_for(staff_lianzhou).get("/api/v1/reports/"))


# ------------------------------------------------------------------------ the API schema


def schema_operations(client) -> list[tuple[str, str]]:
    schema = client.get("/api/schema/", {"format": "json"}).json()
    return [
        (path, method)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in API_METHODS
    ]


def schema_url(path: str, lianzhou) -> str | None:
    if "{" not in path:
        return path
    segment = path.removeprefix("/api/v1/").split("/")[0]
    basename = url_map.API_SEGMENTS.get(segment)
    if basename is None or re.findall(r"\{(\w+)\}", path) != ["id"]:
        return None
    return path.replace("{id}", str(getattr(lianzhou, url_map.API_OBJECTS[basename]).pk))


def test_every_schema_path_is_walked(client, lianzhou):
    missing = sorted({p for p, _ in schema_operations(client) if schema_url(p, lianzhou) is None})
    assert not missing, "schema paths without an object in tests/url_map.py: " + ", ".join(missing)


def test_every_api_operation_on_an_object_outside_the_scope_is_refused(client, lianzhou, outsiders):
    operations = schema_operations(client)
    assert len(operations) > 40
    wrong = []
    for who, user in outsiders.items():
        api = client_for(user)
        for path, method in operations:
            if "{" not in path:
                continue
            url = schema_url(path, lianzhou)
            # The right version, so that no precondition answers before the scope does.
            obj = getattr(lianzhou, url_map.API_OBJECTS[url_map.API_SEGMENTS[path.split("/")[3]]])
            etag = f'"{obj.pk}-{getattr(obj, "version", 0)}"'
            response = getattr(api, method)(url, POSTED, format="json", HTTP_IF_MATCH=etag)
            if response.status_code not in REFUSED:
                wrong.append(f"{who}: {method.upper()} {url} → {response.status_code}")
    assert not wrong, "API operations on 连州's objects not refused:\n" + "\n".join(wrong)
    report = lianzhou.report
    report.refresh_from_db()
    assert (report.status, report.value) == ("submitted", 2)


def test_api_lists_as_an_outsider_answer_without_objects_of_other_regions(
    client, lianzhou, outsiders
):
    wrong = []
    for who, user in outsiders.items():
        api = client_for(user)
        for path, method in schema_operations(client):
            if "{" in path or method != "get":
                continue
            for query in ({}, foreign_filters(lianzhou)):
                response = api.get(path, query)
                if response.status_code >= 500 or url_map.SENTINEL.encode() in body(response):
                    wrong.append(f"{who}: GET {path} {query} → {response.status_code}")
    assert not wrong, "\n".join(wrong)


def test_anonymous_api_requests_are_401(client, lianzhou):
    wrong = []
    api = client_for()
    for path, method in schema_operations(client):
        url = schema_url(path, lianzhou)
        if resolve(url).url_name in url_map.PUBLIC:
            continue
        response = getattr(api, method)(url, {}, format="json")
        if response.status_code != 401:
            wrong.append(f"{method.upper()} {url} → {response.status_code}")
    assert not wrong, "\n".join(wrong)


# ------------------------------------------------------------------ hostile queries (issue 20)

HOSTILE_QUERIES = [
    {"page": "99999999999999999999"},  # an offset past PostgreSQL's bigint
    {"status": "approved"},  # the review inbox lists an approved report nobody submitted
]


def test_hostile_queries_on_every_list_answer_without_a_server_error(
    client, lianzhou, staff_lianzhou
):
    """Every list page and every API list, as 连州's own staff (so the rows are there), with
    a page number past PostgreSQL's bigint and a status filter that brings up a report
    without a submitter (loaded, approved by the old system): a page or a 4xx, never a 500;
    in the API, the huge page is a 404 with its code."""
    ProgressReport.objects.create(
        target=lianzhou.target, region=lianzhou.region, period="2022", value=1, status="approved"
    )
    client.force_login(staff_lianzhou)
    api = client_for(staff_lianzhou)
    wrong = []
    for pattern, url in walked(lianzhou):
        if pattern.kind != "page" or pattern.object_params:
            continue
        for query in HOSTILE_QUERIES:
            response = client.get(url, query)
            if response.status_code >= 500:
                wrong.append(f"GET {url} {query} → {response.status_code}")
    for path, method in schema_operations(client):
        if "{" in path or method != "get":
            continue
        for query in HOSTILE_QUERIES:
            response = api.get(path, query)
            if response.status_code >= 500:
                wrong.append(f"GET {path} {query} → {response.status_code}")
    assert not wrong, "\n".join(wrong)
    response = api.get("/api/v1/reports/", HOSTILE_QUERIES[0])
    assert response.status_code == 404 and response.json()["code"] == "not_found"
