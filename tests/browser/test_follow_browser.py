"""Following a chat in a real Chromium: the view follows the stream, "Jump to latest" after
scrolling up or a reload mid-turn, the banner while the server is down, a re-run call."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from support.browser import open_app
from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer

pytestmark = pytest.mark.browser

AT_END = "el => el.scrollHeight - el.scrollTop - el.clientHeight < 40"


def send(page: Page, text: str) -> None:
    page.get_by_label("message", exact=True).fill(text)
    page.get_by_label("message", exact=True).press("Enter")


def test_after_a_reload_mid_turn_the_view_follows_and_can_jump_to_latest(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    lines = "\n\n".join(f"line{i}" for i in range(400))
    fake_model_server.reset()
    # Slow enough that the stream is still going while the page reloads and scrolls, on a busy CI.
    fake_model_server.script([Reply.text(lines, chunk_delay_s=0.04)])
    chat = fake_live_server.new_chat()
    open_app(page, fake_live_server, f"#/chats/{chat['id']}")
    send(page, "many lines")
    streaming = page.locator(".streaming .markdown")
    expect(streaming).to_contain_text("line20")
    page.reload()
    expect(streaming).to_contain_text("line60")

    conversation = page.locator(".conversation")
    expect(streaming).to_contain_text("line90")
    assert conversation.evaluate(AT_END), "the view does not follow the stream after a reload"

    conversation.evaluate("el => el.scrollBy(0, -400)")
    jump = page.get_by_role("button", name="Jump to latest")
    expect(jump).to_contain_text("answer in progress")
    expect(streaming).to_contain_text("line150")
    assert not conversation.evaluate(AT_END), "scrolled up, the view must stay put"
    jump.click()
    expect(jump).to_have_count(0)
    expect(streaming).to_contain_text("line200")
    assert conversation.evaluate(AT_END)
    expect(page.locator(".msg.assistant:not(.streaming)")).to_have_count(1, timeout=30_000)
    assert conversation.evaluate(AT_END)


def test_while_the_server_is_down_the_banner_does_not_claim_the_turn_runs(
    page: Page, tmp_path: Path
) -> None:
    server = LiveServer.start(tmp_path / "down")
    try:
        chat = server.new_chat()
        open_app(page, server, f"#/chats/{chat['id']}")
        expect(page.locator(".conn")).to_have_text("live")
        server.stop()
        banner = page.locator(".banner.warn")
        expect(banner).to_contain_text("The server cannot be reached")
        expect(banner).not_to_contain_text("keeps running")
        expect(page.locator(".conn")).to_have_text("reconnecting…")
    finally:
        server.stop()


def test_a_call_rerun_after_a_restart_is_not_a_failure(page: Page, live_server: LiveServer) -> None:
    chat = live_server.new_chat()
    began = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        ("interrupted", began, 0.0),
        ("ok", began + timedelta(seconds=2), 850.0),
    ]
    with sqlite3.connect(live_server.data_dir / "boocode.sqlite") as db:
        for outcome, started, latency in rows:
            db.execute(
                "INSERT INTO tool_traces (session_id, chat_id, turn_number, kind, tool_name,"
                " input, started_at, finished_at, latency_ms, outcome, branch_id)"
                " VALUES ('run-1', ?, 1, 'llm', 'fake-model', '{}', ?, ?, ?, ?, 0)",
                (
                    chat["id"],
                    str(started),
                    str(started + timedelta(milliseconds=latency)),
                    latency,
                    outcome,
                ),
            )
    open_app(page, live_server, f"#/chats/{chat['id']}")
    page.get_by_role("tab", name="Traces").click()
    header = page.locator(".trace-turn-header")
    expect(header.locator(".outcome-rerun")).to_have_text("1 re-run")
    expect(header).not_to_contain_text("failed")


def test_a_stopped_tool_reads_cancelled_everywhere(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    marker = fake_live_server.workspace / "stopped.pid"
    sleeper = f"open({str(marker)!r}, 'w').write('1'); import time; time.sleep(60)"
    fake_model_server.reset()
    fake_model_server.script(
        [
            Reply.tool_calls(
                [("run_command", {"argv": ["python3", "-c", sleeper]}), ("list_files", {})]
            )
        ]
    )
    chat = fake_live_server.new_chat()
    open_app(page, fake_live_server, f"#/chats/{chat['id']}")
    send(page, "sleep a while")
    expect(page.locator(".tool-running")).to_have_count(2)
    while not marker.exists():  # the command has started
        page.wait_for_timeout(50)
    page.get_by_role("button", name="Stop").click()
    expect(page.locator(".note")).to_have_text("Stopped.")

    cards = page.locator(".tool")
    expect(cards.locator(".tool-state")).to_have_text(["cancelled", "cancelled"])
    expect(page.locator(".tool-failed")).to_have_count(0)
    page.get_by_role("tab", name="Timeline").click()
    expect(page.locator(".timeline-turn .timeline-meta")).to_contain_text("2 tool calls")
    expect(page.locator(".timeline-turn .timeline-meta")).not_to_contain_text("failed")
    page.get_by_role("tab", name="Traces").click()
    expect(page.locator(".trace-call[data-kind=tool] .trace-outcome")).to_have_text("cancelled")
    expect(page.locator(".trace-turn-header")).not_to_contain_text("failed")
