"""The web page's finer points in a real Chromium: auto-fix notes, a phone-sized trace viewer,
and the trace viewer following the timeline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from support.browser import PHONE, open_app
from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer

pytestmark = pytest.mark.browser

BROKEN = "def double(x):\n    return 2 * (x\n"
FIXED = "def double(x):\n    return 2 * x\n"
CHECK = '[autofix]\ncommand = ["python3", "-m", "py_compile", "bad.py"]\n'

# Every box of the trace viewer that could run wider than the drawer, and what pokes out.
TRACES_OVERFLOW = """
() => {
  const wide = [];
  for (const el of document.querySelectorAll(
    '.panels, .panel-body, .traces, .trace-turn, .trace-call, .trace-summary, .trace-detail')) {
    if (el.scrollWidth > el.clientWidth) {
      wide.push(`${el.className}: ${el.scrollWidth} > ${el.clientWidth}`);
    }
  }
  for (const badge of document.querySelectorAll('.trace-outcome, .trace-latency')) {
    const turn = badge.closest('.trace-turn').getBoundingClientRect();
    const right = badge.getBoundingClientRect().right;
    if (right > turn.right) wide.push(`${badge.className} sticks out`);
  }
  const drawer = document.querySelector('.panels').getBoundingClientRect();
  if (drawer.right > innerWidth) wide.push('drawer');
  return wide;
}
"""

# True once the turn's trace section is wholly inside the panel's visible area.
TURN_IN_VIEW = """
(turn) => {
  const panel = document.querySelector('.panel-body');
  const box = panel.getBoundingClientRect();
  const section = document.querySelector(`.trace-turn[data-turn="${turn}"]`);
  if (!section) return false;
  const rect = section.getBoundingClientRect();
  return rect.top >= box.top - 1 && rect.bottom <= box.bottom + 1;
}
"""


def send(page: Page, text: str) -> None:
    page.get_by_label("message").fill(text)
    page.get_by_label("message").press("Enter")


@pytest.fixture
def autofix_workspace(fake_live_server: LiveServer) -> Iterator[LiveServer]:
    """The shared fake-model server's workspace with a failing-then-passing check configured."""
    config = fake_live_server.workspace / ".boocode" / "config.toml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(CHECK)
    yield fake_live_server
    config.unlink(missing_ok=True)  # other tests on this server write files without a check
    (fake_live_server.workspace / "bad.py").unlink(missing_ok=True)


def test_auto_fix_messages_show_as_notes_in_the_turn_not_as_user_bubbles(
    page: Page, autofix_workspace: LiveServer, fake_model_server: FakeModelServer
) -> None:
    server = autofix_workspace
    fake_model_server.reset()
    fake_model_server.script(
        [
            Reply.tool_calls([("write_file", {"path": "bad.py", "content": BROKEN})]),
            Reply.tool_calls([("write_file", {"path": "bad.py", "content": FIXED})]),
            Reply.text("Fixed the syntax error."),
        ]
    )
    chat = server.new_chat()
    open_app(page, server, f"#/chats/{chat['id']}")
    expect(page.locator(".conn")).to_have_text("live")

    send(page, "write bad.py")

    expect(page.locator(".msg.assistant .markdown").last).to_have_text("Fixed the syntax error.")
    notes = page.locator(".msg.autofix-note")
    expect(notes).to_have_count(2)
    expect(page.locator(".msg.user")).to_have_count(1)
    expect(page.locator(".msg.user")).to_have_text("write bad.py")
    expect(page.locator(".bubble:has-text('Auto-fix')")).to_have_count(0)
    expect(page.locator("#turn-1")).to_have_count(1)  # the timeline's anchor is the user's message

    failed, passed = notes.nth(0), notes.nth(1)
    expect(failed).to_have_attribute("data-status", "failed")
    command = failed.locator(".autofix-note-summary code")
    expect(command).to_have_text("python3 -m py_compile bad.py")
    expect(failed.locator("pre")).to_contain_text("SyntaxError")
    assert "monospace" in failed.locator("pre").evaluate("el => getComputedStyle(el).fontFamily")
    expect(passed).to_have_attribute("data-status", "passed")
    expect(passed).to_contain_text("passes now")
    expect(passed.locator("pre")).to_have_count(0)

    # The notes sit in the turn's order: user, failing check, passing check, final answer.
    order = page.eval_on_selector_all(
        ".conversation-inner > .msg",
        "els => els.map(e => e.classList.contains('autofix-note') ? 'note' : e.classList[1])",
    )
    assert [kind for kind in order if kind != "assistant"] == ["user", "note", "note"]
    assert order.index("note") < len(order) - 1 and order[-1] == "assistant"


def test_the_trace_viewer_fits_a_phone_drawer(page: Page, live_server: LiveServer) -> None:
    page.set_viewport_size(PHONE)
    chat = live_server.new_chat()
    open_app(page, live_server, f"#/chats/{chat['id']}")
    send(page, "What is in this project?")
    expect(page.locator(".msg.assistant:not(.streaming) .markdown").last).to_contain_text(
        "offline demo model"
    )

    page.get_by_label("show panels").click()
    page.get_by_role("tab", name="Traces").click()
    expect(page.locator(".trace-call")).to_have_count(7)
    expect(page.locator(".trace-call[data-kind='tool']")).to_have_count(3)  # nested, indented
    page.locator(".trace-summary").first.click()
    expect(page.locator(".trace-detail")).to_be_visible()

    assert page.evaluate(TRACES_OVERFLOW) == []
    page.get_by_label("hide panels").click()
    expect(page.locator(".app.drawer-panels")).to_have_count(0)


def test_the_trace_viewer_scrolls_to_the_turn_the_timeline_points_at(
    page: Page, live_server: LiveServer
) -> None:
    chat = live_server.new_chat()
    open_app(page, live_server, f"#/chats/{chat['id']}")
    for number in (1, 2, 3):
        send(page, f"question {number}")
        answers = page.locator(".msg.assistant:not(.streaming) .markdown:has-text('demo model')")
        expect(answers).to_have_count(number)
        expect(page.get_by_role("button", name="Send")).to_be_visible()

    page.get_by_role("tab", name="Traces").click()
    expect(page.locator(".trace-turn")).to_have_count(3)
    panel = page.locator(".panel-body")
    assert panel.evaluate("el => el.scrollHeight > el.clientHeight"), "too short to scroll"
    assert panel.evaluate("el => el.scrollTop") == 0
    assert not page.evaluate(TURN_IN_VIEW, 1), "turn 1 is in view before any focus"

    # A click in the timeline, then the traces tab: it opens at that turn.
    page.get_by_role("tab", name="Timeline").click()
    page.locator(".timeline-turn[data-turn='1'] .timeline-jump").click()
    page.get_by_role("tab", name="Traces").click()
    page.wait_for_function(TURN_IN_VIEW, arg=1)
    assert not page.evaluate(TURN_IN_VIEW, 3), "turn 3 is still in view"

    # With the traces on screen, the event alone scrolls them.
    page.evaluate(
        "() => dispatchEvent(new CustomEvent('boocode:focus-turn', { detail: { turn: 3 } }))"
    )
    page.wait_for_function(TURN_IN_VIEW, arg=3)
