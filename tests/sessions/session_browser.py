"""A shared headless Chromium for the sessions browser tests (async API: it shares the test
event loop with the async HTTP and WebSocket helpers)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright

from support.browser import CHROMIUM_ARGS, chromium_executable
from support.live_server import LiveServer


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    executable = chromium_executable()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest.fixture
async def page(chromium: Browser) -> AsyncIterator[Page]:
    context = await chromium.new_context()
    page = await context.new_page()
    page.set_default_timeout(15_000)
    yield page
    await context.close()


async def open_chat(page: Page, server: LiveServer, chat_id: str) -> None:
    """Hand the token over (it becomes a cookie), then open the chat."""
    await page.goto(f"{server.url}/?token={server.token}")
    # A fresh document, so the page reads the hash at start instead of racing a hashchange.
    await page.goto("about:blank")
    await page.goto(f"{server.url}/#/chats/{chat_id}")
    await page.wait_for_selector(".conversation")


async def open_panel(page: Page, title: str) -> None:
    await page.get_by_role("tab", name=title).click()
