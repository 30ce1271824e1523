"""Browser tests: Playwright for Python driving Debian's Chromium (/usr/bin/chromium), headless,
against pytest-django's live server. Every request to another host is blocked and fails the
test; axe-core (vendored in tests/browser/vendor, never served by the app) checks the pages.

Without Chromium the tests skip with a notice — except in CI (CI=true), where they fail.
Install: ``apt-get install -y chromium fonts-noto-cjk`` and ``pip install -e .[test]``.

The live server needs committed data, so these tests are transactional: the database is
flushed after each one and the ``seeded`` fixture reloads the seed plans. They run last (see
``pytest_collection_modifyitems``) so that the flush does not surprise the other tests.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
HERE = Path(__file__).parent
ARTIFACTS = HERE / "artifacts"
AXE = HERE / "vendor" / "axe.min.js"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "Pass-word-2021"  # tests/conftest.make_user
CSP_PREFIX = "CSP violation:"
CSP_LISTENER = """document.addEventListener("securitypolicyviolation", (event) => {
  console.error("CSP violation: " + event.violatedDirective + " " + event.blockedURI
    + " " + event.sourceFile + ":" + event.lineNumber);
});"""


def pytest_collection_modifyitems(session, config, items):
    """Browser tests last: they flush the database when they end."""
    items.sort(key=lambda item: HERE in Path(str(item.fspath)).parents)


def _skip_or_fail(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(f"注意 NOTICE: browser tests skipped — {reason}")


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        _skip_or_fail(f"{CHROMIUM} not found; apt-get install -y chromium fonts-noto-cjk")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("playwright not installed; pip install -e .[test]")
    # Playwright's sync API keeps an asyncio loop running in this thread, which makes Django
    # refuse ORM calls from the test body; the calls are in fact synchronous, so allow them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True
        )
        yield browser
        browser.close()


class Session:
    """One user's browser context: logs in, records any request to another host."""

    def __init__(self, browser, base_url: str):
        self.base_url = base_url
        self.context = browser.new_context(
            base_url=base_url, locale="zh-CN", viewport={"width": 1280, "height": 900}
        )
        self.context.set_default_timeout(10_000)
        self.foreign: list[str] = []
        self.context.route("**/*", self._guard)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        # Content-Security-Policy: any violation fails the test. Chromium reports each on the
        # console; the page's securitypolicyviolation event is reported there too, in case.
        self.csp_violations: list[str] = []
        self.context.add_init_script(CSP_LISTENER)
        self.page.on("console", self._console)

    def _guard(self, route):
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            self.foreign.append(route.request.url)
            route.abort()

    def _console(self, message) -> None:
        text = message.text
        if text.startswith(CSP_PREFIX) or "Content Security Policy" in text:
            self.csp_violations.append(f"{self.page.url}: {text}")

    def login(self, username: str) -> Session:
        page = self.page
        page.goto("/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "/accounts/login/" not in page.url, f"login failed for {username}"
        return self

    def shot(self, name: str, *, full_page: bool = True) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)

    def axe_violations(self) -> list[dict]:
        """Serious and critical WCAG 2 A/AA violations on the current page."""
        # Evaluated through the DevTools protocol: a <script> tag with it inline would be
        # refused by the pages' Content-Security-Policy.
        self.page.evaluate(AXE.read_text(encoding="utf-8"))
        result = self.page.evaluate(
            """() => axe.run(document, {runOnly: {type: 'tag',
                 values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"""
        )
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    def close(self) -> None:
        self.context.close()
        assert not self.foreign, f"pages tried to reach other hosts: {self.foreign}"
        assert not self.errors, f"JavaScript errors: {self.errors}"
        violations = list(dict.fromkeys(self.csp_violations))[:10]
        assert not violations, f"Content-Security-Policy violations: {violations}"


@pytest.fixture
def open_session(browser, live_server, settings):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    sessions: list[Session] = []

    def open_(username: str) -> Session:
        session = Session(browser, live_server.url).login(username)
        sessions.append(session)
        return session

    yield open_
    for session in sessions:
        session.close()
