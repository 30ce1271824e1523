"""A login that ends while a liaison types keeps what was typed: the report form is sent,
the server sends the browser to the login page (with the way back), and after logging in the
form shows the typed values again with 「已恢复未提交的内容」 (static/core/keep-draft.js). Once
saved, the kept copy is gone."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.faults.conftest import build_world

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Pass-word-2021"  # tests/conftest.make_user


def test_a_session_that_expires_mid_form_keeps_what_was_typed(open_session):
    world = build_world()
    form_url = world.page(world.stations)
    session = open_session(world.liaison.username)
    page = session.page
    page.goto(form_url)
    page.get_by_label("数值", exact=True).fill("7")
    page.get_by_label("说明", exact=True).fill("城区消防站主体完工，待验收")

    # The login ends (expiry, a restart that lost the session store): the cookie is gone.
    session.context.clear_cookies(name=settings.SESSION_COOKIE_NAME)
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_load_state()

    assert "/accounts/login/" in page.url
    assert world.report(world.stations) is None
    page.fill("#id_username", world.liaison.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()

    assert page.url.endswith(form_url)
    notice = page.get_by_test_id("draft-restored")
    assert "已恢复未提交的内容" in notice.inner_text()
    assert page.get_by_label("数值", exact=True).input_value() == "7"
    assert page.get_by_label("说明", exact=True).input_value() == "城区消防站主体完工，待验收"
    session.shot("keep-draft-restored")

    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_load_state()
    assert world.report(world.stations).value == 7
    page.reload()
    assert page.get_by_test_id("draft-restored").count() == 0
    kept = page.evaluate("() => Object.keys(window.sessionStorage)")
    assert not [key for key in kept if key.startswith("keep-draft:")]
