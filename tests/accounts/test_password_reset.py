"""Issue 20 (Hardening 2) item 8: password reset by e-mail. Off by default (the reset URLs
answer 404; admins reset passwords on the user page). When on: throttled per client
address and per account, the same answer in the same time for known and unknown
addresses, the link never in the logs, and no start with a mail backend that does not
send while DEBUG is off."""

import io
import json
import logging
import re
import time
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import services
from accounts.password_reset import wait_for_mail
from fireplan import logs
from tests.test_security import production_env, run_django

EMAIL = "zhang.san@example.gov.cn"
NEW_PASSWORD = "Reset-by-mail-2026"
LINK = re.compile(r"https?://testserver(/accounts/reset/([^/\s]+)/([^/\s]+)/)")
RESET_URLS = ["password_reset", "password_reset_done", "password_reset_complete"]


@pytest.fixture(autouse=True)
def fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def reset_on(settings):
    settings.PASSWORD_RESET_BY_EMAIL = True


@pytest.fixture
def zhang(staff_nanyang):
    staff_nanyang.email = EMAIL
    staff_nanyang.save(update_fields=["email"])
    return staff_nanyang


def request_reset(client, email: str = EMAIL, **extra):
    response = client.post(reverse("password_reset"), {"email": email}, **extra)
    wait_for_mail()
    return response


def link_in(message) -> re.Match:
    match = LINK.search(message.body)
    assert match, message.body
    return match


# ------------------------------------------------------------------ off (the default)


def test_reset_by_email_is_off_by_default_and_its_urls_answer_404(client, zhang):
    assert django_settings.PASSWORD_RESET_BY_EMAIL is False
    for name in RESET_URLS:
        assert client.get(reverse(name)).status_code == 404
    confirm = reverse("password_reset_confirm", args=["MQ", "abc-123"])
    assert client.get(confirm).status_code == 404
    assert request_reset(client).status_code == 404
    assert mail.outbox == []


def test_the_login_page_says_who_resets_passwords(client, db, settings):
    page = client.get(reverse("login")).content.decode()
    assert "忘记密码请联系系统管理员重置" in page
    assert reverse("password_reset") not in page
    settings.PASSWORD_RESET_BY_EMAIL = True
    page = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in page


# ------------------------------------------------------------------ on


@pytest.mark.usefixtures("reset_on")
def test_a_known_address_gets_a_link_that_sets_a_new_password_and_ends_tokens(client, zhang):
    key = services.issue_api_token(zhang).key
    response = request_reset(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert "设置新密码的链接已发往该邮箱" in client.get(response["Location"]).content.decode()

    (message,) = mail.outbox
    assert message.to == [EMAIL]
    assert message.subject == "消防救援规划任务跟踪系统：重置密码"
    assert "staff_nanyang" in message.body
    assert "60 分钟内" in message.body
    path = link_in(message)[1]

    form = client.get(path)  # Django moves the token into the session, out of the URL
    assert form.status_code == 302
    assert form["Location"].endswith("/set-password/")
    weak = client.post(
        form["Location"], {"new_password1": "1234567890", "new_password2": "1234567890"}
    )
    assert weak.status_code == 200  # the validators apply
    done = client.post(
        form["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done["Location"] == reverse("password_reset_complete")
    assert "新密码已生效" in client.get(done["Location"]).content.decode()

    fresh = Client()
    login = {"username": "staff_nanyang", "password": NEW_PASSWORD}
    assert fresh.post(reverse("login"), login).status_code == 302
    plans = APIClient().get("/api/v1/plans/", HTTP_AUTHORIZATION=f"Token {key}")
    assert plans.status_code == 401
    assert client.get(path).status_code == 200  # used: the link is dead now
    assert "该重置链接无效" in client.get(path).content.decode()


@pytest.mark.usefixtures("reset_on")
def test_known_and_unknown_addresses_get_the_same_answer_for_the_same_work(client, zhang):
    def attempt(email):
        with CaptureQueriesContext(connection) as queries:
            response = request_reset(client, email)
        return response, len(queries)

    known, known_queries = attempt(EMAIL)
    unknown, unknown_queries = attempt("nobody@example.gov.cn")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known_queries == unknown_queries
    assert [m.to for m in mail.outbox] == [[EMAIL]]


@pytest.mark.usefixtures("reset_on")
def test_sending_the_mail_is_not_part_of_the_answers_time(client, zhang):
    original = EmailMultiAlternatives.send

    def slow_smtp(self, *args, **kwargs):
        time.sleep(1.5)
        return original(self, *args, **kwargs)

    with mock.patch.object(EmailMultiAlternatives, "send", slow_smtp):
        started = time.perf_counter()
        response = client.post(reverse("password_reset"), {"email": EMAIL})
        elapsed = time.perf_counter() - started
        wait_for_mail()
    assert response.status_code == 302
    assert elapsed < 1.0
    assert len(mail.outbox) == 1


@pytest.mark.usefixtures("reset_on")
def test_inactive_users_and_users_without_the_address_get_no_mail(client, zhang):
    zhang.is_active = False
    zhang.save(update_fields=["is_active"])
    assert request_reset(client).status_code == 302
    assert mail.outbox == []


@pytest.mark.usefixtures("reset_on")
def test_requests_are_limited_per_client_address(client, settings, zhang):
    limit, _window = settings.PASSWORD_RESET_LIMITS["address"]
    for index in range(limit):
        assert request_reset(client, f"someone{index}@example.gov.cn").status_code == 302
    refused = request_reset(client)
    assert refused.status_code == 429
    assert "请稍后再试" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert mail.outbox == []
    assert request_reset(Client(REMOTE_ADDR="10.9.8.7")).status_code == 302
    assert len(mail.outbox) == 1


@pytest.mark.usefixtures("reset_on")
def test_mails_are_limited_per_account_with_the_same_answer(settings, zhang):
    limit, _window = settings.PASSWORD_RESET_LIMITS["account"]
    answers = [
        request_reset(Client(REMOTE_ADDR=f"10.0.1.{index}"), EMAIL.upper())
        for index in range(limit + 2)
    ]
    assert {(a.status_code, a["Location"]) for a in answers} == {
        (302, reverse("password_reset_done"))
    }
    assert len(mail.outbox) == limit


@pytest.mark.usefixtures("reset_on")
def test_the_reset_link_never_reaches_the_logs(client, zhang, settings):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # as the production handler: filter and format
    handler.addFilter(logs.RequestContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        request_reset(client)
        match = link_in(mail.outbox[0])
        path, token = match[1], match[3]
        client.get(path)
        Client(enforce_csrf_checks=True).post(path, {})  # 403, Django logs the path
        settings.PASSWORD_RESET_BY_EMAIL = False
        assert client.get(path).status_code == 404  # Django logs "Not Found: <path>"
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert token not in stream.getvalue()
    access = [line["path"] for line in lines if line["logger"] == "fireplan.access"]
    assert f"/accounts/reset/{match[2]}/[redacted]/" in access
    not_found = [line for line in lines if line["logger"] == "django.request"]
    assert not_found[0]["message"] == f"Not Found: /accounts/reset/{match[2]}/[redacted]/"
    assert not_found[0]["request_id"]  # the request's id, also after the middleware


# ------------------------------------------------------------------ configuration


def test_the_app_refuses_to_start_with_reset_on_and_a_mail_backend_that_does_not_send():
    code = "from django.conf import settings as s\nprint(s.PASSWORD_RESET_BY_EMAIL)\n"
    env = production_env(DJANGO_SETTINGS_MODULE="fireplan.settings", PASSWORD_RESET_BY_EMAIL="1")
    assert run_django(code, env).stdout.split() == ["True"]  # SMTP
    console = env | {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    refused = run_django(code, console)
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr
    assert "PASSWORD_RESET_BY_EMAIL=1 needs a mail backend that sends" in refused.stderr
    # In DEBUG the console is the developer's own: allowed.
    assert run_django(code, console | {"DEBUG": "1"}).stdout.split() == ["True"]
    off = run_django(code, console | {"PASSWORD_RESET_BY_EMAIL": "0"})
    assert off.stdout.split() == ["False"]
