"""The header says whether commands are confined: quietly when they are, loudly when not."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from support.live_server import LiveServer


def _open(page: Page, server: LiveServer, fragment: str = "") -> None:
    page.goto(f"{server.url}/?token={server.token}{fragment}")
    page.wait_for_selector(".sidebar")


def test_an_unsandboxed_server_is_marked_in_the_header(
    page: Page, unsandboxed_server: LiveServer
) -> None:
    _open(page, unsandboxed_server)

    mark = page.locator(".sidebar .badge.sandbox")
    expect(mark).to_have_text("unsandboxed")
    expect(mark).to_have_class("badge sandbox unconfined")
    assert "cannot create a sandbox on this machine" in str(mark.get_attribute("title"))


def test_a_confined_server_shows_its_network_setting(
    page: Page, confined_server: LiveServer
) -> None:
    _open(page, confined_server)

    mark = page.locator(".sidebar .badge.sandbox")
    expect(mark).to_have_text("sandboxed · no network")
    assert str(mark.get_attribute("title")).startswith("commands run in bubblewrap")


def test_the_mark_shows_on_a_phone_too(page: Page, unsandboxed_server: LiveServer) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    _open(page, unsandboxed_server)

    expect(page.locator(".topbar .badge.sandbox")).to_be_visible()
    expect(page.locator(".topbar .badge.sandbox")).to_have_text("unsandboxed")


def test_an_open_chat_shows_the_sandbox_its_workspace_narrowed(
    page: Page, unsandboxed_server: LiveServer, required_chat: str
) -> None:
    _open(page, unsandboxed_server, f"#/chats/{required_chat}")

    mark = page.locator(".sidebar .badge.sandbox")
    expect(page.locator(".chat-header .chat-workspace")).to_have_text("required-project")
    expect(mark).to_have_text("commands refused")
    expect(mark).to_have_attribute("title", re.compile('^commands are refused: .*"required"'))
    page.get_by_role("button", name="+ New chat").click()
    expect(mark).to_have_text("unsandboxed")


def test_a_sandbox_state_that_cannot_be_fetched_is_marked_unknown(
    page: Page, confined_server: LiveServer
) -> None:
    page.route(
        "**/api/sandbox",
        lambda route: route.fulfill(
            status=503, content_type="application/json", body='{"detail": "the server is busy"}'
        ),
    )
    _open(page, confined_server)

    mark = page.locator(".sidebar .badge.sandbox")
    expect(mark).to_have_text("sandbox unknown")
    expect(mark).to_have_class("badge sandbox unknown")
    expect(mark).to_have_attribute(
        "title", "whether commands are confined is unknown: the server is busy"
    )
