"""Browser tests of the admin site: Playwright (Python) driving Debian's chromium against
one local stack (API, admin site, relays on virtual printers) shared by the module.

Every test leaves a screenshot in test-artifacts/screenshots/<test>.png (and one at each
``shot()`` it takes), so a failure can be looked at. ``./daojia test`` installs chromium
and a Chinese font; without chromium these tests skip, except in CI where they fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.local import demo_data
from infra.local.stack import LocalStack

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Without the networking flags chromium keeps calling Google's hosts, which this
# sandbox refuses; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TABLET = {"width": 1024, "height": 768}  # an iPad-class tablet at a store counter, landscape
# Desktop at head office, and the two tablet widths of a store counter (portrait iPad Air
# and iPad): key tests run at each.
WIDTHS = (1440, 820, 768)
# Short print deadlines so a stopped relay shows up in seconds, not minutes.
# Relays beat every 2 s, so a relay silent for 6 s is really gone (not between two beats).
FAST_PRINT_ENV = {
    "DAOJIA_PRINT_ACK_WITHIN_S": "3",
    "DAOJIA_RELAY_STALE_AFTER_S": "6",
    "DAOJIA_RELAY_HEARTBEAT_INTERVAL_S": "2",
}

pytestmark = pytest.mark.e2e


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(
            "CI=true but /usr/bin/chromium is missing: ./daojia test installs it"
        )
    skip = pytest.mark.skip(reason="no /usr/bin/chromium: run ./daojia test to install it")
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    with LocalStack(relays=True, extra_env=FAST_PRINT_ENV) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Site:
    """One browser tab on the admin site, with the steps tests repeat."""

    def __init__(self, page: Any, stack: LocalStack, name: str) -> None:
        self.page = page
        self.stack = stack
        self.name = name
        self.errors: list[str] = []
        self._shots = 0
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("console", self._console)

    def _console(self, msg: Any) -> None:
        """Every console error fails the test (a CSP violation, an invalid ``pattern``, an
        exception), except the browser's note of an HTTP error status: the API refusing a
        request is what some tests are about, and the page shows it."""
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {msg.text}")

    def open(self, path: str = "/") -> None:
        self.page.goto(f"{self.stack.admin_url}/#{path}")

    def sign_in(self, username: str) -> None:
        password = next(a["password"] for a in demo_data.staff() if a["username"] == username)
        self.open("/signin")
        self.page.get_by_label(re.compile("^(账号|Account)$")).fill(username)
        self.page.get_by_label(re.compile("^(密码|Password)$")).fill(password)
        self.page.get_by_role("button", name=re.compile("^(登录|Sign in)$")).click()
        self.page.get_by_role("button", name=re.compile("^(退出登录|Sign out)$")).wait_for()
        self.page.locator("main[aria-busy]").wait_for(state="detached")

    def publish(self, row_text: str, path: str) -> None:
        """Promotions and templates start as drafts (issue 18 item 5): approve the one
        listed on ``path`` in the row with ``row_text`` as hq-admin (signed in) and,
        where it needs a second person, as hq-ops too; then back as hq-admin on ``path``."""
        from playwright.sync_api import expect

        approve = re.compile("^审批通过$")

        def click_approve(then: str) -> None:
            rows = self.page.locator("main tbody tr", has_text=row_text)
            rows.filter(has=self.page.get_by_role("button", name=approve)).get_by_role(
                "button", name=approve
            ).click()
            expect(rows.first).to_contain_text(re.compile(then))
            self.page.locator("main[aria-busy]").wait_for(state="detached")

        def sign_out() -> None:
            self.page.get_by_role("button", name="退出登录").click()
            self.page.get_by_role("button", name=re.compile("^(登录|Sign in)$")).wait_for()

        click_approve("待审批 1/2|进行中|发放中")
        if "待审批 1/2" in self.page.locator("main tbody tr", has_text=row_text).first.inner_text():
            sign_out()
            self.sign_in("hq-ops")
            self.go(path)
            click_approve("进行中|发放中")
            sign_out()
            self.sign_in("hq-admin")
            self.go(path)

    def go(self, path: str) -> None:
        """Open a page of the site and wait until it has loaded."""
        self.open(path)
        self.page.wait_for_timeout(50)
        self.page.locator("main[aria-busy]").wait_for(state="detached")

    def nav_labels(self) -> list[str]:
        """Every page the nav offers, group by group (the other groups' pages are in
        the DOM but hidden until their tab is chosen)."""
        return [t.strip() for t in self.page.locator("#nav .nav-pages a").all_text_contents()]

    def nav_groups(self) -> list[str]:
        return [t.strip() for t in self.page.locator("#nav .nav-group").all_inner_texts()]

    def shot(self, label: str) -> Path:
        self._shots += 1
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTEFACTS / f"{self.name}-{self._shots:02d}-{label}.png"
        y = self.page.evaluate("scrollY")
        self.page.screenshot(path=str(path), full_page=True)
        # After a full-page capture chromium can keep a stale scroll offset that the next
        # focus snaps back to, moving the page between a click's press and release (the
        # click is lost). Scrolling away and back makes the offset current again.
        self.page.evaluate("(y) => { window.scrollTo(0, 0); window.scrollTo(0, y); }", y)
        return path


@pytest.fixture
def site(browser: Any, stack: LocalStack, request: pytest.FixtureRequest) -> Iterator[Site]:
    context = browser.new_context(viewport=TABLET, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15_000)
    tab = Site(page, stack, request.node.name)
    try:
        yield tab
    finally:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / f"{request.node.name}.png"), full_page=True)
        context.close()
    assert not tab.errors, tab.errors
