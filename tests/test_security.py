"""Issue 10, security and operations: production settings pass `check --deploy`, the headers
and cookies, the Content-Security-Policy, idle and absolute session time-outs, lock-out after
failed logins (page, admin, token endpoint), bad-token throttling, password validators,
/healthz, and request ids in structured logs."""

import io
import json
import logging
import os
import re
import secrets
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.db.models import F
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import issue_api_token
from core import security
from fireplan import logs

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Pass-word-2021"  # tests/conftest.make_user
TOKEN_URL = "/api/v1/auth/token/"
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def production_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEBUG", "SECURE_"))}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="plans.example.gov.cn",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fireplan"),
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    )
    env.update(extra)
    return env


def run_django(code: str, env: dict) -> subprocess.CompletedProcess:
    script = "import django; django.setup()\n" + code
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


@pytest.fixture(autouse=True)
def fresh_throttles():
    """Throttle and lock-out counters live in the cache: each test starts from none."""
    cache.clear()
    yield
    cache.clear()


# ------------------------------------------------------------------ production settings


def test_check_deploy_passes_with_production_settings():
    code = (
        "from django.core.management import call_command\n"
        "call_command('check', deploy=True, fail_level='WARNING')\n"
    )
    result = run_django(code, production_env(DJANGO_SETTINGS_MODULE="fireplan.settings"))
    assert result.returncode == 0, result.stderr[-3000:]


def test_check_deploy_fails_when_production_turns_https_off():
    code = (
        "from django.core.management import call_command\n"
        "call_command('check', deploy=True, fail_level='WARNING')\n"
    )
    env = production_env(DJANGO_SETTINGS_MODULE="fireplan.settings", SECURE_SSL_REDIRECT="0")
    result = run_django(code, env)
    assert result.returncode != 0
    assert "security.W008" in result.stderr


def test_production_settings_come_from_the_environment():
    code = (
        "from django.conf import settings as s\n"
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        " s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SESSION_COOKIE_AGE, s.SESSION_ABSOLUTE_SECONDS, s.AXES_FAILURE_LIMIT,"
        " s.LOG_FORMAT)\n"
    )
    env = production_env(DJANGO_SETTINGS_MODULE="fireplan.settings")
    defaults = run_django(code, env)
    assert defaults.stdout.split() == (
        "True 31536000 True True True True 1800 43200 5 json".split()
    ), defaults.stderr
    env |= {
        "SECURE_HSTS_SECONDS": "600",
        "SECURE_HSTS_PRELOAD": "0",
        "SECURE_COOKIES": "0",
        "SESSION_COOKIE_AGE": "900",
        "SESSION_ABSOLUTE_SECONDS": "3600",
        "AXES_FAILURE_LIMIT": "3",
        "LOG_FORMAT": "text",
    }
    changed = run_django(code, env)
    expected = "True 600 True False False False 900 3600 3 text".split()
    assert changed.stdout.split() == expected, changed.stderr
    bad = run_django(code, env | {"SESSION_COOKIE_AGE": "half an hour"})
    assert "SESSION_COOKIE_AGE must be a whole number" in bad.stderr


# ------------------------------------------------------------------ headers and cookies


def test_pages_send_the_security_headers_and_the_policy(client, staff_nanyang):
    client.force_login(staff_nanyang)
    response = client.get("/", secure=True)

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == POLICY
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_session_cookie_is_secure_http_only_lax_and_lasts_the_idle_time(db, staff_nanyang):
    client = Client()
    response = client.post(
        reverse("login"), {"username": "staff_nanyang", "password": PASSWORD}, secure=True
    )
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 1800


def test_plain_http_is_redirected_to_https_except_the_health_probe(client, settings, db):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/accounts/login/?next=/plans/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/?next=/plans/"
    assert client.get("/healthz").status_code == 200


def test_pages_have_no_inline_script_style_or_handler(client, staff_nanyang, seeded):
    """The policy forbids them; a page that had one would break in the browser."""
    from planning.models import Plan

    client.force_login(staff_nanyang)
    plan = Plan.objects.get(code="nanyang-2021-2025")
    for url in [
        "/",
        reverse("reports:plan_detail", args=[plan.pk]),
        reverse("stations:station_list"),
    ]:
        html = client.get(url).content.decode()
        assert "style=" not in html, url
        assert "<style" not in html, url
        assert " onclick=" not in html, url
        for chunk in html.split("<script")[1:]:
            opening = chunk.split(">", 1)[0]
            assert " src=" in opening or 'type="application/json"' in opening, url


# ------------------------------------------------------------------ session time-outs


def age_login(client, seconds: int) -> None:
    session = client.session
    session[security.SESSION_LOGIN_AT] = int(time.time()) - seconds
    session.save()


def test_a_login_older_than_the_absolute_limit_is_sent_to_the_login_page(client, staff_nanyang):
    client.force_login(staff_nanyang)
    age_login(client, 12 * 3600 - 60)
    assert client.get("/").status_code == 200  # still within the 12 hours

    age_login(client, 12 * 3600 + 1)
    response = client.get("/plans/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/plans/"
    page = client.get(response["Location"])
    assert "登录已超过 12 小时，为安全起见请重新登录" in page.content.decode()
    assert "_auth_user_id" not in client.session  # flushed: the next page needs a login
    assert client.get("/").status_code == 302


def test_the_api_answers_401_json_when_the_login_is_too_old(client, staff_nanyang):
    client.force_login(staff_nanyang)
    assert client.get("/api/v1/plans/").status_code == 200
    age_login(client, 12 * 3600 + 1)

    response = client.get("/api/v1/plans/")
    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"
    assert "_auth_user_id" not in client.session


def test_a_token_request_with_an_old_session_cookie_is_decided_by_the_token(client, staff_nanyang):
    key = issue_api_token(staff_nanyang).key
    client.force_login(staff_nanyang)
    age_login(client, 12 * 3600 + 1)

    response = client.get("/api/v1/plans/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_idle_clock_is_renewed_by_use_at_most_once_a_minute(client, staff_nanyang):
    client.force_login(staff_nanyang)
    session = client.session
    session[security.SESSION_SEEN_AT] = int(time.time()) - 120
    session.save()
    expiry_before = client.session.get_expiry_date()

    response = client.get("/")
    assert response.cookies["sessionid"]["max-age"] == 1800  # saved: a new idle deadline
    assert client.session.get_expiry_date() >= expiry_before
    assert "sessionid" not in client.get("/").cookies  # seconds later: not saved again


# ------------------------------------------------------------------ lock-out


def wait_out_slowdown():
    """As if the client waited before its next try: past the slow-down after repeated
    failures (core.security, tests/accounts/test_login_slowdown.py), within the lock-out."""
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time") - timedelta(seconds=security.SLOWDOWN_MAX_SECONDS)
    )


def fail_login(client, username: str, url: str | None = None, **extra):
    wait_out_slowdown()
    return client.post(
        url or reverse("login"), {"username": username, "password": "wrong-password"}, **extra
    )


def test_five_failed_logins_lock_the_user_out_with_a_chinese_429_page(client, staff_nanyang):
    for _ in range(4):
        response = fail_login(client, "staff_nanyang")
        assert response.status_code == 200
        assert "用户名或密码不正确" in response.content.decode()

    response = fail_login(client, "staff_nanyang")
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert "登录失败次数过多，请 15 分钟后再试" in response.content.decode()

    # Now the right password does not help either, until the cool-off has passed.
    right = {"username": "staff_nanyang", "password": PASSWORD}
    assert client.post(reverse("login"), right).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )
    assert client.post(reverse("login"), right).status_code == 302


def test_lock_out_is_per_user_name_and_address(client, staff_nanyang, staff_nanyang_twin):
    for _ in range(5):
        fail_login(client, "staff_nanyang")
    assert fail_login(client, "staff_nanyang").status_code == 429

    other_user = {"username": "staff_twin", "password": PASSWORD}
    assert client.post(reverse("login"), other_user).status_code == 302
    other_address = {"username": "staff_nanyang", "password": PASSWORD}
    response = Client(REMOTE_ADDR="10.1.2.3").post(reverse("login"), other_address)
    assert response.status_code == 302


def test_an_unknown_user_gets_the_same_answers_as_a_wrong_password(client, staff_nanyang):
    def answers(username):
        pages = [fail_login(client, username) for _ in range(5)]
        return [(p.status_code, strip_csrf(p.content.decode())) for p in pages]

    assert answers("staff_nanyang") == answers("nobody_here")


def strip_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_the_admin_login_is_locked_out_too(client, staff_user):
    url = reverse("admin:login")
    for _ in range(4):
        assert fail_login(client, "staff_nanjing", url).status_code == 200
    response = fail_login(client, "staff_nanjing", url)
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()


def test_a_failure_limit_from_the_environment_applies(client, settings, staff_nanyang):
    settings.AXES_FAILURE_LIMIT = 2
    assert fail_login(client, "staff_nanyang").status_code == 200
    assert fail_login(client, "staff_nanyang").status_code == 429


@pytest.fixture
def staff_nanyang_twin(seeded):
    from tests.conftest import make_user

    return make_user("staff_twin", "staff", "南阳市")


# ------------------------------------------------------------------ token endpoint


def test_a_user_name_and_password_get_a_new_token_with_its_expiry(staff_nanyang):
    api = APIClient()
    response = api.post(TOKEN_URL, {"username": "staff_nanyang", "password": PASSWORD})

    assert response.status_code == 200
    key = response.json()["token"]
    token = ApiToken.objects.get(user=staff_nanyang)
    assert token.digest == ApiToken.digest_of(key)  # the key itself is not stored
    assert datetime.fromisoformat(response.json()["expires"]) == token.expires
    assert token.expires - token.created == timedelta(days=30)
    # A new token next time; both open the API.
    again = api.post(TOKEN_URL, {"username": "staff_nanyang", "password": PASSWORD})
    assert again.json()["token"] != key
    for each in (key, again.json()["token"]):
        assert api.get("/api/v1/plans/", HTTP_AUTHORIZATION=f"Token {each}").status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_invalid_credentials(staff_nanyang):
    api = APIClient()
    wrong = api.post(TOKEN_URL, {"username": "staff_nanyang", "password": "nope"}, format="json")
    unknown = api.post(TOKEN_URL, {"username": "ghost", "password": "nope"}, format="json")
    staff_nanyang.is_active = False
    staff_nanyang.save(update_fields=["is_active"])
    inactive = api.post(TOKEN_URL, {"username": "staff_nanyang", "password": PASSWORD})

    for response in (wrong, unknown, inactive):
        assert response.status_code == 400
        assert response.json() == {"code": "invalid_credentials", "message": "用户名或密码不正确"}
    assert not ApiToken.objects.filter(user=staff_nanyang).exists()


def test_token_requests_lock_out_after_five_failures_with_retry_after(staff_nanyang):
    api = APIClient()
    for _ in range(4):
        wait_out_slowdown()
        response = api.post(TOKEN_URL, {"username": "staff_nanyang", "password": "nope"})
        assert response.status_code == 400
    wait_out_slowdown()
    response = api.post(TOKEN_URL, {"username": "staff_nanyang", "password": "nope"})
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert response["Retry-After"] == "900"

    right = api.post(TOKEN_URL, {"username": "staff_nanyang", "password": PASSWORD})
    assert right.status_code == 429
    assert right.json()["code"] == "locked_out"
    assert not ApiToken.objects.filter(user=staff_nanyang).exists()


def test_failed_token_requests_count_towards_the_login_page_lock_out(client, staff_nanyang):
    api = APIClient()
    for _ in range(4):
        wait_out_slowdown()
        api.post(TOKEN_URL, {"username": "staff_nanyang", "password": "nope"})
    assert fail_login(client, "staff_nanyang").status_code == 429


def test_a_token_request_without_fields_is_invalid_and_counts_nothing(db):
    response = APIClient().post(TOKEN_URL, {}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["errors"]) == {"username", "password"}
    assert not AccessAttempt.objects.exists()


def test_the_token_endpoint_is_in_the_openapi_schema(client, staff_nanyang):
    client.force_login(staff_nanyang)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"][TOKEN_URL]["post"]
    assert operation["operationId"] == "auth_token_create"
    assert "security" not in operation  # no authentication (other operations name theirs)
    assert schema["paths"]["/api/v1/plans/"]["get"]["security"]
    assert {"200", "400", "429"} <= set(operation["responses"])
    error = {"$ref": "#/components/schemas/Error"}
    assert operation["responses"]["429"]["content"]["application/json"]["schema"] == error
    assert "invalid_credentials" in operation["description"]


# ------------------------------------------------------------------ bad tokens


def test_repeated_bad_tokens_are_throttled_per_address_even_with_a_right_token_after(
    staff_nanyang,
):
    key = issue_api_token(staff_nanyang).key
    api = APIClient()
    for _ in range(10):
        response = api.get("/api/v1/plans/", HTTP_AUTHORIZATION="Token " + "0" * 40)
        assert response.status_code == 401
    response = api.get("/api/v1/plans/", HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    # The right token from the same address waits too (or the answer would tell a right
    # guess apart); another address is not affected.
    assert api.get("/api/v1/plans/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 429
    other = APIClient(REMOTE_ADDR="10.9.8.7")
    assert other.get("/api/v1/plans/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


def test_right_tokens_are_not_counted_as_bad(staff_nanyang):
    key = issue_api_token(staff_nanyang).key
    api = APIClient()
    for _ in range(15):
        assert api.get("/api/v1/plans/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


# ------------------------------------------------------------------ password validators


def test_password_change_refuses_weak_passwords(client, staff_nanyang):
    client.force_login(staff_nanyang)
    for weak in ["12345678901", "password123", "short1"]:
        response = client.post(
            reverse("password_change"),
            {"old_password": PASSWORD, "new_password1": weak, "new_password2": weak},
        )
        assert response.status_code == 200, weak  # the form again, with the error
    staff_nanyang.refresh_from_db()
    assert staff_nanyang.check_password(PASSWORD)


def test_create_scoped_user_refuses_a_weak_password(seeded):
    with pytest.raises(CommandError):
        call_command(
            "create_scoped_user",
            "li_weak",
            role="liaison",
            region="南召县",
            password_stdin=True,
            stdin=io.StringIO("12345678\n"),
            stdout=io.StringIO(),
        )


# ------------------------------------------------------------------ /healthz


def test_healthz_answers_ok_without_a_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_when_the_database_fails(client, db):
    with mock.patch("fireplan.health.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error"}


def test_healthz_answers_503_when_the_database_is_unreachable():
    code = (
        "from django.test import Client\n"
        "r = Client().get('/healthz', secure=True)\n"
        "print(r.status_code, r.content.decode())\n"
    )
    env = production_env(
        DJANGO_SETTINGS_MODULE="fireplan.settings",
        DATABASE_URL="postgres://postgres@127.0.0.1:1/none",
        ALLOWED_HOSTS="testserver",
        LOG_FORMAT="json",
    )
    result = run_django(code, env)
    status, body = result.stdout.strip().split(" ", 1)
    assert status == "503", result.stderr[-2000:]
    assert json.loads(body) == {"status": "error", "database": "error"}


# ------------------------------------------------------------------ structured logs


@pytest.fixture
def json_log():
    """Log records as the production handler writes them (the settings' filter and format)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RequestContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_a_request_writes_one_json_access_line_with_its_request_id(client, staff_nanyang, json_log):
    client.force_login(staff_nanyang)
    response = client.get("/plans/")

    request_id = response["X-Request-ID"]
    access = [line for line in json_log() if line["logger"] == "fireplan.access"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == request_id
    assert len(request_id) == 32  # a uuid4, hex
    assert (line["level"], line["path"], line["status"]) == ("INFO", "/plans/", 200)
    assert line["user_id"] == staff_nanyang.pk
    assert line["message"] == "GET /plans/ 200"
    assert line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")


def test_a_sane_incoming_request_id_is_kept_and_a_strange_one_replaced(client, db, json_log):
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a9c21-0001")
    assert kept["X-Request-ID"] == "lb-7f3a9c21-0001"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID='evil"\n{"level": "ERROR"}')
    assert replaced["X-Request-ID"] != 'evil"\n{"level": "ERROR"}'
    assert len(replaced["X-Request-ID"]) == 32
    assert [line["request_id"] for line in json_log()] == [
        "lb-7f3a9c21-0001",
        replaced["X-Request-ID"],
    ]


def test_log_records_inside_a_request_carry_its_request_id(client, db, json_log):
    with mock.patch("fireplan.health.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    lines = json_log()
    failure = next(line for line in lines if line["logger"] == "fireplan.health")
    assert failure["level"] == "ERROR"
    assert failure["request_id"] == response["X-Request-ID"]
    assert failure["message"] == "health check database failed: down"
