"""Reads from a streaming replica, writes on the primary (issue 19).

    python -m faults.replica

A throwaway primary (initdb, loaded from the seeded template with pg_dump | pg_restore) and a
hot standby of it (pg_basebackup -R, streaming), both on 127.0.0.1 (faults.env.Cluster,
faults.env.Standby). This process sets the app up with DATABASE_URL = the primary and
DATABASE_REPLICA_URL = the standby, from the environment as in production, and sends requests
through Django's whole handler and middleware with the test client; every query is recorded
with the alias of the connection it ran on (``execute_wrapper``), and ``pg_is_in_recovery()``
proves which alias is the standby. Checked:

1. ``migrate`` with both configured runs on the primary; "replica" is in recovery, "default"
   is not.
2. A page GET and an API GET read their rows from the replica; the primary serves the
   session only.
3. An API POST writes on the primary and asks the replica nothing; its answer pins the
   client: the next GET reads from the primary and has the new figure; after
   REPLICA_PIN_SECONDS the client reads from the replica again, which has it too.
4. Replay paused on the standby while the primary writes: once the lag passes
   REPLICA_MAX_LAG_SECONDS pages read from the primary; replay resumed, from the replica.
5. The standby stopped (pg_ctl -m immediate) while this process holds an open connection
   to it and judged it fit a moment ago: pages and the API still answer 200, from the
   primary; started again, reads go back to it.
6. The app under gunicorn (2 workers): a logged-in page GET is counted in the standby's
   statistics of the plan table (pg_stat_user_tables), not in the primary's.

Prints each check and ``RESULT: PASS`` (exit 0) or ``RESULT: FAIL`` with the problems.

Imports that need Django set up first (``faults.env.setup_django``: models, the test client)
sit inside functions on purpose; the two constants at the top load no model."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from dataclasses import dataclass, field

from core.replica_health import LAG_SQL
from faults import env
from fireplan.replica_middleware import COOKIE

MAX_LAG, CHECK, PIN = 1, 0, 2  # seconds: small, so the script waits little
APP_TABLES = ("planning_", "targets_", "reports_", "stations_", "accounts_", "auth_user")


@dataclass
class Queries:
    """The SQL each alias ran during one request."""

    rows: list[tuple[str, str]] = field(default_factory=list)

    @contextlib.contextmanager
    def watch(self):
        from django.db import connections

        with contextlib.ExitStack() as stack:
            for alias in ("default", "replica"):
                stack.enter_context(connections[alias].execute_wrapper(self._recorder(alias)))
            yield self

    def _recorder(self, alias):
        def record(execute, sql, params, many, context):
            self.rows.append((alias, sql))
            return execute(sql, params, many, context)

        return record

    def on(self, alias: str, *tables: str, reads: bool = False) -> list[str]:
        """The statements run on ``alias`` (the replica's lag check left out): those naming
        one of ``tables`` when given, only SELECTs with ``reads``."""
        return [
            sql
            for where, sql in self.rows
            if where == alias
            and sql != LAG_SQL
            and (not tables or any(f'"{table}' in sql for table in tables))
            and (not reads or sql.startswith("SELECT"))
        ]


def fetch(client, method: str, path: str, **extra):
    """One request as gunicorn runs it: old connections closed before and after (the test
    client leaves that out), so each request connects, health-checks and routes anew."""
    from django.db import close_old_connections

    queries = Queries()
    close_old_connections()
    with queries.watch():
        response = getattr(client, method)(path, **extra)
    close_old_connections()
    return response, queries


class Checks:
    def __init__(self):
        self.problems: list[str] = []

    def expect(self, ok: bool, message: str) -> None:
        env.say(f"  {'ok  ' if ok else 'FAIL'} {message}")
        if not ok:
            self.problems.append(message)


def sql_on(url: str, sql: str):
    conn = env.connect(url, dbname="fireplan")
    with conn.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone() if cursor.description else None
    conn.close()
    return row


def read_from(checks: Checks, label: str, response, queries: Queries, alias: str, *tables):
    """The request answered 200, its app rows came from ``alias`` and none from the other
    (an API token's last_used, written once a minute, is a write on the primary)."""
    other = "default" if alias == "replica" else "replica"
    checks.expect(response.status_code == 200, f"{label}: {response.status_code}")
    read = queries.on(alias, *tables, reads=True)
    stray = queries.on(other, *APP_TABLES, reads=True)
    checks.expect(
        bool(read) and not stray,
        f"{label}: {len(read)} queries of {'/'.join(tables)} on {alias}, "
        f"{len(stray)} reads of app tables on {other}",
    )


def run_checks(primary, standby, checks: Checks) -> None:
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connections
    from django.test import Client

    env.say("1. which alias is which")
    for alias, expected in (("default", False), ("replica", True)):
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery()")
            in_recovery = cursor.fetchone()[0]
        checks.expect(in_recovery is expected, f"{alias}: pg_is_in_recovery() = {in_recovery}")
    connections.close_all()

    cast = env.prepare_cast()  # outside a request: written on the primary
    standby.wait_caught_up()
    staff = User.objects.get(username=cast.staff)
    token = {"HTTP_AUTHORIZATION": f"Token {cast.tokens[cast.liaison]}"}
    browser = Client(HTTP_HOST="localhost", raise_request_exception=False)
    browser.force_login(staff)
    api = Client(HTTP_HOST="localhost", raise_request_exception=False)

    health = fetch(api, "get", "/healthz")[0].json()
    checks.expect(health.get("replicas") == {"replica": "ok"}, f"/healthz: {health}")

    env.say("2. safe-method requests read from the replica")
    response, queries = fetch(browser, "get", "/plans/")
    read_from(checks, "GET /plans/", response, queries, "replica", "planning_plan")
    checks.expect(COOKIE not in response.cookies, "GET /plans/ pins nothing")
    response, queries = fetch(api, "get", "/api/v1/reports/", **token)
    read_from(checks, "GET /api/v1/reports/", response, queries, "replica", "targets_")

    env.say("3. a write goes to the primary, and its client reads its own write")
    target, region = cast.pairs[0]
    body = {"target": target, "region": region, "period": env.PERIOD, "value": 7,
            "version": 0, "confirm_note": "故障注入测试", "note": "replica check"}  # fmt: skip
    response, queries = fetch(
        api, "post", "/api/v1/reports/", data=body, content_type="application/json", **token
    )
    checks.expect(response.status_code == 201, f"POST /api/v1/reports/: {response.status_code}")
    inserts = [sql for sql in queries.on("default") if sql.startswith("INSERT")]
    checks.expect(
        any('"targets_progressreport"' in sql for sql in inserts) and not queries.on("replica"),
        f"POST: {len(inserts)} INSERTs on the primary, {len(queries.on('replica'))} queries "
        f"on the replica",
    )
    checks.expect(COOKIE in response.cookies, f"POST answer sets {COOKIE}")
    report = response.json()["id"] if response.status_code == 201 else 0
    response, queries = fetch(api, "get", f"/api/v1/reports/{report}/", **token)
    read_from(checks, "GET right after the write", response, queries, "default", "targets_")
    checks.expect(response.status_code == 200 and response.json()["value"] == 7, "it has 7")
    time.sleep(PIN + 0.2)
    standby.wait_caught_up()
    response, queries = fetch(api, "get", f"/api/v1/reports/{report}/", **token)
    read_from(checks, f"GET {PIN} s later", response, queries, "replica", "targets_")
    checks.expect(response.status_code == 200 and response.json()["value"] == 7, "it has 7")

    env.say(f"4. a replica more than {MAX_LAG} s behind is skipped")
    sql_on(standby.url, "SELECT pg_wal_replay_pause()")
    sql_on(primary.url, "CREATE TABLE replica_probe AS SELECT 1 AS n")
    time.sleep(MAX_LAG + 0.5)
    lag = sql_on(standby.url, "SELECT now() - pg_last_xact_replay_timestamp()")[0]
    env.say(f"  replay paused; last replayed transaction {lag.total_seconds():.1f} s ago")
    response, queries = fetch(browser, "get", "/plans/")
    read_from(checks, "GET /plans/ while lagging", response, queries, "default", "planning_plan")
    sql_on(standby.url, "SELECT pg_wal_replay_resume()")
    standby.wait_caught_up()
    response, queries = fetch(browser, "get", "/plans/")
    read_from(checks, "GET /plans/ caught up", response, queries, "replica", "planning_plan")

    env.say("5. the replica stops between two checks: pages answer from the primary")
    # As in production: a persistent connection to a replica judged fit a moment ago. The
    # request must find it dead (Django's connection health check) and use the primary.
    settings.REPLICA_CHECK_SECONDS = 60
    connections["replica"].settings_dict["CONN_MAX_AGE"] = 60
    response, queries = fetch(browser, "get", "/plans/")
    read_from(checks, "GET /plans/ before the stop", response, queries, "replica", "planning_plan")
    standby.crash()
    for label, path, extra, table in (
        ("page", "/plans/", {}, "planning_plan"),
        ("API", "/api/v1/reports/", token, "targets_"),
    ):
        response, queries = fetch(browser if label == "page" else api, "get", path, **extra)
        read_from(checks, f"{label} with the replica down", response, queries, "default", table)
    health = fetch(api, "get", "/healthz")[0]
    checks.expect(
        health.status_code == 200 and health.json()["replicas"] == {"replica": "down"},
        f"/healthz with the replica down: {health.status_code} {health.json()}",
    )
    settings.REPLICA_CHECK_SECONDS = CHECK
    standby.start()
    standby.wait_caught_up()
    response, queries = fetch(browser, "get", "/plans/")
    read_from(checks, "GET /plans/ after restart", response, queries, "replica", "planning_plan")

    env.say("6. under gunicorn, settings from the environment")
    connections.close_all()
    under_gunicorn(primary, standby, cast, checks)


SCANS_SQL = (
    "SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) FROM pg_stat_user_tables"
    " WHERE relname = 'planning_plan'"
)


def plan_scans(url: str) -> int:
    """Scans of the plan table this server has counted (each server counts its own)."""
    return int(sql_on(url, SCANS_SQL)[0])


def under_gunicorn(primary, standby, cast, checks: Checks) -> None:
    """The same app under gunicorn, its settings from the environment: a page GET is counted
    by the standby's statistics, not the primary's."""
    with env.Gunicorn(primary.url, workers=2) as server:
        browser = env.browser_login(server.url, cast.staff)
        checks.expect(COOKIE in browser.cookies, f"gunicorn: the login POST sets {COOKIE}")
        time.sleep(PIN + 0.2)  # the login wrote: its pin ends first
        before = plan_scans(primary.url), plan_scans(standby.url)
        response = browser.get(f"{server.url}/plans/", timeout=30)
        deadline = time.monotonic() + 10  # a backend reports its counts as it exits
        while plan_scans(standby.url) == before[1] and time.monotonic() < deadline:
            time.sleep(0.2)
        after = plan_scans(primary.url), plan_scans(standby.url)
        checks.expect(
            response.status_code == 200 and after[1] > before[1] and after[0] == before[0],
            f"gunicorn GET /plans/: {response.status_code}; plan table scans on the standby "
            f"{before[1]} → {after[1]}, on the primary {before[0]} → {after[0]}",
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.parse_args()
    template = env.template_database()
    checks = Checks()
    with env.Cluster() as primary:
        env.say(f"primary on 127.0.0.1:{primary.port}: restoring {template}")
        primary.restore_from(template)
        with env.Standby(primary) as standby:
            standby.wait_caught_up()
            env.say(f"standby on 127.0.0.1:{standby.port}, streaming from the primary")
            os.environ.update(
                DATABASE_REPLICA_URL=standby.url,
                REPLICA_MAX_LAG_SECONDS=str(MAX_LAG),
                REPLICA_CHECK_SECONDS=str(CHECK),
                REPLICA_PIN_SECONDS=str(PIN),
            )
            env.manage(primary.url, "migrate")
            env.say("migrate with DATABASE_REPLICA_URL set: done (the primary only)")
            env.setup_django(primary.url)
            try:
                run_checks(primary, standby, checks)
            finally:
                from django.db import connections

                connections.close_all()
    if checks.problems:
        print("RESULT: FAIL\n" + "\n".join(checks.problems))
        return 1
    print("RESULT: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
