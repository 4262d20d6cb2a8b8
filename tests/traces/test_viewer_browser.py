"""The trace viewer in a real Chromium: a turn's calls appear live, failures stand out."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer

SLOW_COMMAND = ["python3", "-c", "import time; time.sleep(1.5)"]

pytestmark = pytest.mark.browser


def test_a_turn_shows_up_live_in_the_trace_viewer(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    server = fake_live_server
    fake_model_server.reset()
    fake_model_server.script(
        [
            Reply.tool_calls(
                [
                    ("read_file", {"path": "README.md"}),
                    ("read_file", {"path": "missing.txt"}),
                    ("run_command", {"argv": SLOW_COMMAND}),
                ],
                reasoning="Look around first.",
            ),
            Reply.text("Done looking.", delay_s=1.0),
        ]
    )
    chat = server.new_chat()
    page.goto(f"{server.url}/?token={server.token}")
    page.wait_for_selector(".sidebar")  # the shell is up and follows hash changes
    page.goto(f"{server.url}/#/chats/{chat['id']}")
    page.get_by_role("tab", name="Traces").click()
    expect(page.locator(".traces-empty")).to_be_visible()

    with httpx.Client(base_url=server.url, headers=server.headers()) as http:
        http.post(f"/api/chats/{chat['id']}/messages", json={"content": "look"}).raise_for_status()

    tools = page.locator(".trace-call[data-kind=tool]")
    # Live: the slow command is on screen while it runs, then its outcome replaces `running`.
    running = page.locator(".trace-call[data-kind=tool][data-outcome=running]")
    expect(running).to_have_count(1)
    expect(running.locator(".trace-name")).to_contain_text("run_command")
    expect(tools).to_have_count(3)
    expect(page.locator(".trace-call[data-kind=llm]")).to_have_count(2, timeout=20_000)
    expect(page.locator(".trace-call[data-outcome=running]")).to_have_count(0, timeout=20_000)

    outcomes = [tools.nth(i).get_attribute("data-outcome") for i in range(3)]
    assert outcomes == ["ok", "error", "ok"]
    failing = tools.nth(1)
    expect(failing).to_have_class("trace-call kind-tool outcome-error")
    expect(failing.locator(".trace-error")).to_contain_text("no such file")
    assert failing.evaluate("e => getComputedStyle(e).boxShadow") != "none"

    for call in page.locator(".trace-call").all():
        bar = call.locator(".trace-bar").bounding_box()
        assert bar is not None and bar["width"] > 0
        expect(call.locator(".trace-latency")).to_have_text(re.compile(r"^[0-9.]+ m?s$"))
    slow = tools.nth(2).locator(".trace-bar").bounding_box()
    quick = tools.nth(0).locator(".trace-bar").bounding_box()
    assert slow and quick and slow["width"] > 5 * quick["width"], "bars follow the waterfall"

    model_call = page.locator(".trace-call[data-kind=llm]").first
    tokens = model_call.locator(".trace-tokens")
    for label in ("prompt", "cached", "completion", "reasoning"):
        expect(tokens).to_contain_text(label)
    expect(page.locator(".trace-turn-header")).to_contain_text("1 failed")

    failing.locator(".trace-summary").click()
    expect(failing.locator(".trace-input")).to_contain_text('"path": "missing.txt"')
    expect(failing.locator(".trace-error-full")).to_contain_text("no such file")
