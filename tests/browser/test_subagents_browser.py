"""Background subagents in a real Chromium: the Agents panel with a running and a finished
subagent, a transcript watched live, the traces nested under the spawning call, the report
card in the conversation, the browser notification, and Stop on a phone."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from support.browser import PHONE, open_app
from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer

pytestmark = pytest.mark.browser

# Streamed over about six seconds.
SLOW = Reply.text(" ".join(f"slow{i}" for i in range(40)), chunk_delay_s=0.15)
# The page's Notification, recorded; the page is told it is out of sight, as in another tab.
FAKE_NOTIFICATIONS = """
window.shown = [];
window.Notification = class {
  static permission = "default";
  static async requestPermission() { this.permission = "granted"; return "granted"; }
  constructor(title, options) { window.shown.push({ title, ...options }); }
  close() {}
};
document.hasFocus = () => false;
"""


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    return content if isinstance(content, str) else json.dumps(content)


def helpers(*names: str, slow: Reply = SLOW) -> Callable[[dict[str, Any]], Reply]:
    """The parent spawns `helper <name>` for each name and answers at once; each helper reads
    a file, then "fast" answers at once and the others answer `slow`; a report gets a reply."""

    def respond(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        first = next(_text(m) for m in messages if m["role"] == "user")
        last = messages[-1]
        if first.startswith("task "):
            if last["role"] == "user":
                return Reply.tool_calls([("read_file", {"path": "README.md"})])
            if first == "task fast":
                return Reply.text("The fast helper read the README.")
            return slow
        if last["role"] == "user" and _text(last) == "go":
            return Reply.tool_calls(
                [
                    ("spawn_subagent", {"prompt": f"task {name}", "label": f"helper {name}"})
                    for name in names
                ]
            )
        if last["role"] == "tool":
            return Reply.text("The helpers are on it.")
        return Reply.text("Noted the report.")

    return respond


def start(page: Page, server: LiveServer) -> None:
    chat = server.new_chat()
    open_app(page, server, f"#/chats/{chat['id']}")
    page.get_by_label("message", exact=True).fill("go")
    page.get_by_label("message", exact=True).press("Enter")


def test_agents_panel_shows_running_and_finished_subagents_and_their_reports(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.responder = helpers("fast", "slow")
    page.add_init_script(FAKE_NOTIFICATIONS)
    panels = page.get_by_role("complementary", name="panels")

    chat = fake_live_server.new_chat()
    open_app(page, fake_live_server, f"#/chats/{chat['id']}")
    panels.get_by_role("tab", name="Agents").click()
    # Asked for only from the button, never on load; on before the helpers start, since the
    # fast one ends within moments.
    assert page.evaluate("Notification.permission") == "default"
    panels.get_by_role("button", name="Notify me when a subagent ends").click()
    expect(panels.get_by_role("status")).to_contain_text("Browser notifications are on")
    page.get_by_label("message", exact=True).fill("go")
    page.get_by_label("message", exact=True).press("Enter")

    fast = panels.locator('.agent:has(.agent-open:text-is("helper fast"))')
    slow = panels.locator('.agent:has(.agent-open:text-is("helper slow"))')
    expect(fast).to_have_attribute("data-status", "succeeded")
    expect(slow).to_have_attribute("data-status", "running")
    expect(fast.locator(".agent-calls")).to_have_text("1 tool call")
    expect(fast.locator(".agent-tokens")).to_contain_text("tokens")
    expect(slow.get_by_role("button", name="stop helper slow")).to_be_visible()
    expect(fast.get_by_role("button", name="stop helper fast")).to_have_count(0)
    elapsed = slow.locator(".agent-elapsed")
    before = elapsed.inner_text()
    expect(elapsed).not_to_have_text(before)  # the clock ticks while it runs

    # The fast helper's report: a card in the conversation, not a message of the user.
    conversation = page.locator(".conversation")
    card = conversation.locator('.subagent-report[data-status="succeeded"]').first
    expect(card).to_contain_text("helper fast finished — succeeded")
    expect(conversation.locator(".msg.user .bubble")).to_have_count(1)
    card.get_by_text("answer · 1 line").click()
    expect(card).to_contain_text("The fast helper read the README.")
    shown = page.evaluate("window.shown")
    assert [n["title"] for n in shown] == ["helper fast finished — succeeded"]
    assert shown[0]["body"] == "The fast helper read the README."

    # The slow helper opened: its transcript streams live, then it ends.
    slow.get_by_role("button", name="helper slow", exact=True).click()
    detail = panels.get_by_role("region", name="subagent helper slow")
    transcript = detail.get_by_label("transcript")
    expect(transcript.locator(".msg.user")).to_have_text("task slow")
    expect(transcript.locator(".tool-name")).to_have_text("read_file")
    expect(transcript.locator(".streaming")).to_contain_text("slow5")
    expect(transcript.locator(".msg.assistant:not(.streaming)").last).to_contain_text(
        "slow39", timeout=20_000
    )
    expect(detail.locator(".agent-status")).to_have_text("succeeded")
    detail.get_by_text("Traces", exact=True).click()
    expect(detail.locator(".trace-call")).to_have_count(3)  # two model calls and read_file
    expect(conversation.get_by_text("helper slow finished — succeeded")).to_be_visible()

    # In the Traces panel, each spawn_subagent call holds its subagent's calls.
    panels.get_by_role("tab", name="Traces").click()
    spawn = panels.locator('.trace-call:has(.trace-name:text-is("▸ spawn_subagent"))')
    expect(spawn).to_have_count(2)
    spawn.first.get_by_role("button", name="the subagent's calls").click()
    nested = spawn.first.locator(".subagent-traces .trace-call")
    expect(nested).to_have_count(3)
    expect(nested.filter(has_text="read_file")).to_have_count(1)


def test_on_a_phone_a_running_subagent_is_stopped_from_the_panel(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    # Its model takes its time to answer: the subagent is stopped while it waits.
    fake_model_server.responder = helpers("stuck", slow=Reply.text("too late", delay_s=30))
    page.set_viewport_size(PHONE)
    start(page, fake_live_server)
    page.get_by_role("button", name="show panels").click()
    panels = page.get_by_role("complementary", name="panels")
    panels.get_by_role("tab", name="Agents").click()
    stuck = panels.locator(".agent").filter(has_text="helper stuck")
    expect(stuck).to_have_attribute("data-status", "running")
    width = page.evaluate("innerWidth")
    box = stuck.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    assert panels.evaluate("el => el.scrollWidth <= el.clientWidth")

    expect(stuck.locator(".agent-calls")).to_have_text("1 tool call")  # its model is thinking
    stuck.get_by_role("button", name="stop helper stuck").click()
    expect(stuck).to_have_attribute("data-status", "cancelled")
    expect(stuck.get_by_role("button", name="stop helper stuck")).to_have_count(0)
    panels.get_by_role("button", name="hide panels").click()
    card = page.locator('.subagent-report[data-status="cancelled"]')
    expect(card).to_contain_text("helper stuck finished — cancelled")
    card.get_by_role("button", name="Open").click()
    expect(panels.get_by_role("region", name="subagent helper stuck")).to_be_in_viewport()
