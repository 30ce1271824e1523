"""Is a replica fit to read from: it answers, and it is at most ``REPLICA_MAX_LAG_SECONDS``
behind the primary. Reads fall back to the primary otherwise (``core.db_router``).

Each process asks each replica at most once every ``REPLICA_CHECK_SECONDS`` (one short query;
the answer is kept in this process's memory, so every gunicorn worker asks on its own). In
between, the replica chosen for a request must still connect — Django's connection health
check (``CONN_HEALTH_CHECKS``) runs first — so a replica that has just stopped costs no page.

The lag, in seconds:
- 0 on a server that is not in recovery (a promoted replica, or the primary itself named as
  a replica): it has all of its own rows;
- 0 when the WAL receiver is running and everything received is replayed (an idle primary
  sends nothing, so the last replayed transaction may be old without any lag; just after a
  restart the receiver starts at the beginning of the WAL segment, behind the replay);
- else the age of the last replayed transaction, ``pg_last_xact_replay_timestamp()``: replay
  is behind, paused, or the receiver is cut off from the primary — then that age is the
  honest upper bound, and past the limit the primary answers.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, InterfaceError, connections

log = logging.getLogger("core.replica_health")
# What a replica that stopped, restarted or cannot be reached raises (InterfaceError: a
# connection that was closed under us; it is not a DatabaseError in Django's tree).
UNREACHABLE = (DatabaseError, InterfaceError)

LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn()
        AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN 0
    ELSE COALESCE(
        EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8,
        'Infinity'::float8)
END
"""


@dataclass(frozen=True)
class Seen:
    checked_at: float  # time.monotonic()
    lag: float | None  # seconds behind; None: did not answer

    @property
    def usable(self) -> bool:
        return self.lag is not None and self.lag <= settings.REPLICA_MAX_LAG_SECONDS

    def describe(self) -> str:
        if self.lag is None:
            return "down"
        return "ok" if self.usable else "lagging"


_seen: dict[str, Seen] = {}


def measure_lag(alias: str) -> float | None:
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute(LAG_SQL)
            return float(cursor.fetchone()[0])
    except UNREACHABLE as error:
        log.warning("replica %s did not answer: %s", alias, str(error).strip())
        connection.close()
        return None


def seen(alias: str) -> Seen:
    """The last word on ``alias``, asked again when older than REPLICA_CHECK_SECONDS."""
    now = time.monotonic()
    last = _seen.get(alias)
    if last is not None and now - last.checked_at < settings.REPLICA_CHECK_SECONDS:
        return last
    fresh = Seen(now, measure_lag(alias))
    if last is None or last.describe() != fresh.describe():
        level = logging.INFO if fresh.usable else logging.WARNING
        log.log(
            level,
            "replica %s: %s (lag %s s, limit %s s)%s",
            alias,
            fresh.describe(),
            "-" if fresh.lag is None else f"{fresh.lag:.1f}",
            settings.REPLICA_MAX_LAG_SECONDS,
            "" if fresh.usable else "; reads go to the primary",
        )
    _seen[alias] = fresh
    return fresh


def connects(alias: str) -> bool:
    """The connection of this thread to ``alias`` is open and passes Django's health check."""
    connection = connections[alias]
    try:
        connection.close_if_health_check_failed()
        connection.ensure_connection()
    except UNREACHABLE as error:
        log.warning("replica %s: cannot connect (%s); reads go to the primary", alias, error)
        connection.close()
        _seen[alias] = Seen(time.monotonic(), None)
        return False
    return True


def pick(aliases: list[str]) -> str | None:
    """A usable replica (at random among several), or None: read from the primary."""
    usable = [alias for alias in aliases if seen(alias).usable]
    random.shuffle(usable)
    for alias in usable:
        if connects(alias):
            return alias
    return None


def status() -> dict[str, str]:
    """Each replica's state as this process last saw it (asked again if stale): for /healthz."""
    return {alias: seen(alias).describe() for alias in settings.REPLICA_DATABASES}


def forget() -> None:
    """Drop what this process knows (tests, and after reconfiguring replicas)."""
    _seen.clear()
