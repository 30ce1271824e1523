"""kill -9 a gunicorn worker while clients save reports and while an Excel import commits.

    python -m faults.kill_worker [--seconds 8] [--keep]

A throwaway database copied from the seeded template (faults.env) on the server named by
DATABASE_URL; gunicorn with two sync workers on 127.0.0.1. Four API clients save and submit
figures of 南阳 (每条 a GET, a PATCH or POST, sometimes a submit) while a worker is killed
every second; the master starts a new one. Then an Excel import of 南京市's figures is
confirmed and every worker is killed as soon as pg_stat_activity shows the commit's
transaction open, until that has happened twice.

Afterwards (faults.invariants): every answer 2xx is in the database with its history row; the
only failures are cut connections (never a 500); each import is all or nothing — its rows
all carry the new value or all still carry the previous one.

Imports of the apps sit inside functions on purpose: this runs as a plain script
(``python -m faults.…``) that sets Django up first (``faults.env.setup_django``); a model
imported at the top would load before the settings."""

from __future__ import annotations

import argparse
import random
import threading
import time
from urllib.parse import urlsplit

from faults import env


def saving_clients(server, cast, journal, stop: threading.Event, clients: int = 4):
    def work(index: int):
        session = env.api(server.url, cast.tokens[cast.liaison])
        rng = random.Random(index)
        while not stop.is_set():
            pair = rng.choice(cast.pairs)
            env.save_once(session, journal, pair, rng.randint(1, 90), submit=rng.random() < 0.2)

    return [threading.Thread(target=work, args=(i,), daemon=True) for i in range(clients)]


def wait_for_transaction(watch, seconds: float) -> bool:
    """Until a request of the app is inside a multi-statement transaction (begun before its
    current statement, or idle in it): the import's commit, the only writer now."""
    deadline = time.monotonic() + seconds
    with watch.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
                " AND (state = 'idle in transaction' OR xact_start < query_start)"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.002)
    return False


def import_state(plan_code: str, region_name: str) -> tuple[int, set]:
    # Here, not at the top: Django is set up first (env.setup_django).
    from targets.models import ProgressReport

    rows = ProgressReport.objects.filter(
        target__plan__code=plan_code, region__name=region_name, period=env.IMPORT_PERIOD
    )
    return rows.count(), {str(v.normalize()) for v in rows.values_list("value", flat=True)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8, help="how long to kill during saves")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)

    url = env.fresh_database("kill")
    env.setup_django(url)
    # Here, not at the top: Django is set up first (env.setup_django).
    from core.models import Region
    from faults import invariants
    from planning.models import Plan

    cast = env.prepare_cast()
    journal = env.Journal()
    problems: list[str] = []
    env.say(f"database {url}; {len(cast.pairs)} figures to save")
    with env.Gunicorn(url, workers=2) as server:
        env.say(f"gunicorn on {server.url}, workers {server.worker_pids()}")

        # ---- kill -9 during saves
        stop = threading.Event()
        threads = saving_clients(server, cast, journal, stop)
        kills = 0
        with env.running(threads):
            deadline = time.monotonic() + args.seconds
            time.sleep(1)
            while time.monotonic() < deadline:
                pids = server.worker_pids()
                if pids:
                    victim = server.kill_worker(random.choice(pids))
                    kills += 1
                    env.say(f"kill -9 worker {victim} during saves")
                time.sleep(1)
            stop.set()
        env.say(
            f"saves: {len(journal.acks)} acknowledged, {journal.lost} cut by the kills, "
            f"answers {dict(sorted(journal.statuses.items()))}"
        )
        server.wait_ready()

        # ---- kill -9 during an Excel import commit
        browser = env.browser_login(server.url, cast.importer)
        watch = env.connect(url, urlsplit(url).path.lstrip("/"))
        plan = Plan.objects.get(code=env.IMPORT_PLAN)
        region = Region.objects.get(name=env.IMPORT_REGION)
        landed = 0
        attempts = 0
        delays = [0.02, 0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7]
        for attempt, delay in enumerate(delays):
            before = import_state(env.IMPORT_PLAN, env.IMPORT_REGION)
            upload = env.prepare_import(browser, plan.pk, region.pk, 10 + attempt)
            outcome: dict = {}
            committer = threading.Thread(
                target=lambda u=upload, b=browser, o=outcome: o.update(
                    r=env.commit_import(b, journal, u)
                )
            )
            committer.start()
            in_transaction = wait_for_transaction(watch, delay * 20)
            for pid in server.worker_pids():
                server.kill_worker(pid)
            committer.join(120)
            attempts += 1
            after = import_state(env.IMPORT_PLAN, env.IMPORT_REGION)
            rows = len(upload.values)
            whole = after == before or after == (rows, {str(10 + attempt)})
            when = "inside its transaction" if in_transaction else f"{delay * 20:.1f}s after"
            env.say(
                f"import {upload.batch_id}: kill -9 all workers {when} → "
                f"{outcome.get('r')}; reports {before} → {after} "
                f"({'all or nothing' if whole else 'PARTIAL'})"
            )
            if not whole:
                problems.append(f"import {upload.batch_id} partially applied: {after}")
            if outcome.get("r") == "committed" and after != (rows, {str(10 + attempt)}):
                problems.append(f"import {upload.batch_id} acknowledged but not applied")
            server.wait_ready()
            browser = env.browser_login(server.url, cast.importer)
            if outcome.get("r") == "cut" and in_transaction:
                landed += 1
                if landed >= 2:
                    break
        if not landed:
            problems.append(f"no kill landed during an import commit in {attempts} attempts")

    watch.close()
    env.say(f"{kills} workers killed during saves; {landed} kills landed in an import commit")
    results = invariants.check_all(journal.acks)
    results["no 500 answers"] = journal.failures
    results["fault script"] = problems
    print("invariants:")
    ok = invariants.report(results)
    if not args.keep:
        from django.db import connections

        connections.close_all()
        env.drop_database(url)
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
