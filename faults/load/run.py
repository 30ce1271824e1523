"""A bounded load run: mixed reading and reporting traffic against gunicorn on 127.0.0.1,
then the invariants (faults.invariants). Passes with 0 failed requests and every invariant
true.

    bash faults/load/run.sh [--time 3m] [--users 14] [--workers 3]

A throwaway database copied from the seeded template (faults.env), one staff user, a token
reader and --liaisons liaisons of 南阳市, each with its own share of the city's figures.

Imports of the apps sit inside functions on purpose: this runs as a plain script
(``python -m faults.…``) that sets Django up first (``faults.env.setup_django``); a model
imported at the top would load before the settings."""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from faults import env

HERE = Path(__file__).resolve().parent


def prepare(liaisons: int) -> dict:
    # Here, not at the top: Django is set up first (env.setup_django).
    from django.contrib.auth.models import User

    from accounts.models import Profile
    from core.models import Region
    from planning.models import Plan

    cast = env.prepare_cast()
    region = Region.objects.get(name=env.SAVE_REGION)
    users = []
    for index in range(liaisons):
        user, _ = User.objects.get_or_create(username=f"load_liaison_{index}")
        user.set_password(env.PASSWORD)
        user.save()
        Profile.objects.update_or_create(user=user, defaults={"role": "liaison", "region": region})
        users.append({"username": user.username, "pairs": cast.pairs[index::liaisons]})
    plan = Plan.objects.get(code=env.SAVE_PLAN)
    reader = User.objects.get(username=cast.staff)
    return {
        "password": env.PASSWORD,
        "period": env.PERIOD,
        "liaisons": users,
        "staff": cast.staff,
        "staff_token": cast.tokens[cast.staff],
        "reader_token": cast.tokens[reader.username],
        "plan_id": plan.pk,
        "target_ids": sorted({t for t, _ in cast.pairs}),
    }


def summary(csv_prefix: Path) -> dict:
    with open(f"{csv_prefix}_stats.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    return {
        "requests": int(total["Request Count"]),
        "failures": int(total["Failure Count"]),
        "rps": float(total["Requests/s"]),
        "median_ms": float(total["Median Response Time"]),
        "p95_ms": float(total["95%"]),
        "p99_ms": float(total["99%"]),
        "by_name": {
            r["Name"]: (int(r["Request Count"]), int(r["Failure Count"]), float(r["95%"]))
            for r in rows
            if r["Name"] != "Aggregated"
        },
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time", default="3m", help="locust --run-time (default 3m)")
    parser.add_argument("--users", type=int, default=14, help="simulated users")
    parser.add_argument("--liaisons", type=int, default=8, help="liaison accounts")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    args = parser.parse_args(argv)

    url = env.fresh_database("load")
    env.setup_django(url)
    from django.db import connections

    from faults import invariants

    config = prepare(args.liaisons)
    connections.close_all()
    work = Path(tempfile.mkdtemp(prefix="fireplan-load-"))
    (work / "config.json").write_text(json.dumps(config))
    with env.Gunicorn(url, workers=args.workers) as server:
        env.say(f"gunicorn ({args.workers} workers) on {server.url}; locust {args.time}")
        locust = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless",
             "--users", str(args.users), "--spawn-rate", "4", "--run-time", args.time,
             "--host", server.url, "--csv", str(work / "run"), "--only-summary",
             "--stop-timeout", "10"],
            env={**env.app_env(url), "FAULTS_LOAD_CONFIG": str(work / "config.json")},
            capture_output=True, text=True,
        )  # fmt: skip
    figures = summary(work / "run")
    env.say(
        f"{figures['requests']} requests, {figures['failures']} failed, "
        f"{figures['rps']:.1f} req/s, median {figures['median_ms']:.0f} ms, "
        f"p95 {figures['p95_ms']:.0f} ms, p99 {figures['p99_ms']:.0f} ms"
    )
    for name, (count, failed, p95) in sorted(figures["by_name"].items()):
        print(f"    {name:<28} {count:>6} requests {failed:>4} failed  p95 {p95:>6.0f} ms")
    if figures["failures"]:
        print(locust.stderr[-4000:])
    results = invariants.check_all()
    results["0 failed requests"] = (
        [f"{figures['failures']} of {figures['requests']} requests failed"]
        if figures["failures"]
        else []
    )
    # Here, not at the top: Django is set up first (env.setup_django).
    from targets.models import ProgressReport

    counts = {
        status: ProgressReport.objects.filter(status=status).count()
        for status in ("draft", "submitted", "approved", "returned")
    }
    env.say(f"reports at the end: {counts}; history rows {ProgressReport.history.count()}")
    print("invariants:")
    ok = invariants.report(results)
    connections.close_all()
    env.drop_database(url)
    (work / "summary.json").write_text(json.dumps(figures | {"reports": counts}, indent=1))
    print(f"figures in {work / 'summary.json'}")
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
