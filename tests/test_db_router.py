"""Where reads and writes go with read replicas configured (core.db_router, core.replica_health,
fireplan.replica_middleware). The replica's answers are stubbed here; tests/faults/test_replica.py
proves the same on a real primary and streaming replica."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.cache import caches
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse
from django.test import RequestFactory

from core import replica_health
from core.db_router import ReplicaRouter, current_routing, replica_reads, routing_scope
from fireplan.replica_middleware import COOKIE, SALT, ReadReplicaMiddleware
from planning.models import Plan

ROOT = Path(__file__).resolve().parent.parent
router = ReplicaRouter()


@pytest.fixture
def replica(settings, monkeypatch):
    """One replica alias whose lag the test sets (None: it does not answer)."""
    settings.REPLICA_DATABASES = ["replica"]
    settings.DATABASE_ROUTERS = ["core.db_router.ReplicaRouter"]
    settings.REPLICA_MAX_LAG_SECONDS = 5
    settings.REPLICA_CHECK_SECONDS = 2
    settings.REPLICA_PIN_SECONDS = 10
    state = {"lag": 0.0, "asked": 0}

    def measure_lag(alias):
        state["asked"] += 1
        return state["lag"]

    monkeypatch.setattr(replica_health, "measure_lag", measure_lag)
    monkeypatch.setattr(replica_health, "connects", lambda alias: state["lag"] is not None)
    replica_health.forget()
    yield state
    replica_health.forget()


def read_db(model=Plan) -> str:
    return router.db_for_read(model)


# --------------------------------------------------------------------------- the router


def test_reads_outside_a_request_use_the_primary(replica):
    assert read_db() == "default"


def test_a_request_allowed_the_replica_reads_from_it(replica):
    with routing_scope(replica_allowed=True):
        assert read_db() == "replica"
        assert Plan.objects.all().db == "replica"
    with routing_scope(replica_allowed=False):
        assert read_db() == "default"


def test_a_command_reads_from_the_replica_only_when_it_asks(replica):
    assert Plan.objects.all().db == "default"
    with replica_reads():
        assert Plan.objects.all().db == "replica"


def test_writes_and_select_for_update_go_to_the_primary(replica):
    with routing_scope(replica_allowed=True):
        assert Plan.objects.select_for_update().db == "default"
        assert router.db_for_write(Plan) == "default"


def test_after_a_write_the_request_reads_from_the_primary(replica):
    with routing_scope(replica_allowed=True) as routing:
        assert read_db() == "replica"
        router.db_for_write(Plan)
        assert routing.wrote
        assert read_db() == "default"


def test_sessions_cache_and_login_counters_stay_on_the_primary_and_pin_nothing(replica):
    cache_model = caches["shared"].cache_model_class  # the shared cache's table
    with routing_scope(replica_allowed=True) as routing:
        for model in (Session, cache_model, AccessAttempt):
            assert read_db(model) == "default"
            assert router.db_for_write(model) == "default"
        assert not routing.wrote
        assert read_db() == "replica"


def test_reads_inside_a_transaction_use_the_primary(replica, db):
    # pytest-django's db fixture runs the test inside a transaction, as a service's
    # transaction.atomic() runs its checks.
    assert connection.in_atomic_block
    with routing_scope(replica_allowed=True):
        assert read_db() == "default"


def test_a_replica_lagging_beyond_the_limit_is_skipped(replica):
    replica["lag"] = 5.5
    with routing_scope(replica_allowed=True):
        assert read_db() == "default"


def test_a_replica_that_does_not_answer_is_skipped(replica):
    replica["lag"] = None
    with routing_scope(replica_allowed=True):
        assert read_db() == "default"
    assert replica_health.status() == {"replica": "down"}


def test_the_replica_is_asked_once_per_check_interval(replica, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(replica_health.time, "monotonic", lambda: clock[0])
    for _ in range(3):
        with routing_scope(replica_allowed=True):
            assert read_db() == "replica"
    assert replica["asked"] == 1
    replica["lag"] = 9.0  # fell behind: seen at the next check, not before
    clock[0] += 1.9
    with routing_scope(replica_allowed=True):
        assert read_db() == "replica"
    clock[0] += 0.2
    with routing_scope(replica_allowed=True):
        assert read_db() == "default"
    assert replica["asked"] == 2


def test_one_request_keeps_the_replica_it_chose(replica, settings):
    settings.REPLICA_DATABASES = ["replica", "replica_2"]
    with routing_scope(replica_allowed=True):
        first = read_db()
        assert {read_db() for _ in range(20)} == {first}


def test_migrations_run_on_the_primary_only(replica):
    assert router.allow_migrate("replica", "planning", model_name="plan") is False
    assert router.allow_migrate("default", "planning", model_name="plan") is None


def test_rows_read_from_the_replica_may_point_at_rows_of_the_primary(replica):
    plan, other = Plan(), Plan()
    plan._state.db, other._state.db = "replica", "default"
    assert router.allow_relation(plan, other) is True
    other._state.db = "elsewhere"
    assert router.allow_relation(plan, other) is None


# --------------------------------------------------------------------------- the middleware


def run(request, view=None):
    """The middleware around a view that notes whether it could read from a replica."""
    seen = {}

    def get_response(req):
        seen["replica_allowed"] = current_routing().replica_allowed
        if view:
            view()
        return HttpResponse("ok")

    response = ReadReplicaMiddleware(get_response)(request)
    return seen["replica_allowed"], response


def signed_cookie(age_seconds: int) -> str:
    """The middleware's cookie as if set ``age_seconds`` ago (by the middleware's own call)."""
    response = HttpResponse()
    past = signing.b62_encode(int(time.time()) - age_seconds)
    with mock.patch.object(signing.TimestampSigner, "timestamp", lambda self: past):
        response.set_signed_cookie(COOKIE, "1", salt=SALT)
    return response.cookies[COOKIE].value


def test_a_get_reads_from_the_replica_and_pins_nothing(replica):
    allowed, response = run(RequestFactory().get("/plans/"))
    assert allowed is True
    assert COOKIE not in response.cookies


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_write_request_reads_from_the_primary_and_pins_the_client(replica, method):
    allowed, response = run(getattr(RequestFactory(), method)("/api/v1/reports/"))
    assert allowed is False
    cookie = response.cookies[COOKIE]
    assert cookie["max-age"] == 10
    assert cookie["httponly"]


def test_a_get_that_wrote_pins_the_client(replica):
    allowed, response = run(RequestFactory().get("/"), view=lambda: router.db_for_write(Plan))
    assert allowed is True
    assert COOKIE in response.cookies


def test_requests_soon_after_a_write_read_from_the_primary(replica):
    request = RequestFactory().get("/plans/")
    request.COOKIES[COOKIE] = signed_cookie(age_seconds=9)
    assert run(request)[0] is False


def test_the_pin_ends_after_replica_pin_seconds(replica):
    request = RequestFactory().get("/plans/")
    request.COOKIES[COOKIE] = signed_cookie(age_seconds=11)
    assert run(request)[0] is True


def test_a_forged_cookie_pins_nothing(replica):
    request = RequestFactory().get("/plans/")
    request.COOKIES[COOKIE] = "1:zzzzzz:forged-signature"
    assert run(request)[0] is True


# --------------------------------------------------------------------------- the settings


def settings_with(**env) -> subprocess.CompletedProcess:
    code = (
        "import json, django; from django.conf import settings; django.setup();"
        "print(json.dumps({'aliases': sorted(settings.DATABASES),"
        " 'replicas': settings.REPLICA_DATABASES,"
        " 'routers': getattr(settings, 'DATABASE_ROUTERS', []),"
        " 'middleware': settings.MIDDLEWARE[:2],"
        " 'replica': settings.DATABASES.get('replica_2', {})}, default=str))"
    )
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REPLICA_"))
    }
    environment |= {"DJANGO_SETTINGS_MODULE": "fireplan.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True
    )


def test_without_replica_urls_nothing_changes():
    done = settings_with(DATABASE_URL="postgres://postgres@127.0.0.1:5432/fp")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["aliases"] == ["default"]
    assert found["routers"] == []
    assert "fireplan.replica_middleware.ReadReplicaMiddleware" not in found["middleware"]


def test_each_replica_url_becomes_an_alias_with_the_router_and_middleware():
    done = settings_with(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/fp",
        DATABASE_REPLICA_URL="postgres://reader@r2:5432/fp, postgres://reader@r3:5432/fp",
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["aliases"] == ["default", "replica", "replica_2"]
    assert found["replicas"] == ["replica", "replica_2"]
    assert found["routers"] == ["core.db_router.ReplicaRouter"]
    assert found["middleware"][1] == "fireplan.replica_middleware.ReadReplicaMiddleware"
    replica = found["replica"]
    assert replica["HOST"] == "r3"
    assert replica["TEST"]["MIRROR"] == "default"
    assert replica["OPTIONS"]["connect_timeout"] == 3
    assert "statement_timeout" in replica["OPTIONS"]["options"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_REPLICA_URL": "sqlite:///x.db"}, "is not a PostgreSQL URL"),
        ({"DATABASE_REPLICA_URL": "postgres://r/fp", "REPLICA_PIN_SECONDS": "3"}, "at least"),
        ({"DATABASE_REPLICA_URL": "postgres://r/fp", "REPLICA_MAX_LAG_SECONDS": "x"}, "whole"),
    ],
)
def test_bad_replica_settings_stop_the_start(env, message):
    done = settings_with(DATABASE_URL="postgres://postgres@127.0.0.1:5432/fp", **env)
    assert done.returncode != 0
    assert message in done.stderr


class BrokenConnection:
    """A replica connection whose server has gone away."""

    def __init__(self, error):
        self.error, self.closed = error, False

    def cursor(self):
        raise self.error

    def close_if_health_check_failed(self):
        raise self.error

    def close(self):
        self.closed = True


@pytest.mark.parametrize("error", [OperationalError("refused"), InterfaceError("closed")])
def test_a_replica_gone_away_is_seen_down_and_its_connection_closed(settings, monkeypatch, error):
    settings.REPLICA_DATABASES = ["replica"]
    broken = BrokenConnection(error)
    monkeypatch.setattr(replica_health, "connections", {"replica": broken})
    replica_health.forget()
    assert replica_health.measure_lag("replica") is None
    assert broken.closed
    broken.closed = False
    assert replica_health.connects("replica") is False
    assert broken.closed
    assert replica_health.status() == {"replica": "down"}
    assert replica_health.pick(["replica"]) is None
    replica_health.forget()
