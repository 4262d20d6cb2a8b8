"""A headless Chromium for browser tests, shared by the whole session.

    from support.browser import browser, page  # in a conftest.py

`page` is a fresh browser context per test; `open_app(page, server)` signs in the way a user
does, through the URL `boocode serve` prints. Chromium is `/usr/bin/chromium`, or the file
BOOCODE_CHROMIUM names; without it the browser tests are skipped, unless
BOOCODE_REQUIRE_BROWSER is set (CI), when they fail. Every browser fixture starts with
`chromium_executable()`, so none errors at set-up on a machine without a browser.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from support.live_server import LiveServer

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


BROWSER_FIXTURES = frozenset({"browser", "chromium"})


def chromium_path() -> Path:
    return Path(os.environ.get("BOOCODE_CHROMIUM") or DEFAULT_CHROMIUM)


def _missing(path: Path) -> str | None:
    if path.is_file() and os.access(path, os.X_OK):
        return None
    return f"{path} is missing: install it with `apt-get install chromium`"


def missing_chromium() -> str | None:
    """Why the browser tests cannot run here; None when they can, or must (CI)."""
    if os.environ.get("BOOCODE_REQUIRE_BROWSER"):
        return None
    return _missing(chromium_path())


def chromium_executable() -> str:
    """The Chromium to drive; skips the test (fails it under BOOCODE_REQUIRE_BROWSER) if absent."""
    path = chromium_path()
    reason = _missing(path)
    if reason is not None:
        if os.environ.get("BOOCODE_REQUIRE_BROWSER"):
            pytest.fail(f"BOOCODE_REQUIRE_BROWSER is set but {path} is missing")
        pytest.skip(reason)
    return str(path)


# Module-scoped: sync Playwright holds the thread's event loop while it runs, and the
# asyncio tests of other modules need it back.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_executable()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def open_app(page: Page, server: LiveServer, fragment: str = "") -> None:
    """Open the access URL, as a user does; the server swaps the token for a cookie.

    `fragment` (`#/chats/<id>`) survives the redirect, as it does in any browser.
    """
    page.goto(f"{server.url}/?token={server.token}{fragment}")
    page.wait_for_url(f"{server.url}/{fragment}")
