"""The auto-fix panel in a real Chromium: the turn's marker appears live; the switch persists."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from autofix.projects import python_project
from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer

BROKEN = "def double(x):\n    return 2 * (x\n"
FIXED = "def double(x):\n    return 2 * x\n"

pytestmark = pytest.mark.browser


def test_the_panel_marks_the_turn_and_switches_auto_fix_off_for_the_chat(
    page: Page, autofix_server: LiveServer, fake_model: FakeModelServer
) -> None:
    server = autofix_server
    (server.workspace / ".boocode" / "config.toml").unlink(missing_ok=True)
    python_project(server.workspace)
    chat = server.new_chat()
    page.goto(f"{server.url}/?token={server.token}")
    page.wait_for_selector(".sidebar")
    page.goto(f"{server.url}/#/chats/{chat['id']}")
    page.get_by_role("tab", name="Auto-fix").click()
    switch = page.get_by_role("switch", name="auto-fix for this chat")
    expect(switch).to_be_checked()
    expect(page.locator(".autofix-commands")).to_have_text("ruff check .")
    expect(page.locator(".autofix-reason")).to_have_text("pyproject.toml: ruff ([tool.ruff])")

    fake_model.script(
        [
            Reply.tool_calls([("write_file", {"path": "pkg/mod.py", "content": BROKEN})]),
            Reply.tool_calls([("write_file", {"path": "pkg/mod.py", "content": FIXED})]),
            Reply.text("Fixed."),
        ]
    )
    with server.client() as http:
        http.post(f"/api/chats/{chat['id']}/messages", json={"content": "go"}).raise_for_status()

    turn = page.locator(".autofix-turn[data-turn='1']")
    expect(turn.locator(".autofix-marker")).to_have_text("auto-fix · passed")
    expect(turn.locator(".autofix-run")).to_have_count(2)
    expect(turn.locator(".autofix-run").first).to_have_attribute("data-status", "failed")
    expect(turn.locator(".autofix-run").first).to_contain_text("exit 1")

    switch.click()
    expect(switch).not_to_be_checked()
    expect(page.locator(".autofix-reason")).to_contain_text("switched off for this chat")
    with server.client() as http:
        assert http.get(f"/api/chats/{chat['id']}/autofix").json()["chat_setting"] is False

    page.reload()
    page.get_by_role("tab", name="Auto-fix").click()
    expect(page.get_by_role("switch", name="auto-fix for this chat")).not_to_be_checked()
    page.get_by_role("button", name="Use the project default (on)").click()
    expect(page.get_by_role("switch", name="auto-fix for this chat")).to_be_checked()
