"""The sessions features in a real browser: refresh, restart, restore, branches, files."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from session_browser import open_chat, open_panel
from session_turns import run_turn, write_then_answer

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer

pytestmark = pytest.mark.browser


async def _turns(server: LiveServer, chat_id: str, fake_model: FakeModelServer, name: str) -> None:
    for number in (1, 2, 3):
        fake_model.script(write_then_answer(name, f"v{number}\n", f"answer {number}"))
        await run_turn(server, chat_id, f"prompt {number}")


async def test_a_refresh_mid_turn_shows_the_turn_and_continues_it(
    page: Page, fake_live_server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat_id = fake_live_server.new_chat()["id"]
    words = " ".join(f"word{n}" for n in range(80))
    fake_model.script([Reply.text(words, chunk_delay_s=0.04)])
    await open_chat(page, fake_live_server, chat_id)
    await page.get_by_label("message").fill("stream a long answer")
    await page.get_by_label("message").press("Enter")
    await expect(page.locator(".conversation")).to_contain_text("word5")

    await page.reload()

    streamed = page.locator(".conversation")
    await expect(streamed).to_contain_text("word10")
    await expect(streamed).not_to_contain_text("word79")  # mid-turn: the end has not come yet
    await expect(streamed).to_contain_text("word79", timeout=20_000)
    await expect(page.locator(".send")).to_be_visible()
    shown = await page.locator(".conversation").inner_text()
    assert shown.count("word30 ") == 1  # once: the refresh neither lost nor repeated text


async def test_after_a_restart_the_chat_and_its_timeline_are_intact(
    page: Page, tmp_path: Path, fake_model: FakeModelServer
) -> None:
    env = {
        "BOOCODE_BASE_URL": fake_model.base_url,
        "BOOCODE_API_KEY": fake_model.api_key,
        "BOOCODE_MODEL": "fake-model",
    }
    server = LiveServer.start(tmp_path, env=env)
    try:
        chat_id = server.new_chat()["id"]
        await _turns(server, chat_id, fake_model, "kept.txt")
    finally:
        server.stop()
    server = LiveServer.start(tmp_path, env=env)
    try:
        await open_chat(page, server, chat_id)
        await expect(page.locator(".conversation")).to_contain_text("answer 3")
        await open_panel(page, "Timeline")
        turns = page.locator(".timeline-turn")
        await expect(turns).to_have_count(3)
        await expect(turns.nth(0)).to_contain_text("prompt 1")
        await expect(turns.nth(2)).to_contain_text("1 tool")
        await expect(turns.nth(2)).to_contain_text("succeeded")
        await turns.nth(0).locator(".timeline-jump").click()
        await expect(page.locator("#turn-1")).to_be_in_viewport()
        await open_panel(page, "Files")
        await expect(page.locator(".touched-file")).to_contain_text("kept.txt")
    finally:
        server.stop()


async def test_restore_continue_then_return_to_the_kept_branch(
    page: Page, fake_live_server: LiveServer, fake_model: FakeModelServer
) -> None:
    name = f"story-{uuid.uuid4().hex[:6]}.txt"
    chat_id = fake_live_server.new_chat()["id"]
    await _turns(fake_live_server, chat_id, fake_model, name)
    await open_chat(page, fake_live_server, chat_id)
    await open_panel(page, "Timeline")
    first = page.locator(".timeline-turn").nth(0)
    await first.get_by_role("button", name="Restore to here").click()
    await expect(first.locator(".restore-confirm")).to_contain_text(name)
    await first.get_by_role("button", name="Restore", exact=True).click()

    result = page.locator(".switch-result")
    await expect(result).to_contain_text(f"{name} restored")
    await expect(result).to_contain_text("Now on “Restored after turn 1 (#1)”, after turn 1.")
    await expect(result).to_contain_text("“Main” is kept")
    assert await result.evaluate("el => getComputedStyle(el).borderTopStyle") == "solid"
    assert (fake_live_server.workspace / name).read_text() == "v1\n"
    await expect(page.locator(".timeline-turn")).to_have_count(1)
    await expect(page.locator(".conversation")).not_to_contain_text("prompt 2")

    fake_model.script([Reply.text("the new path")])
    await page.get_by_label("message").fill("take another path")
    await page.get_by_label("message").press("Enter")
    await expect(page.locator(".conversation")).to_contain_text("the new path")
    await expect(page.locator(".timeline-turn")).to_have_count(2)

    options = page.get_by_label("branch").locator("option")
    await expect(options).to_have_text(
        ["Main · 3 turns", "Restored after turn 1 (#1) · 2 turns · current"]
    )
    await page.get_by_label("branch").select_option("0")
    await expect(page.locator(".timeline-turn")).to_have_count(3)
    await page.get_by_role("button", name="Continue on this branch").click()
    await expect(page.locator(".conversation")).to_contain_text("prompt 3")
    await expect(page.locator(".conversation")).not_to_contain_text("the new path")
    await expect(page.locator(".switch-result")).to_contain_text(f"{name} restored")
    assert (fake_live_server.workspace / name).read_text() == "v3\n"


async def test_file_restore_refuses_a_file_the_user_changed(
    page: Page, fake_live_server: LiveServer, fake_model: FakeModelServer
) -> None:
    name = f"mine-{uuid.uuid4().hex[:6]}.txt"
    chat_id = fake_live_server.new_chat()["id"]
    await _turns(fake_live_server, chat_id, fake_model, name)
    (fake_live_server.workspace / name).write_text("edited by the user\n")
    await open_chat(page, fake_live_server, chat_id)
    await open_panel(page, "Files")
    await expect(page.locator(".touched-file")).to_contain_text("changed since")
    await open_panel(page, "Timeline")
    second = page.locator(".timeline-turn").nth(1)
    await second.get_by_role("button", name="Restore to here").click()
    await second.get_by_role("button", name="Restore", exact=True).click()

    await expect(page.locator(".switch-result")).to_contain_text(f"{name} skipped")
    await expect(page.locator(".switch-result")).to_contain_text(
        "changed since the agent's last write"
    )
    assert (fake_live_server.workspace / name).read_text() == "edited by the user\n"
