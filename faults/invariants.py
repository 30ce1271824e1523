"""What must hold after any fault (issue 10), checked against the database through the ORM.

- every progress report has a history row for each of its versions (1 … version, no gap),
  and the newest history row says what the row says (value, status): every change has its
  history, written in the same transaction;
- no approved figure changed without a recorded reopening: between a 审核通过 history row and
  the next 重新打开 row the value stays the same, and an approved report's value is the value
  it was approved with;
- imports are all or nothing: a committed batch is linked (through its stored workbook) to as
  many reports as it says it wrote, and a batch that was not committed left its workbook on
  no report;
- every write the server acknowledged (a journal of ``faults.env.Ack``) is in the database
  with its history row.

``python -m faults.invariants`` checks the database named by DATABASE_URL.

Imports of the apps sit inside functions on purpose: this runs as a plain script
(``python -m faults.…``) that sets Django up first (``faults.env.setup_django``); a model
imported at the top would load before the settings."""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).normalize()


def check_history() -> list[str]:
    # Here, not at the top: Django is set up first (env.setup_django).
    from targets.models import ProgressReport

    problems: list[str] = []
    versions: dict[int, list] = defaultdict(list)
    for row in ProgressReport.history.order_by("id", "history_date", "history_id").values(
        "id", "version", "value", "status", "history_change_reason", "history_type"
    ):
        versions[row["id"]].append(row)
    for report in ProgressReport.objects.values("id", "version", "value", "status"):
        rows = versions.get(report["id"], [])
        seen = sorted({r["version"] for r in rows})
        if seen != list(range(1, report["version"] + 1)):
            problems.append(
                f"report {report['id']} is at version {report['version']} "
                f"but has history for versions {seen}"
            )
            continue
        last = max(rows, key=lambda r: r["version"])
        if (_decimal(last["value"]), last["status"]) != (
            _decimal(report["value"]),
            report["status"],
        ):
            problems.append(
                f"report {report['id']}: history says {last['value']}/{last['status']}, "
                f"row says {report['value']}/{report['status']}"
            )
    return problems


def check_approvals() -> list[str]:
    # Here, not at the top: Django is set up first (env.setup_django).
    from targets.models import ProgressReport

    problems: list[str] = []
    approved_value: dict[int, Decimal | None] = {}
    rows = ProgressReport.history.order_by("id", "version", "history_id").values(
        "id", "version", "value", "history_change_reason", "status"
    )
    for row in rows:
        report, value, reason = row["id"], _decimal(row["value"]), row["history_change_reason"]
        if reason == "审核通过":
            approved_value[report] = value
        elif reason == "重新打开":
            approved_value.pop(report, None)
        elif report in approved_value and value != approved_value[report]:
            problems.append(
                f"report {report} v{row['version']}: approved value {approved_value[report]} "
                f"changed to {value} without a recorded reopening"
            )
    final = dict(ProgressReport.objects.filter(status="approved").values_list("id", "value"))
    for report, value in final.items():
        if report not in approved_value:
            problems.append(f"report {report} is approved but no approval is recorded")
        elif _decimal(value) != approved_value[report]:
            problems.append(f"report {report}: approved with {approved_value[report]}, now {value}")
    return problems


def check_imports() -> list[str]:
    # Here, not at the top: Django is set up first (env.setup_django).
    from reports.models import ImportBatch, ImportState
    from targets.models import ProgressReport

    problems: list[str] = []
    link = ProgressReport.evidence.through
    committed_files = set(
        ImportBatch.objects.filter(state=ImportState.COMMITTED).values_list("sha256", flat=True)
    )
    for batch in ImportBatch.objects.select_related("evidence"):
        written = int(batch.summary.get("written", 0) or 0)
        if batch.state == ImportState.COMMITTED:
            if written and batch.evidence_id is None:
                problems.append(f"import {batch.pk} committed {written} rows but kept no file")
                continue
            linked = (
                link.objects.filter(
                    evidence_id=batch.evidence_id,
                    progressreport__region_id=batch.region_id,
                    progressreport__period=batch.period,
                    progressreport__target__plan_id=batch.plan_id,
                ).count()
                if written
                else 0
            )
            if linked < written:
                problems.append(
                    f"import {batch.pk} says it wrote {written} rows; {linked} carry its file"
                )
        elif batch.sha256 not in committed_files:
            stray = link.objects.filter(evidence__sha256=batch.sha256).count()
            if stray or batch.evidence_id is not None or batch.committed_at is not None:
                problems.append(
                    f"import {batch.pk} was not committed but left traces "
                    f"({stray} reports carry its file)"
                )
    return problems


def check_acknowledged(acks: Iterable) -> list[str]:
    """Every acknowledged write is in the database: the report has reached at least that
    version, and the history row of that version holds the acknowledged value and status."""
    # Here, not at the top: Django is set up first (env.setup_django).
    from reports.models import ImportBatch, ImportState
    from targets.models import ProgressReport

    problems: list[str] = []
    acks = list(acks)
    ids = {a.report_id for a in acks if a.report_id}
    versions = dict(ProgressReport.objects.filter(pk__in=ids).values_list("id", "version"))
    history = {
        (r["id"], r["version"]): r
        for r in ProgressReport.history.filter(id__in=ids).values(
            "id", "version", "value", "status"
        )
    }
    for ack in acks:
        if ack.kind == "import":
            state = ImportBatch.objects.filter(pk=ack.batch_id).values_list("state", flat=True)
            if list(state) != [ImportState.COMMITTED]:
                problems.append(f"import {ack.batch_id} was acknowledged but is not committed")
            continue
        if ack.report_id not in versions:
            problems.append(f"{ack.kind} of report {ack.report_id} acknowledged; report missing")
            continue
        if versions[ack.report_id] < ack.version:
            problems.append(
                f"{ack.kind} of report {ack.report_id} v{ack.version} acknowledged; "
                f"database has v{versions[ack.report_id]}"
            )
            continue
        row = history.get((ack.report_id, ack.version))
        if row is None:
            problems.append(f"{ack.kind} of report {ack.report_id} v{ack.version}: no history")
        elif (_decimal(row["value"]), row["status"]) != (_decimal(ack.value), ack.status):
            problems.append(
                f"{ack.kind} of report {ack.report_id} v{ack.version}: acknowledged "
                f"{ack.value}/{ack.status}, history has {row['value']}/{row['status']}"
            )
    return problems


def check_all(acks: Iterable = ()) -> dict[str, list[str]]:
    return {
        "history for every version": check_history(),
        "approved figures unchanged unless reopened": check_approvals(),
        "imports all or nothing": check_imports(),
        "acknowledged writes present": check_acknowledged(acks),
    }


def report(results: dict[str, list[str]], *, out=sys.stdout) -> bool:
    ok = True
    for name, problems in results.items():
        print(f"  {'OK  ' if not problems else 'FAIL'} {name}", file=out)
        for problem in problems[:20]:
            print(f"       - {problem}", file=out)
        if len(problems) > 20:
            print(f"       … and {len(problems) - 20} more", file=out)
        ok = ok and not problems
    return ok


def main() -> int:
    import os

    from faults.env import DEFAULT_URL, setup_django

    setup_django(os.environ.get("DATABASE_URL", DEFAULT_URL))
    print("invariants:")
    return 0 if report(check_all()) else 1


if __name__ == "__main__":
    sys.exit(main())
