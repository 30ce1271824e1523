"""Issue 20 (Hardening 2) item 3: API tokens expire, and end on a password change, a reset
and a deactivation — and stay ended on reactivation. Users list their tokens (never the
keys after creation) and revoke them one by one on /accounts/token/."""

import importlib
import os
import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.models import ApiToken
from core.services import ServiceError
from tests.accounts.test_users import edit_form
from tests.test_security import run_django

PASSWORD = "Pass-word-2021"  # tests/conftest.make_user
TOKEN_URL = "/api/v1/auth/token/"
PLANS = "/api/v1/plans/"


@pytest.fixture(autouse=True)
def fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def api_get(key: str, url: str = PLANS):
    return APIClient().get(url, HTTP_AUTHORIZATION=f"Token {key}")


def answer(response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def new_key(page) -> str:
    return re.search(r'data-testid="new-token">([0-9a-f]{40})<', page.content.decode())[1]


# ------------------------------------------------------------------ lifetime


def test_a_token_lasts_the_configured_days_and_then_answers_token_expired(settings, staff_nanyang):
    settings.API_TOKEN_TTL_DAYS = 7
    token = services.issue_api_token(staff_nanyang)
    assert token.expires - token.created == timedelta(days=7)
    assert api_get(token.key).status_code == 200

    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(seconds=1))
    response = api_get(token.key)
    assert answer(response) == (401, "token_expired")
    assert "过期" in response.json()["message"]
    assert "重新获取" in response.json()["message"]
    assert response["WWW-Authenticate"] == "Token"


def test_a_revoked_or_unknown_token_is_authentication_failed_not_expired(staff_nanyang):
    token = services.issue_api_token(staff_nanyang)
    services.revoke_api_token(staff_nanyang, token.pk)
    assert answer(api_get(token.key)) == (401, "authentication_failed")
    assert answer(api_get("f" * 40)) == (401, "authentication_failed")


def test_the_lifetime_comes_from_the_environment_and_must_be_sane():
    code = "from django.conf import settings as s\nprint(s.API_TOKEN_TTL_DAYS)\n"
    base = {k: v for k, v in os.environ.items() if k != "API_TOKEN_TTL_DAYS"}
    base["DJANGO_SETTINGS_MODULE"] = "fireplan.settings"
    assert run_django(code, base).stdout.split() == ["30"]
    assert run_django(code, base | {"API_TOKEN_TTL_DAYS": "90"}).stdout.split() == ["90"]
    refused = run_django(code, base | {"API_TOKEN_TTL_DAYS": "0"})
    assert "API_TOKEN_TTL_DAYS must be between 1 and 3650" in refused.stderr


def test_the_token_endpoint_returns_a_new_token_with_its_expiry_in_the_schema(
    client, staff_nanyang
):
    client.force_login(staff_nanyang)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    response = schema["paths"][TOKEN_URL]["post"]["responses"]["200"]
    ref = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][ref]["properties"]) == {"token", "expires"}


def test_the_database_keeps_only_a_digest_of_the_key(staff_nanyang):
    token = services.issue_api_token(staff_nanyang)
    stored = ApiToken.objects.values().get(pk=token.pk)
    assert token.key not in {str(value) for value in stored.values()}
    assert stored["prefix"] == token.key[:8]


def test_last_used_is_written_at_most_once_a_minute(staff_nanyang):
    token = services.issue_api_token(staff_nanyang)
    assert token.last_used is None

    def updates() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api_get(token.key).status_code == 200
        return sum(
            'UPDATE "accounts_apitoken"' in query["sql"] for query in queries.captured_queries
        )

    assert updates() == 1
    assert updates() == 0  # seconds later: not again
    used = ApiToken.objects.get(pk=token.pk).last_used
    assert timezone.now() - used < timedelta(minutes=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used=used - timedelta(minutes=2))
    assert updates() == 1


def test_a_user_holds_at_most_twenty_live_tokens_expired_ones_do_not_count(staff_nanyang):
    tokens = [services.issue_api_token(staff_nanyang) for _ in range(services.MAX_API_TOKENS)]
    response = APIClient().post(TOKEN_URL, {"username": "staff_nanyang", "password": PASSWORD})
    assert answer(response) == (400, "too_many_tokens")
    assert "撤销" in response.json()["message"]

    ApiToken.objects.filter(pk=tokens[0].pk).update(expires=timezone.now())
    response = APIClient().post(TOKEN_URL, {"username": "staff_nanyang", "password": PASSWORD})
    assert response.status_code == 200
    assert not ApiToken.objects.filter(pk=tokens[0].pk).exists()  # cleared on the way
    assert ApiToken.objects.filter(user=staff_nanyang).count() == services.MAX_API_TOKENS


def test_an_inactive_user_gets_no_token(staff_nanyang):
    staff_nanyang.is_active = False
    staff_nanyang.save(update_fields=["is_active"])
    with pytest.raises(ServiceError) as refused:
        services.issue_api_token(staff_nanyang)
    assert refused.value.code == "inactive_user"


# ------------------------------------------------------------------ tokens end


def test_the_users_own_password_change_ends_every_token(client, staff_nanyang):
    keys = [services.issue_api_token(staff_nanyang).key for _ in range(2)]
    client.force_login(staff_nanyang)
    new = "Brand-new-pass-2026"
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    for key in keys:
        assert answer(api_get(key)) == (401, "authentication_failed")
    assert not ApiToken.objects.filter(user=staff_nanyang).exists()


def test_an_admins_password_reset_on_the_user_page_ends_every_token(
    client, admin_jiangsu, staff_nanjing
):
    key = services.issue_api_token(staff_nanjing).key
    client.force_login(admin_jiangsu)
    new = "Reset-by-admin-2026"
    response = client.post(
        reverse("accounts:user_password", args=[staff_nanjing.pk]),
        {"password1": new, "password2": new},
    )
    assert response.status_code == 302
    assert answer(api_get(key)) == (401, "authentication_failed")


def test_a_refused_password_reset_keeps_the_tokens(client, admin_jiangsu, staff_nanjing):
    key = services.issue_api_token(staff_nanjing).key
    client.force_login(admin_jiangsu)
    response = client.post(
        reverse("accounts:user_password", args=[staff_nanjing.pk]),
        {"password1": "12345678901", "password2": "12345678901"},
    )
    assert response.status_code == 400
    assert api_get(key).status_code == 200


def test_deactivation_ends_every_token_and_reactivation_does_not_bring_them_back(
    client, admin_jiangsu, staff_nanjing
):
    key = services.issue_api_token(staff_nanjing).key
    client.force_login(admin_jiangsu)
    form = edit_form(staff_nanjing, is_active="")
    assert (
        client.post(reverse("accounts:user_edit", args=[staff_nanjing.pk]), form).status_code == 302
    )
    assert not ApiToken.objects.filter(user=staff_nanjing).exists()
    assert api_get(key).status_code == 401

    form = edit_form(staff_nanjing, is_active="on")
    assert (
        client.post(reverse("accounts:user_edit", args=[staff_nanjing.pk]), form).status_code == 302
    )
    assert User.objects.get(pk=staff_nanjing.pk).is_active
    assert answer(api_get(key)) == (401, "authentication_failed")


def test_logging_in_or_editing_the_name_keeps_the_tokens(client, staff_nanyang):
    key = services.issue_api_token(staff_nanyang).key
    login = {"username": "staff_nanyang", "password": PASSWORD}
    assert client.post(reverse("login"), login).status_code == 302  # saves last_login
    staff_nanyang.first_name = "张三"
    staff_nanyang.save()
    assert api_get(key).status_code == 200


# ------------------------------------------------------------------ the token page


def test_the_page_issues_a_token_shows_it_once_and_lists_it_without_the_key(client, staff_nanyang):
    client.force_login(staff_nanyang)
    page = client.post(reverse("accounts:api_token"), {"action": "issue"})
    key = new_key(page)
    token = ApiToken.objects.get(user=staff_nanyang)
    assert f"有效期至 {timezone.localtime(token.expires):%Y-%m-%d %H:%M}" in page.content.decode()
    assert api_get(key).status_code == 200

    listing = client.get(reverse("accounts:api_token")).content.decode()
    assert key not in listing
    assert f"{key[:8]}…" in listing
    assert f"{timezone.localtime(token.created):%Y-%m-%d %H:%M}" in listing
    assert f"{timezone.localtime(token.expires):%Y-%m-%d %H:%M}" in listing
    last_used = timezone.localtime(ApiToken.objects.get(pk=token.pk).last_used)
    assert f"{last_used:%Y-%m-%d %H:%M}" in listing
    assert "有效" in listing


def test_issuing_on_the_page_keeps_the_other_tokens(client, staff_nanyang):
    client.force_login(staff_nanyang)
    first = new_key(client.post(reverse("accounts:api_token"), {"action": "issue"}))
    second = new_key(client.post(reverse("accounts:api_token"), {"action": "issue"}))
    assert first != second
    assert api_get(first).status_code == api_get(second).status_code == 200
    listing = client.get(reverse("accounts:api_token")).content.decode()
    assert listing.count("从未使用") == 0  # both were used just now
    assert ApiToken.objects.filter(user=staff_nanyang).count() == 2


def test_revoking_one_token_leaves_the_other(client, staff_nanyang):
    kept, revoked = (services.issue_api_token(staff_nanyang) for _ in range(2))
    client.force_login(staff_nanyang)
    response = client.post(reverse("accounts:api_token"), {"action": "revoke", "token": revoked.pk})
    assert response.status_code == 302
    page = client.get(reverse("accounts:api_token")).content.decode()
    assert "访问令牌已撤销" in page
    assert answer(api_get(revoked.key)) == (401, "authentication_failed")
    assert api_get(kept.key).status_code == 200


def test_revoke_without_a_token_ends_them_all(client, staff_nanyang):
    keys = [services.issue_api_token(staff_nanyang).key for _ in range(3)]
    client.force_login(staff_nanyang)
    client.post(reverse("accounts:api_token"), {"action": "revoke"})
    assert "已撤销全部 3 个访问令牌" in client.get(reverse("accounts:api_token")).content.decode()
    assert all(api_get(key).status_code == 401 for key in keys)


def test_nobody_revokes_another_users_token(client, staff_nanyang, viewer_nanyang):
    theirs = services.issue_api_token(viewer_nanyang)
    client.force_login(staff_nanyang)
    for value in (theirs.pk, "abc"):
        client.post(reverse("accounts:api_token"), {"action": "revoke", "token": value})
        page = client.get(reverse("accounts:api_token")).content.decode()
        assert "该令牌不存在或已被撤销" in page or "未找到要撤销的令牌" in page
    assert api_get(theirs.key).status_code == 200


def test_an_expired_token_is_listed_as_expired(client, staff_nanyang):
    token = services.issue_api_token(staff_nanyang)
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(days=1))
    client.force_login(staff_nanyang)
    assert "已过期" in client.get(reverse("accounts:api_token")).content.decode()


def test_the_admin_lists_tokens_without_keys_and_cannot_add_one(client, staff_nanyang):
    token = services.issue_api_token(staff_nanyang)
    root = User.objects.create_superuser("root_tokens", password="Root-pass-2021")
    client.force_login(root)
    listing = client.get(reverse("admin:accounts_apitoken_changelist"))
    assert listing.status_code == 200
    assert token.prefix in listing.content.decode()
    assert token.key not in listing.content.decode()
    assert client.get(reverse("admin:accounts_apitoken_add")).status_code == 403
    delete = reverse("admin:accounts_apitoken_delete", args=[token.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert api_get(token.key).status_code == 401


# ------------------------------------------------------------------ upgrade


def test_the_migration_carries_old_drf_tokens_over_for_active_users(staff_nanyang, viewer_nanyang):
    """A database upgraded from DRF's authtoken: active users' keys keep working (30 days),
    the old table is emptied; inactive users' keys are dropped."""
    viewer_nanyang.is_active = False
    viewer_nanyang.save(update_fields=["is_active"])
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY,"
            " created timestamp with time zone NOT NULL, user_id integer NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, now(), %s), (%s, now(), %s)",
            ["a" * 40, staff_nanyang.pk, "b" * 40, viewer_nanyang.pk],
        )
    migration = importlib.import_module("accounts.migrations.0004_api_tokens")

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.carry_over_drf_tokens(apps, editor)

    carried = ApiToken.objects.get(digest=ApiToken.digest_of("a" * 40))
    assert carried.user == staff_nanyang
    assert timedelta(days=29) < carried.expires - timezone.now() <= timedelta(days=30)
    assert not ApiToken.objects.filter(digest=ApiToken.digest_of("b" * 40)).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)
    assert api_get("a" * 40).status_code == 200
