"""``/healthz`` for load balancers and monitoring: the app answers, the database answers
``SELECT 1`` (and Redis a PING when REDIS_URL is set). No login, no HTTPS redirect
(settings.SECURE_REDIRECT_EXEMPT), so a probe can use plain HTTP inside the network.
200 {"status": "ok", "database": "ok", …}; 503 {"status": "error", …} when a check fails.
With read replicas, ``"replicas": {"replica": "ok" | "lagging" | "down"}`` says how this
worker last saw each (core.replica_health); a replica never fails the probe, since reads
then go to the primary.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core import replica_health

log = logging.getLogger(__name__)


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_redis() -> str:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    client.ping()
    return "ok"


@login_not_required
@never_cache
@require_safe
def healthz(request):
    checks = {"database": check_database}
    if getattr(settings, "REDIS_URL", ""):
        checks["redis"] = check_redis
    body = {"status": "ok"}
    for name, check in checks.items():
        try:
            body[name] = check()
        except Exception as error:  # any failure of a dependency is a failed probe
            log.error("health check %s failed: %s", name, error)
            body[name] = "error"
            body["status"] = "error"
    if settings.REPLICA_DATABASES:
        body["replicas"] = replica_health.status()
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)
