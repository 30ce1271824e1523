"""``Idempotency-Key`` on API POSTs: a client that retries (a timeout, a lost answer, a
worker killed mid-request) sends the same key and gets the first answer, not a second effect.

The key is scoped to the caller (the token or the session user), the method and the path,
and kept 24 hours with the response (status, body, content type, ETag). The same key with a
different body is refused (422 ``idempotency_key_reused``). Two requests with the same key at
the same moment: the second waits for the first and replays its answer, or, if the first is
still running after a few seconds, gets 409 ``idempotency_in_progress`` with Retry-After.

Only answers below 500 are kept (409/503 from core.db_errors are not kept either: they
wrote nothing and a retry should run). Storage is the "shared" cache (``core.checks``), which
every gunicorn worker sees: Redis when ``REDIS_URL`` is set, a database table otherwise. A
per-process cache here would let a retry on another worker act twice (issue 20): the system
check refuses it outside DEBUG.
"""

from __future__ import annotations

import hashlib
import time

from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from core.checks import shared_cache

HEADER = "Idempotency-Key"
KEEP_SECONDS = 24 * 3600
PENDING_SECONDS = 120
WAIT_SECONDS = 10
PENDING = "pending"
RETRYABLE = {409, 503}
FINGERPRINT_MAX_BYTES = 1024 * 1024


def _caller(request) -> str:
    auth = request.headers.get("Authorization", "")
    if auth:
        return "auth:" + hashlib.sha256(auth.encode()).hexdigest()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return ""


def _fingerprint(request) -> str:
    """What the request said. Large uploads are not read into memory here (Django would
    refuse a body above DATA_UPLOAD_MAX_MEMORY_SIZE): their length and type stand in."""
    raw = request.META.get("CONTENT_LENGTH") or "0"
    length = int(raw) if raw.isdigit() else 0
    if length > FINGERPRINT_MAX_BYTES:
        return f"{request.content_type}:{length}"
    return hashlib.sha256(request.body).hexdigest()


def _refuse(status: int, code: str, message: str, **headers) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status, headers=headers)


class IdempotencyKeyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER, "").strip()
        if request.method != "POST" or not key or not request.path_info.startswith("/api/"):
            return self.get_response(request)
        if len(key) > 255:
            return _refuse(400, "invalid_idempotency_key", _("Idempotency-Key 不能超过 255 个字符"))
        caller = _caller(request)
        if not caller:
            return self.get_response(request)  # anonymous: answered 401 by the view
        scope = hashlib.sha256(f"{caller}|{request.path_info}|{key}".encode()).hexdigest()
        cache_key = f"idempotency:{scope}"
        fingerprint = _fingerprint(request)
        cache = shared_cache()
        if not cache.add(cache_key, PENDING, PENDING_SECONDS):
            stored = self._wait(cache_key)
            if stored is None:
                if not cache.add(cache_key, PENDING, PENDING_SECONDS):
                    return _refuse(
                        409,
                        "idempotency_in_progress",
                        _("相同 Idempotency-Key 的请求正在处理，请稍后重试"),
                        **{"Retry-After": "2"},
                    )
            else:
                return self._replay(stored, fingerprint)
        keep = False
        try:
            response = self.get_response(request)
            keep = response.status_code < 500 and response.status_code not in RETRYABLE
            if keep:
                cache.set(cache_key, self._stored(response, fingerprint), KEEP_SECONDS)
            return response
        finally:
            if not keep:
                cache.delete(cache_key)

    @staticmethod
    def _wait(cache_key: str):
        cache = shared_cache()
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            stored = cache.get(cache_key)
            if stored != PENDING:
                return stored
            time.sleep(0.05)
        return None

    @staticmethod
    def _stored(response, fingerprint: str) -> dict:
        headers = {
            name: response[name]
            for name in ("Content-Type", "ETag", "Location")
            if response.has_header(name)
        }
        return {
            "status": response.status_code,
            "content": bytes(response.content) if not response.streaming else b"",
            "headers": headers,
            "fingerprint": fingerprint,
        }

    @staticmethod
    def _replay(stored: dict, fingerprint: str) -> HttpResponse:
        if stored["fingerprint"] != fingerprint:
            return _refuse(
                422,
                "idempotency_key_reused",
                _("该 Idempotency-Key 已用于内容不同的请求，请使用新的键"),
            )
        response = HttpResponse(stored["content"], status=stored["status"])
        for name, value in stored["headers"].items():
            response[name] = value
        response["Idempotent-Replayed"] = "true"
        return response
