"""GET and HEAD change nothing; every change needs a POST with a CSRF token.

The whole URL map (tests/url_map.py: pages, admin, API) is walked with parameters inside the
users' scope (连州's objects, as a superuser and as 连州's staff), so every page renders its
real content. PostgreSQL's per-transaction table statistics (pg_stat_xact_user_tables) count
every row inserted, updated or deleted by the request, in every table, history included.
"""

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from tests import url_map
from tests.test_url_walk import lianzhou  # noqa: F401 (fixture)

# Tables a request may write without changing anything the application keeps: the session
# (login), django-axes' access records, and derived data a read may fill: the stored
# judgement (targets.judgement: judged on the first read of a day or after a change, then
# read), the shared cache (cached page fragments, integrity findings, list responses) and the
# table clocks those derived writes tick (core.table_clock).
IGNORED_TABLES = {
    "core_tableclock",
    "django_session",
    "axes_accessattempt",
    "axes_accesslog",
    "axes_accessfailurelog",
    "targets_targetjudgement",
    settings.SHARED_CACHE_TABLE,
}
# Deliberately without CSRF: the token endpoint takes a user name and password, not a cookie.
CSRF_EXEMPT = {"api_auth_token"}


def writes() -> dict[str, tuple[int, int, int]]:
    """Rows inserted, updated, deleted per table so far in this transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables"
        )
        return {name: counts for name, *counts in cursor.fetchall() if name not in IGNORED_TABLES}


def changed(before: dict, after: dict) -> list[str]:
    return sorted(t for t in after.keys() | before.keys() if after.get(t) != before.get(t))


@pytest.fixture
def superuser(seeded):
    return User.objects.create_superuser("root_walk", password="Root-pass-2021")


def admin_values(pattern, objects) -> str | None:
    """An admin URL naming a real object of its model (the first one), as a superuser sees."""
    parts = pattern.route.split("/")
    model = None
    if len(parts) > 3:
        try:
            model = apps.get_model(parts[1], parts[2])
        except (LookupError, ValueError):
            model = None
    obj = model._default_manager.order_by("pk").first() if model else None
    if pattern.object_params and obj is None and "object_id" in pattern.route:
        return None  # no row to show (e.g. an empty log table)
    history = getattr(obj, "history", None)
    record = history.order_by("history_id").first() if history is not None else None
    values = {
        "app_label": "planning",
        "object_id": obj.pk if obj else 1,
        "id": objects.user.pk,
        "content_type_id": 1,
        "url": "nowhere/",
    }
    positional = [obj.pk if obj else 1, record.history_id if record else 1]
    return url_map.fill(pattern.route, values, positional)


def in_scope_urls(objects):
    for pattern in url_map.patterns():
        if pattern.name.split(":")[-1] in {"logout", "api_auth_token"}:
            continue
        url = admin_values(pattern, objects) if pattern.kind == "admin" else None
        if pattern.kind != "admin":
            url = url_map.url_of(pattern, objects)
        if url is not None:
            yield pattern, url


@pytest.mark.usefixtures("on_postgres")
@pytest.mark.parametrize("who", ["superuser", "staff_lianzhou"])
def test_get_and_head_change_nothing_anywhere(request, client, lianzhou, who):  # noqa: F811
    client.force_login(request.getfixturevalue(who))
    wrong, answered = [], 0
    for pattern, url in in_scope_urls(lianzhou):
        if pattern.kind == "admin" and who != "superuser":
            continue  # the admin sends everyone else to its login
        # HEAD runs the same view as GET; once on the admin (slow pages, Django's own code).
        for method in ("get",) if pattern.kind == "admin" else ("get", "head"):
            before = writes()
            response = getattr(client, method)(url)
            if response.status_code >= 500:
                wrong.append(f"{method.upper()} {url} → {response.status_code}")
            answered += response.status_code == 200
            tables = changed(before, writes())
            if tables:
                wrong.append(f"{method.upper()} {url} wrote to {', '.join(tables)} ({pattern})")
    assert not wrong, "GET / HEAD that changed something or failed:\n" + "\n".join(wrong)
    assert answered > 100, "the walk reached the pages (in scope), not only refusals"


@pytest.mark.usefixtures("on_postgres")
def test_every_post_without_a_csrf_token_is_refused_and_changes_nothing(
    lianzhou,  # noqa: F811
    superuser,
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    wrong = []
    for pattern, url in in_scope_urls(lianzhou):
        if pattern.name.split(":")[-1] in CSRF_EXEMPT:
            continue
        before = writes()
        response = client.post(url, {"reason": "无令牌", "value": "9", "title": "无令牌"})
        if response.status_code != 403:
            wrong.append(f"POST {url} → {response.status_code} ({pattern})")
        tables = changed(before, writes())
        if tables:
            wrong.append(f"POST {url} wrote to {', '.join(tables)} ({pattern})")
    assert not wrong, "POSTs without a CSRF token not refused:\n" + "\n".join(wrong)


@pytest.mark.usefixtures("on_postgres")
def test_the_write_counter_sees_a_change(client, lianzhou, staff_lianzhou):  # noqa: F811
    """The checks above can fail: a real POST (with the token, as the test client sends it)
    shows up in the counters, history included."""
    client.force_login(staff_lianzhou)
    before = writes()
    response = client.post(
        f"/plans/tasks/{lianzhou.task.pk}/updates/", {"text": "进展：完成选址", "percent": "10"}
    )
    assert response.status_code in (200, 302)
    assert "planning_taskupdate" in changed(before, writes())
