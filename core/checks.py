"""The "shared" cache: what every worker process must see — API Idempotency-Keys
(``fireplan.idempotency``) and one-time form tokens (``core.once``).

Settings give it Redis when ``REDIS_URL`` is set and a database table otherwise
(``django.core.cache.backends.db.DatabaseCache``, the table made by
``core/migrations/0002_shared_cache_table.py``). A per-process cache (LocMem) there is what
issue 20 found: a request replayed on another gunicorn worker acted twice. The system check
below refuses it when several processes may serve (DEBUG off, or ``WEB_CONCURRENCY`` > 1);
gunicorn runs no system checks, so ``fireplan.wsgi`` calls ``refuse_per_process_cache`` too.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.cache import BaseCache, caches
from django.core.exceptions import ImproperlyConfigured

SHARED = "shared"
TAG = "shared_cache"
PER_PROCESS = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


def shared_cache() -> BaseCache:
    return caches[SHARED]


@checks.register(TAG, checks.Tags.caches)
def check_shared_cache(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    config = settings.CACHES.get(SHARED)
    if config is None:
        return [
            checks.Error(
                f'CACHES has no "{SHARED}" cache (idempotency keys, one-time form tokens).',
                hint="fireplan.settings defines it: Redis (REDIS_URL) or the database.",
                id="core.E001",
            )
        ]
    workers = getattr(settings, "WEB_CONCURRENCY", 1)
    if config["BACKEND"] in PER_PROCESS and (not settings.DEBUG or workers > 1):
        return [
            checks.Error(
                f'The "{SHARED}" cache ({config["BACKEND"]}) is kept per process: with several '
                "workers an Idempotency-Key or a one-time form token would act once per worker.",
                hint="Use the database cache (the default) or Redis (REDIS_URL).",
                id="core.E002",
            )
        ]
    return []


def refuse_per_process_cache() -> None:
    """Raise ImproperlyConfigured when the check above fails (a server about to start)."""
    errors = [error for error in check_shared_cache() if error.is_serious()]
    if errors:
        raise ImproperlyConfigured("; ".join(error.msg for error in errors))
