"""Which database a request reads from, when read replicas are configured (``core.db_router``).

GET, HEAD and OPTIONS read from a replica; any other method reads from the primary. After a
request that wrote — any non-safe method, or a safe one whose code wrote (the router saw a
write) — the response carries a signed cookie, and for ``REPLICA_PIN_SECONDS`` every request
of that browser or API client that keeps cookies reads from the primary: a figure just saved
is on the next page even if the replica is a second behind (read-your-writes).

The cookie says only "wrote at <time>" (signed, so it cannot be forged to last longer); it
is set whatever the answer, since a refused write costs nothing but a few reads on the
primary, while a missed one would show stale data.
"""

from __future__ import annotations

from django.conf import settings

from core.db_router import routing_scope

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COOKIE = "fp_primary"
SALT = "core.db_router.read-your-writes"


def wrote_recently(request) -> bool:
    stamp = request.get_signed_cookie(
        COOKIE, default=None, salt=SALT, max_age=settings.REPLICA_PIN_SECONDS
    )
    return stamp is not None


class ReadReplicaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        safe = request.method in SAFE_METHODS
        with routing_scope(replica_allowed=safe and not wrote_recently(request)) as routing:
            response = self.get_response(request)
        if routing.wrote or not safe:
            response.set_signed_cookie(
                COOKIE,
                "1",
                salt=SALT,
                max_age=settings.REPLICA_PIN_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
