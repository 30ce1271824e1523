"""Reads from PostgreSQL streaming replicas; writes and read-your-writes on the primary.

``settings.REPLICA_DATABASES`` names the replica aliases (``DATABASE_REPLICA_URL``); without
any, this router is not installed and everything uses ``default`` as before.

Where a query goes:

- **Outside a request** (management commands, shells, scripts, tests): the primary, unless
  the code asks for a replica with ``replica_reads()``.
- **In a request** (``fireplan.replica_middleware`` opens a ``routing_scope`` around it):
  a GET/HEAD/OPTIONS request whose client has not written in the last
  ``REPLICA_PIN_SECONDS`` reads from a replica; every other request reads from the primary.
- **Always the primary**: writes; every read inside ``transaction.atomic()`` (a service's
  checks before its write) and ``select_for_update()`` (Django routes it as a write); every
  read after the request has written; sessions, the database cache (one-time form tokens,
  idempotency keys) and axes' failed-login counters — bookkeeping that must be exact, where a
  replica a second behind would let a used token or a logged-out session through.
- A replica that does not answer or lags more than ``REPLICA_MAX_LAG_SECONDS`` is skipped
  (``core.replica_health``).

Raw SQL through ``connection.cursor()`` never asks a router: it runs on the primary.

The request's routing lives in a ``ContextVar`` holding a mutable object, so what a view
sets (``wrote``) is seen by the middleware even when Django runs the view in another thread
with a copy of the context.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from core import replica_health

PRIMARY = DEFAULT_DB_ALIAS
# Bookkeeping read and written on the primary only ("django_cache" is the app label Django's
# database cache gives its table, the shared cache of core.once and fireplan.idempotency).
PRIMARY_ONLY_APPS = frozenset({"sessions", "django_cache", "axes"})
# Writes that a GET makes as bookkeeping and nobody reads back: they do not keep the request
# and the client on the primary (an API token's last_used, bumped once a minute, would
# otherwise send a busy API client's reads to the primary for good).
UNPINNED_WRITES = frozenset({"accounts.apitoken"})


@dataclass
class Routing:
    """What one request (or one ``replica_reads`` block) may read from."""

    replica_allowed: bool
    wrote: bool = False  # asked for the primary to write: later reads stay there
    replica: str | None = None  # chosen at the first read, kept for the whole request


_routing: ContextVar[Routing | None] = ContextVar("fireplan_db_routing", default=None)


@contextlib.contextmanager
def routing_scope(*, replica_allowed: bool) -> Iterator[Routing]:
    token = _routing.set(Routing(replica_allowed=replica_allowed))
    try:
        yield _routing.get()
    finally:
        _routing.reset(token)


def replica_reads() -> contextlib.AbstractContextManager[Routing]:
    """For a command or job that may read from a replica (a long export, a report): reads in
    the block go to a replica under the same rules as a GET request."""
    return routing_scope(replica_allowed=True)


def current_routing() -> Routing | None:
    return _routing.get()


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        routing = _routing.get()
        if routing is None or not routing.replica_allowed or routing.wrote:
            return PRIMARY
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return PRIMARY
        # A read inside a transaction decides a write (checks, versions): it must see the
        # primary's rows. The outer test transaction of a pytest ``db`` test counts too.
        if connections[PRIMARY].in_atomic_block:
            return PRIMARY
        if routing.replica is None:
            routing.replica = replica_health.pick(settings.REPLICA_DATABASES) or PRIMARY
        return routing.replica

    def db_for_write(self, model, **hints) -> str:
        routing = _routing.get()
        if routing is not None and not (
            model._meta.app_label in PRIMARY_ONLY_APPS or model._meta.label_lower in UNPINNED_WRITES
        ):
            routing.wrote = True
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # The replicas hold the primary's rows: an object read from one may point at one
        # read from the other (Django refuses relations across databases otherwise).
        same_data = {PRIMARY, *settings.REPLICA_DATABASES}
        if obj1._state.db in same_data and obj2._state.db in same_data:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        # A streaming replica is read-only and copies the primary's schema byte for byte.
        if db in settings.REPLICA_DATABASES:
            return False
        return None
