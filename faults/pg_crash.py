"""Stop PostgreSQL abruptly (pg_ctl -m immediate) during a save, an import and an approval.

    python -m faults.pg_crash [--keep]

A throwaway PostgreSQL 15 cluster (initdb as the postgres user, 127.0.0.1 on a free port in
55432–55499), loaded from the seeded template with pg_dump | pg_restore, and the app under
gunicorn on it. Three times: start the work, crash the server, ask the app for a page, an API
list, a save and /healthz while it is down (each must be 503, never 500), start the server
again (crash recovery from the WAL), wait until the app answers again.

Afterwards (faults.invariants): every acknowledged save, submission, approval and import is in
the database with its history; the import is all or nothing; no approved figure changed
without a recorded reopening.

Imports of the apps sit inside functions on purpose: this runs as a plain script
(``python -m faults.…``) that sets Django up first (``faults.env.setup_django``); a model
imported at the top would load before the settings."""

from __future__ import annotations

import argparse
import random
import threading
import time

import requests

from faults import env


def probe_while_down(server, browser, api, cast, journal) -> list[str]:
    """What the app answers with the database gone: 503 everywhere, never 500."""
    problems: list[str] = []
    target, region = cast.pairs[0]
    checks = {
        "page": lambda: browser.get(f"{server.url}/reporting/my/", timeout=30),
        "report form POST": lambda: browser.post(
            f"{server.url}/reporting/{target}/{region}/{env.PERIOD}/",
            data={"value": "1", "save": ""},
            timeout=30,
        ),
        "API list": lambda: api.get(f"{server.url}/api/v1/reports/", timeout=30),
        "API save": lambda: api.post(
            f"{server.url}/api/v1/reports/",
            json={"target": target, "region": region, "period": env.PERIOD, "value": 1},
            timeout=30,
        ),
        "healthz": lambda: requests.get(f"{server.url}/healthz", timeout=30),
    }
    for name, call in checks.items():
        response = call()
        journal.answer(response.status_code)
        detail = response.text[:60].replace("\n", " ")
        env.say(f"  while down: {name} → {response.status_code} {detail}")
        if response.status_code != 503:
            problems.append(f"{name} answered {response.status_code} with the database down")
        elif name == "API list" and response.json().get("code") != "database_unavailable":
            problems.append(f"API list: code {response.json().get('code')}")
    return problems


def wait_until_answering(server, api, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if api.get(f"{server.url}/api/v1/reports/", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("the app did not recover after PostgreSQL restarted")


def crash_and_recover(cluster, server, browser, api, cast, journal, label: str) -> list[str]:
    cluster.crash()
    env.say(f"pg_ctl -m immediate during {label}")
    time.sleep(0.3)
    problems = probe_while_down(server, browser, api, cast, journal)
    cluster.start()
    wait_until_answering(server, api)
    env.say(f"PostgreSQL restarted after {label}; the app answers again")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="print the cluster's directory")
    args = parser.parse_args(argv)

    template = env.template_database()
    problems: list[str] = []
    journal = env.Journal()
    with env.Cluster() as cluster:
        cluster.restore_from(template)
        env.say(f"throwaway cluster on port {cluster.port} ({cluster.dir}), seeded")
        env.setup_django(cluster.url)
        # Here, not at the top: Django is set up first (env.setup_django).
        from django.db import connections

        from core.models import Region
        from faults import invariants
        from planning.models import Plan

        cast = env.prepare_cast()
        connections.close_all()
        with env.Gunicorn(cluster.url, workers=2) as server:
            api = env.api(server.url, cast.tokens[cast.liaison])
            staff = env.api(server.url, cast.tokens[cast.staff])
            browser = env.browser_login(server.url, cast.liaison)

            # ---- during saves
            stop = threading.Event()

            def saver(index: int):
                session = env.api(server.url, cast.tokens[cast.liaison])
                rng = random.Random(index)
                while not stop.is_set():
                    pair = rng.choice(cast.pairs[10:])
                    env.save_once(session, journal, pair, rng.randint(1, 90))

            threads = [threading.Thread(target=saver, args=(i,), daemon=True) for i in range(3)]
            with env.running(threads):
                time.sleep(2)
                problems += crash_and_recover(cluster, server, browser, api, cast, journal, "saves")
                time.sleep(1)
                stop.set()
            env.say(f"saves: {len(journal.acks)} acknowledged, {journal.lost} cut")

            # ---- during an import commit
            importer = env.browser_login(server.url, cast.importer)
            plan = Plan.objects.get(code=env.IMPORT_PLAN)
            region = Region.objects.get(name=env.IMPORT_REGION)
            upload = env.prepare_import(importer, plan.pk, region.pk, 42)
            outcome: dict = {}
            committer = threading.Thread(
                target=lambda: outcome.update(r=env.commit_import(importer, journal, upload))
            )
            committer.start()
            time.sleep(0.05)
            problems += crash_and_recover(cluster, server, browser, api, cast, journal, "import")
            committer.join(60)
            connections.close_all()
            # Here, not at the top: Django is set up first (env.setup_django).
            from targets.models import ProgressReport

            values = set(
                ProgressReport.objects.filter(
                    target__plan=plan, region=region, period=env.IMPORT_PERIOD
                ).values_list("value", flat=True)
            )
            count = len(upload.values)
            written = ProgressReport.objects.filter(
                target__plan=plan, region=region, period=env.IMPORT_PERIOD
            ).count()
            env.say(f"import → {outcome.get('r')}: {written} of {count} rows, values {values}")
            if written not in (0, count) or (written and {int(v) for v in values} != {42}):
                problems.append(f"import partially applied: {written} of {count} rows")

            # ---- during approvals
            for pair in cast.pairs[:10]:
                env.save_once(api, journal, pair, random.randint(1, 90), submit=True)
            submitted = staff.get(
                f"{server.url}/api/v1/reports/",
                params={"status": "submitted", "page_size": 100},
                timeout=30,
            ).json()["results"]
            env.say(f"approving {len(submitted)} submitted figures")

            def approver():
                for report in submitted:
                    env.approve_once(staff, journal, report)

            thread = threading.Thread(target=approver)
            thread.start()
            time.sleep(0.3)
            problems += crash_and_recover(cluster, server, browser, api, cast, journal, "approvals")
            thread.join(120)
            approved = sum(1 for a in journal.acks if a.kind == "approve")
            env.say(f"approvals: {approved} acknowledged of {len(submitted)}")

        connections.close_all()
        results = invariants.check_all(journal.acks)
        results["no 500 answers"] = journal.failures + [
            f"{n}× status {s}" for s, n in journal.statuses.items() if s >= 500 and s != 503
        ]
        results["503 while PostgreSQL is down; all or nothing"] = problems
        env.say(f"answers: {dict(sorted(journal.statuses.items()))}; {journal.lost} cut")
        print("invariants:")
        ok = invariants.report(results)
        connections.close_all()
        if args.keep:
            print(f"cluster kept in {cluster.dir} until this process ends")
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
