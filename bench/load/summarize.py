"""Fold locust's --csv stats of each run into one JSON file (bench/load/run.sh)."""

import csv
import datetime
import json
import os
import platform
import sys
from pathlib import Path


def row_of(prefix: str, name: str) -> dict | None:
    """The endpoint's row, or None when no request completed within the run time."""
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == name:
                return row
    return None


def cpu_of(prefix: str, requests: int) -> dict:
    """The load average when the run began and the CPU time gunicorn (all its processes) and
    the PostgreSQL server spent per request (run.sh reads /proc around each run; the
    database's figure counts every PostgreSQL process, other users' too on a shared machine).
    """
    path = Path(f"{prefix}.cpu")
    if not path.exists() or not requests:
        return {}
    load, app, db, tick = path.read_text().split()
    per_request = 1000 / int(tick) / requests
    return {
        "load_average_1m_before": float(load),
        "server_cpu_ms_per_request": round(int(app) * per_request, 2),
        "postgres_cpu_ms_per_request": round(int(db) * per_request, 2),
    }


def main(out: str, scale: str, run_time: str, workers: str, *runs: str) -> None:
    result = {
        "scale": scale,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "server": f"gunicorn, {workers} sync workers, 127.0.0.1",
        "run_time": run_time,
        # The machine's load when the runs ended (locust itself shares the cores).
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "runs": [],
    }
    for run in runs:  # endpoint:users:csv-prefix
        endpoint, users, prefix = run.split(":", 2)
        row = row_of(prefix, endpoint)
        if row is None:
            result["runs"].append(
                {"endpoint": endpoint, "users": int(users), "requests": 0, "failures": 0,
                 "requests_per_s": 0.0, "p50_ms": None, "p95_ms": None, "p99_ms": None,
                 "note": "no request completed within the run time"}
            )  # fmt: skip
            continue
        result["runs"].append(
            {
                "endpoint": endpoint,
                "users": int(users),
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "requests_per_s": round(float(row["Requests/s"]), 1),
                "p50_ms": float(row["50%"]),
                "p95_ms": float(row["95%"]),
                "p99_ms": float(row["99%"]),
                **cpu_of(prefix, int(row["Request Count"])),
            }
        )
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")
    for run in result["runs"]:
        if not run["requests"]:
            print(f"{run['endpoint']:9} -u {run['users']:2}: {run['note']}")
            continue
        print(
            f"{run['endpoint']:9} -u {run['users']:2}: {run['requests_per_s']:7.1f} req/s  "
            f"p50 {run['p50_ms']:.0f} ms  p95 {run['p95_ms']:.0f} ms  p99 {run['p99_ms']:.0f} ms  "
            f"({run['requests']} requests, {run['failures']} failed)  "
            f"CPU/request: gunicorn {run.get('server_cpu_ms_per_request')} ms, "
            f"PostgreSQL {run.get('postgres_cpu_ms_per_request')} ms"
        )
    print(f"written {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
