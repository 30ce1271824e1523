"""Issue 20 (Hardening 2) item 7: behind a proxy the lock-out must not become a denial of
service. The client address comes from X-Forwarded-For only as far as the configured
proxies vouch for it, a lock-out holds a user name *and* an address, and repeated failures
slow down before they lock: a try too soon after the last failure is refused 429 请稍后再试
(not counted, the password not even checked) until a growing few seconds have passed."""

import os
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.db.models import F, Sum
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from core import security
from tests.test_security import run_django

PASSWORD = "Pass-word-2021"  # tests/conftest.make_user
TOKEN_URL = "/api/v1/auth/token/"
PROXY = "10.0.0.2"  # nginx in front of the app


@pytest.fixture(autouse=True)
def fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def failures() -> int:
    return AccessAttempt.objects.aggregate(total=Sum("failures_since_start"))["total"] or 0


def wait(seconds: float) -> None:
    """As if ``seconds`` had passed since the last recorded failure."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(seconds=seconds))


def login(client, username: str, password: str = "wrong-password", **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


# ------------------------------------------------------------------ the client address


def address(settings, remote: str, forwarded: str | None = None, count: int = 0, networks=()):
    settings.TRUSTED_PROXY_COUNT = count
    settings.TRUSTED_PROXY_NETWORKS = list(networks)
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return security.client_ip(RequestFactory().get("/", **meta))


def test_without_proxies_the_header_is_ignored(settings):
    assert address(settings, "198.51.100.7", "203.0.113.9") == "198.51.100.7"


def test_one_proxy_the_last_entry_is_the_address_nginx_saw(settings):
    # The client sent its own header; nginx appended the address it really came from.
    forged = "1.2.3.4, 203.0.113.9"
    assert address(settings, PROXY, forged, count=1) == "203.0.113.9"
    assert address(settings, PROXY, "203.0.113.9", count=1) == "203.0.113.9"


def test_two_proxies_the_second_entry_from_the_right(settings):
    # client → outer proxy (appends the client) → inner proxy (appends the outer) → app
    assert address(settings, PROXY, "6.6.6.6, 203.0.113.9, 10.0.0.1", count=2) == "203.0.113.9"


def test_fewer_entries_than_proxies_or_no_address_falls_back_to_the_peer(settings):
    assert address(settings, PROXY, "203.0.113.9", count=2) == PROXY
    assert address(settings, PROXY, None, count=1) == PROXY
    assert address(settings, PROXY, "not-an-address", count=1) == PROXY
    assert address(settings, PROXY, "203.0.113.9:5555", count=1) == PROXY


def test_addresses_are_written_the_same_way(settings):
    assert address(settings, PROXY, "2001:DB8:0:0::1", count=1) == "2001:db8::1"


def test_with_proxy_networks_only_those_proxies_are_believed(settings):
    networks = ["10.0.0.0/24"]
    assert address(settings, PROXY, "203.0.113.9", 1, networks) == "203.0.113.9"
    # Straight to the app port, past nginx: the header is the client's own invention.
    assert address(settings, "198.51.100.7", "203.0.113.9", 1, networks) == "198.51.100.7"


def test_a_bad_proxy_network_stops_the_start():
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="fireplan.settings")
    result = run_django("", env | {"TRUSTED_PROXY_NETWORKS": "10.0.0.0/24,nginx"})
    assert "TRUSTED_PROXY_NETWORKS: 'nginx' is not an IP address or network" in result.stderr


# ------------------------------------------------------------------ lock-out behind a proxy


def behind_proxy(settings, client_address: str) -> Client:
    settings.TRUSTED_PROXY_COUNT = 1
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_address)


def test_an_attacker_behind_the_proxy_does_not_lock_out_the_real_user(settings, staff_nanyang):
    attacker = behind_proxy(settings, "203.0.113.9")
    for _ in range(5):
        wait(60)
        login(attacker, "staff_nanyang")
    assert login(attacker, "staff_nanyang", PASSWORD).status_code == 429

    # Same proxy, same user name, another client address: not locked out.
    user = behind_proxy(settings, "198.51.100.7")
    assert login(user, "staff_nanyang", PASSWORD).status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}


def test_a_forged_header_does_not_escape_the_lock_out(settings, staff_nanyang):
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client(REMOTE_ADDR=PROXY)
    for index in range(5):
        wait(60)  # a new forged address each time; nginx appends the real one
        forged = f"192.0.2.{index}, 203.0.113.9"
        login(client, "staff_nanyang", HTTP_X_FORWARDED_FOR=forged)
    response = login(
        client, "staff_nanyang", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.9"
    )
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()


def test_the_lock_out_holds_user_name_and_address_together(settings):
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


# ------------------------------------------------------------------ slow-down


def test_the_wait_grows_and_is_capped(settings):
    settings.LOGIN_SLOWDOWN_AFTER = 3
    assert [security.slowdown_seconds(n) for n in range(1, 10)] == [0, 0, 2, 4, 8, 16, 32, 60, 60]
    settings.LOGIN_SLOWDOWN_AFTER = 0
    assert security.slowdown_seconds(9) == 0


def test_after_three_failures_the_next_try_must_wait_a_growing_few_seconds(client, staff_nanyang):
    for _ in range(3):
        assert login(client, "staff_nanyang").status_code == 200
    assert failures() == 3

    refused = login(client, "staff_nanyang")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "2"
    assert "请稍后再试" in refused.content.decode()
    assert "2 秒" in refused.content.decode()
    # The right password waits as well (or the answer would tell it apart), and refused
    # tries are not failures: the password was never checked.
    assert login(client, "staff_nanyang", PASSWORD).status_code == 429
    assert failures() == 3

    wait(2)
    assert login(client, "staff_nanyang").status_code == 200  # the 4th failure
    refused = login(client, "staff_nanyang")
    assert (refused.status_code, refused["Retry-After"]) == (429, "4")

    wait(4)
    assert login(client, "staff_nanyang", PASSWORD).status_code == 302
    assert failures() == 0  # a success resets the count


def test_the_slow_down_ends_in_the_lock_out(client, staff_nanyang):
    for _ in range(4):
        wait(60)
        login(client, "staff_nanyang")
    wait(60)
    response = login(client, "staff_nanyang")  # the 5th failure
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert "登录失败次数过多" in response.content.decode()


def test_the_slow_down_holds_a_user_name_and_an_address(client, staff_nanyang, viewer_nanyang):
    for _ in range(3):
        login(client, "staff_nanyang")
    assert login(client, "staff_nanyang").status_code == 429
    assert login(client, "viewer_nanyang", PASSWORD).status_code == 302
    other = Client(REMOTE_ADDR="10.9.8.7")
    assert login(other, "staff_nanyang", PASSWORD).status_code == 302


def test_unknown_user_names_are_slowed_down_the_same(client, staff_nanyang):
    def answers(username):
        pages = [login(client, username) for _ in range(4)]
        return [(page.status_code, page.get("Retry-After")) for page in pages]

    assert answers("staff_nanyang") == answers("nobody_here")


def test_the_token_endpoint_is_slowed_down_with_a_stable_code(staff_nanyang):
    api = APIClient()
    body = {"username": "staff_nanyang", "password": "nope"}
    for _ in range(3):
        assert api.post(TOKEN_URL, body).status_code == 400
    response = api.post(TOKEN_URL, {"username": "staff_nanyang", "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["code"] == "slow_down"
    assert "请稍后再试" in response.json()["message"]
    assert response["Retry-After"] == "2"
    wait(2)
    assert (
        api.post(TOKEN_URL, {"username": "staff_nanyang", "password": PASSWORD}).status_code == 200
    )


def test_the_admin_login_is_slowed_down_too(client, staff_user):
    url = reverse("admin:login")
    for _ in range(3):
        client.post(url, {"username": "staff_nanjing", "password": "wrong"})
    response = client.post(url, {"username": "staff_nanjing", "password": "wrong"})
    assert response.status_code == 429
    assert "请稍后再试" in response.content.decode()


def test_the_slow_down_can_be_switched_off(client, settings, staff_nanyang):
    settings.LOGIN_SLOWDOWN_AFTER = 0
    for _ in range(4):
        assert login(client, "staff_nanyang").status_code == 200
