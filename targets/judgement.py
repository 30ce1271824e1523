"""Judge once, read many (issue 19): the status engine's answers, stored and read again.

``judge(asks)`` answers "where does this target (or this allocation) stand on this date" for
many at once: from the stored judgement (``TargetJudgement``) where one is current, else by the
engine (``targets.status.compute_status`` stays the one place that judges), storing what it
judged. Pages, the charts and the API summaries read through ``targets.rollups.StatusBoard``,
which asks here.

When a stored judgement is current — all of:

* the clocks it was judged under still hold (``targets/judgement_store.py``: PostgreSQL
  triggers tick them in the same transaction as every approval, reopening, return, adjustment,
  milestone or allocation edit, retirement, plan edit …), so no change since can have moved it;
* it was judged for the date asked. Pace (序时进度) depends on the date, so the judgement of
  "today" is stored for today only: the first read of a new day judges again what it reads, in
  one pass per page (one query for the inputs of all the stale targets, as before this store),
  and the reads after it are from the store. A daily ``manage.py rebuild_status`` (cron,
  after midnight) judges everything ahead so that no reader pays for it; it is not required.
  Year ends before today (the charts' series of each year's completion) are stored too; any
  other date (an API ``?on=``) is judged and not stored;
* the tolerances (``settings.STATUS_RULES``) and the engine (``targets/status.py``, by its
  source's hash: a deployment that changes it) are the ones it was judged with.

Why lazily on read rather than recomputing in the services: the triggers see every write,
whatever door it came through (services, admin, imports, bulk updates, a data fix), and the
day boundary needs a read-side check anyway. Writes stay as cheap as before (a few clock rows
per approval); a reader judges only what changed and what it shows.

Storing is best effort: it runs in a savepoint, and a failure (a read-only replica, a
conflict with a concurrent reader) only means the next read judges again — the page still
shows what was just judged. ``rebuild_status --check`` compares every
stored current judgement with the engine's.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from targets import rollup_store, status
from targets.judgement_store import CLOCK, JUDGEMENT, WHOLE_TARGET
from targets.models import Allocation, Target, TargetAdjustment
from targets.status import (
    LIGHTS,
    MissingValue,
    StatusInputs,
    StatusRules,
    TargetProgress,
    compute_status,
    load_status_inputs,
    year_end,
)

logger = logging.getLogger(__name__)
_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Ask:
    """One judgement wanted: a target at its own region (``share`` None), or its allocation
    to ``region_id`` with that allocation's value as the goal (``compute_allocations``)."""

    target: Target
    on: datetime.date
    region_id: int | None = None
    share: Decimal | None = None

    @property
    def is_allocation(self) -> bool:
        return self.region_id is not None

    @property
    def key(self) -> tuple[int, int, bool, datetime.date]:
        region_id = self.region_id if self.is_allocation else self.target.region_id
        return (self.target.pk, region_id, self.is_allocation, self.on)

    def compute(self, inputs: StatusInputs, rules: StatusRules) -> TargetProgress:
        return compute_status(
            self.target,
            inputs,
            on=self.on,
            rules=rules,
            region_id=self.region_id,
            target_value=self.share,
        )


# The engine's own source: a deployment that changes how targets are judged makes every
# stored judgement not current (judged again on first read), with no migration to remember.
ENGINE = hashlib.sha256(Path(status.__file__).read_bytes()).hexdigest()[:12]


def rules_key(rules: StatusRules) -> str:
    """The tolerances and the engine a judgement was made with (``TargetJudgement.rules``)."""
    tolerances = f"{rules.lagging_below}|{rules.critical_below}|{rules.base_figure_max_age_years}"
    return f"{tolerances}|{ENGINE}"


def storable(on: datetime.date, today: datetime.date | None = None) -> bool:
    """Today, or a year end before it (see the module docstring)."""
    today = today or timezone.localdate()
    return on == today or (on < today and on == year_end(on.year))


def supported() -> bool:
    return rollup_store.supported()


InputsLoader = Callable[[list[Target], set[int]], StatusInputs]


def _load(targets: list[Target], regions: set[int]) -> StatusInputs:
    return load_status_inputs(targets, regions=regions, allocation_regions=())


def judge(
    asks: Iterable[Ask],
    *,
    rules: StatusRules | None = None,
    inputs: StatusInputs | InputsLoader | None = None,
    store: bool = True,
) -> dict[tuple, TargetProgress]:
    """Each ask's judgement, by ``Ask.key``. Reads the store in one query; judges the rest
    with ``inputs`` (already loaded, or a loader called once with the targets and the
    allocations' regions to judge) and stores them (``store``) in one more statement."""
    rules = rules or StatusRules.from_settings()
    asks = list({ask.key: ask for ask in asks}.values())
    if not asks:
        return {}
    use_store = store and supported()
    found: dict[tuple, TargetProgress] = {}
    clocks: dict[tuple, tuple[int, int]] = {}
    today = timezone.localdate()
    if use_store and any(storable(ask.on, today) for ask in asks):
        found, clocks = _read(asks, rules)
    stale = [ask for ask in asks if ask.key not in found]
    if stale:
        if not isinstance(inputs, StatusInputs):
            loader = inputs or _load
            targets = list({ask.target.pk: ask.target for ask in stale}.values())
            regions = {ask.region_id for ask in stale if ask.is_allocation}
            inputs = loader(targets, regions)
        judged = {ask.key: ask.compute(inputs, rules) for ask in stale}
        found.update(judged)
        keep = [ask for ask in stale if storable(ask.on, today)]
        if use_store and keep:
            _store(keep, judged, clocks, rules, today)
    return found


def _read(
    asks: list[Ask], rules: StatusRules
) -> tuple[dict[tuple, TargetProgress], dict[tuple, tuple[int, int]]]:
    """The current stored judgements of ``asks``, and every ask's clocks (read first: a
    judgement stored with them is never newer than its inputs)."""
    keys = [ask.key for ask in asks]
    columns = list(zip(*keys, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT w.target_id, w.region_id, w.allocation, w.as_of,
                   coalesce(cp.version, 0), coalesce(ct.version, 0),
                   CASE WHEN j.pair_version = coalesce(cp.version, 0)
                         AND j.target_version = coalesce(ct.version, 0)
                         AND j.rules = %s THEN j.progress::text END
              FROM unnest(%s::integer[], %s::integer[], %s::boolean[], %s::date[])
                   AS w(target_id, region_id, allocation, as_of)
              LEFT JOIN {CLOCK} cp ON cp.target_id = w.target_id AND cp.region_id = w.region_id
              LEFT JOIN {CLOCK} ct ON ct.target_id = w.target_id AND ct.region_id = %s
              LEFT JOIN {JUDGEMENT} j ON j.target_id = w.target_id AND j.region_id = w.region_id
                   AND j.allocation = w.allocation AND j.as_of = w.as_of
            """,
            [rules_key(rules), *map(list, columns), WHOLE_TARGET],
        )
        rows = cursor.fetchall()
    found, clocks = {}, {}
    for target_id, region_id, allocation, as_of, pair, whole, progress in rows:
        key = (target_id, region_id, allocation, as_of)
        clocks[key] = (pair, whole)
        if progress is not None:
            found[key] = progress_from_json(json.loads(progress))
    return found, clocks


def _store(
    asks: list[Ask],
    judged: dict[tuple, TargetProgress],
    clocks: dict[tuple, tuple[int, int]],
    rules: StatusRules,
    today: datetime.date,
) -> None:
    rows = sorted(
        (
            *ask.key,
            *clocks.get(ask.key, (0, 0)),
            judged[ask.key],
        )
        for ask in asks
    )
    columns = [
        [row[0] for row in rows],
        [row[1] for row in rows],
        [row[2] for row in rows],
        [row[3] for row in rows],
        [row[4] for row in rows],
        [row[5] for row in rows],
        [row[6].status for row in rows],
        [LIGHTS[row[6].status] for row in rows],
        [row[6].escalate for row in rows],
        *(
            [_quantized(getattr(row[6], name)) for row in rows]
            for name in ("actual", "expected", "completion", "projection")
        ),
        [json.dumps(progress_to_json(row[6]), ensure_ascii=False) for row in rows],
    ]
    # Rows in key order: two readers storing overlapping rows lock them in the same order.
    # Yesterday's "today" goes in the same statement: only today's and the year ends stay.
    purge = sorted({row[0] for row in rows}) if any(row[3] == today for row in rows) else []
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH purged AS (
                    DELETE FROM {JUDGEMENT} old
                     WHERE old.target_id = ANY(%s::integer[]) AND old.as_of < %s
                       AND (extract(month FROM old.as_of), extract(day FROM old.as_of))
                           <> (12, 31)
                )
                INSERT INTO {JUDGEMENT} AS j (target_id, region_id, allocation, as_of,
                       pair_version, target_version, rules, status, light, escalate,
                       actual, expected, completion, projection, progress, judged_at)
                SELECT u.target_id, u.region_id, u.allocation, u.as_of, u.pair_version,
                       u.target_version, %s, u.status, u.light, u.escalate, u.actual,
                       u.expected, u.completion, u.projection, u.progress::jsonb, now()
                  FROM unnest(%s::integer[], %s::integer[], %s::boolean[], %s::date[],
                              %s::bigint[], %s::bigint[], %s::text[], %s::text[],
                              %s::boolean[], %s::numeric[], %s::numeric[], %s::numeric[],
                              %s::numeric[], %s::text[])
                       AS u(target_id, region_id, allocation, as_of, pair_version,
                            target_version, status, light, escalate, actual, expected,
                            completion, projection, progress)
                ON CONFLICT (target_id, region_id, allocation, as_of) DO UPDATE SET
                       pair_version = excluded.pair_version,
                       target_version = excluded.target_version, rules = excluded.rules,
                       status = excluded.status, light = excluded.light,
                       escalate = excluded.escalate, actual = excluded.actual,
                       expected = excluded.expected, completion = excluded.completion,
                       projection = excluded.projection, progress = excluded.progress,
                       judged_at = excluded.judged_at
                """,
                [purge, today, rules_key(rules), *columns],
            )
    except DatabaseError:
        logger.warning("stored judgement not written (%s rows); judged again next read", len(rows))


def _quantized(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    return value.quantize(_PLACES)


# --------------------------------------------------------------------- (de)serialising

_DECIMALS = {
    "target_value",
    "actual",
    "level",
    "increment",
    "expected",
    "completion",
    "margin",
    "projection",
    "original_value",
}


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def progress_to_json(progress: TargetProgress) -> dict:
    """Everything in a ``TargetProgress``, exactly (decimals as text)."""
    data = {}
    for item in fields(TargetProgress):
        value = getattr(progress, item.name)
        if item.name in _DECIMALS:
            value = None if value is None else str(value)
        elif item.name == "on":
            value = value.isoformat()
        elif item.name == "series":
            value = [[label, str(amount)] for label, amount in value]
        elif item.name == "missing_inputs":
            value = [[m.kind, m.name, m.year, m.region_id] for m in value]
        elif item.name == "adjustment" and value is not None:
            value = {
                "pk": value.pk,
                "target_id": value.target_id,
                "new_value": None if value.new_value is None else str(value.new_value),
                "new_year": value.new_year,
                "doc_number": value.doc_number,
                "adopted_on": value.adopted_on.isoformat(),
            }
        data[item.name] = value
    return data


def progress_from_json(data: dict) -> TargetProgress:
    values = dict(data)
    for name in _DECIMALS:
        values[name] = _decimal(values[name])
    values["on"] = datetime.date.fromisoformat(values["on"])
    values["series"] = [(label, Decimal(amount)) for label, amount in values["series"]]
    values["missing_inputs"] = [MissingValue(*item) for item in values["missing_inputs"]]
    adjustment = values["adjustment"]
    if adjustment is not None:
        values["adjustment"] = TargetAdjustment(
            pk=adjustment["pk"],
            target_id=adjustment["target_id"],
            new_value=_decimal(adjustment["new_value"]),
            new_year=adjustment["new_year"],
            doc_number=adjustment["doc_number"],
            adopted_on=datetime.date.fromisoformat(adjustment["adopted_on"]),
        )
    return TargetProgress(**values)


# ----------------------------------------------------------------- rebuild and check

REBUILD_CHUNK = 20  # targets per pass: their allocations' inputs are read at once


def _chunks(target_ids: Iterable[int] | None) -> Iterable[list[Target]]:
    """Live targets, a chunk at a time."""
    targets = Target.objects.filter(retired_on__isnull=True).select_related("plan")
    if target_ids is not None:
        targets = targets.filter(pk__in=list(target_ids))
    targets = list(targets.order_by("pk"))
    for start in range(0, len(targets), REBUILD_CHUNK):
        chunk = targets[start : start + REBUILD_CHUNK]
        yield chunk


def _asks(chunk: list[Target], on: datetime.date) -> list[Ask]:
    by_id = {t.pk: t for t in chunk}
    allocations = Allocation.objects.filter(target_id__in=list(by_id), retired_on__isnull=True)
    return [Ask(t, on) for t in chunk] + [
        Ask(by_id[a.target_id], on, a.region_id, a.value) for a in allocations.order_by("pk")
    ]


def rebuild(
    target_ids: Iterable[int] | None = None,
    *,
    on: datetime.date | None = None,
    rules: StatusRules | None = None,
) -> int:
    """Judge every live target and allocation (or those of ``target_ids``) for ``on`` (today)
    and store it, whatever is stored; the number of judgements stored. Run daily after
    midnight so that no reader judges, or after restoring a backup."""
    on = on or timezone.localdate()
    rules = rules or StatusRules.from_settings()
    count = 0
    for chunk in _chunks(target_ids):
        asks = _asks(chunk, on)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {JUDGEMENT} WHERE target_id = ANY(%s) AND as_of = %s",
                [[t.pk for t in chunk], on],
            )
        count += len(judge(asks, rules=rules))
    return count


def differences(
    target_ids: Iterable[int] | None = None,
    *,
    on: datetime.date | None = None,
    rules: StatusRules | None = None,
    limit: int = 1000,
) -> list[dict]:
    """Every stored judgement counted as current for ``on`` (today) that the engine, judging
    now from the inputs, would not give exactly: ``rebuild_status --check``."""
    on = on or timezone.localdate()
    rules = rules or StatusRules.from_settings()
    found: list[dict] = []
    for chunk in _chunks(target_ids):
        asks = _asks(chunk, on)
        stored, _clocks = _read(asks, rules)
        if not stored:
            continue
        inputs = load_status_inputs(chunk, allocation_regions=None)
        for ask in asks:
            if ask.key not in stored:
                continue
            want = progress_to_json(ask.compute(inputs, rules))
            have = progress_to_json(stored[ask.key])
            if want != have:
                changed = sorted(name for name in want if want[name] != have.get(name))
                found.append(
                    {
                        "target": ask.key[0],
                        "region": ask.key[1],
                        "allocation": ask.key[2],
                        "on": on.isoformat(),
                        "fields": changed,
                    }
                )
                if len(found) >= limit:
                    return found
    return found


# Every clock of the plans' targets, summed and counted, and their targets: the sum grows
# with every tick (an upsert adds 1, a new clock row 1), a new or deleted target changes the
# count and the largest id. One index-backed query.
_CLOCKS_OF_PLANS = f"""
    SELECT (SELECT count(*) || ':' || coalesce(sum(c.version), 0) FROM {CLOCK} c
             WHERE c.target_id IN (SELECT t.id FROM targets_target t
                                    WHERE t.plan_id = ANY(%(plans)s))),
           (SELECT count(*) || ':' || coalesce(max(t.id), 0) FROM targets_target t
             WHERE t.plan_id = ANY(%(plans)s))"""


def clocks_of_plans(plan_ids: Iterable[int]) -> str:
    """A short text that changes whenever a judgement of the plans' targets (or their
    allocations) may change: any of their clocks ticked, a target added or deleted, other
    tolerances or another engine. What caches of rendered judgements key on
    (``reports/fragments.py``): a stale fragment is never read, its key is simply gone."""
    with connection.cursor() as cursor:
        cursor.execute(_CLOCKS_OF_PLANS, {"plans": sorted(set(plan_ids))})
        clocks, targets = cursor.fetchone()
    return f"{clocks}|{targets}|{rules_key(StatusRules.from_settings())}"
