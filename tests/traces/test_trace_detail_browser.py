"""The trace viewer's detail, filters, totals and branch in a real Chromium."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from support.browser import open_app
from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer

pytestmark = pytest.mark.browser


def send(page: Page, text: str) -> None:
    page.get_by_label("message", exact=True).fill(text)
    page.get_by_label("message", exact=True).press("Enter")


def finished(page: Page, answers: int = 1) -> None:
    expect(page.locator(".msg.assistant:not(.streaming) .markdown")).to_have_count(
        answers, timeout=20_000
    )
    expect(page.locator(".streaming")).to_have_count(0)


def test_a_model_calls_detail_shows_what_it_received_and_returned(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.script(
        [
            Reply.tool_calls(
                [("read_file", {"path": "README.md"}), ("read_file", {"path": "missing.txt"})],
                reasoning="Read the readme first.",
            ),
            Reply.text("A sample project."),
        ]
    )
    chat = fake_live_server.new_chat()
    open_app(page, fake_live_server, f"#/chats/{chat['id']}")
    send(page, "What is this project?")
    finished(page)
    page.get_by_role("tab", name="Traces").click()

    turn = page.locator(".trace-turn[data-turn='1']")
    expect(turn.locator(".trace-totals")).to_have_text(
        re.compile(r"^2 model calls · 2 tool calls · [0-9.]+ m?s · [0-9,]+ tokens$")
    )
    expect(turn.locator(".trace-turn-header")).to_contain_text("1 failed")

    first = page.locator(".trace-call[data-kind=llm]").first
    first.locator(".trace-summary").click()
    received = first.get_by_role("region", name="received")
    expect(received.locator("h4")).to_have_text("Received · 1 new message of 2")
    expect(received.locator(".model-message.role-user")).to_contain_text("What is this project?")
    expect(received.locator(".model-system pre")).not_to_be_visible()
    received.get_by_text("System prompt").click()
    expect(received.locator(".model-system pre")).to_contain_text("BooCode")
    received.get_by_text(re.compile(r"^Tools · \d+ tools$")).click()
    expect(received.locator(".model-tool-list")).to_contain_text("read_file")

    returned = first.get_by_role("region", name="returned")
    expect(returned).to_contain_text("no text: the model asked for tools")
    returned.get_by_text("Reasoning · 1 line").click()
    expect(returned.locator(".model-reasoning pre")).to_have_text("Read the readme first.")
    expect(returned.locator(".model-tool-calls li")).to_have_count(2)
    expect(returned.locator(".model-tool-calls li").nth(1)).to_contain_text('"path": "missing.txt"')
    expect(returned.get_by_role("table", name="usage")).to_contain_text("prompt")

    second = page.locator(".trace-call[data-kind=llm]").nth(1)
    second.locator(".trace-summary").click()
    expect(second.locator(".model-received h4")).to_have_text("Received · 2 new messages of 5")
    expect(second.locator(".model-message.role-tool")).to_have_count(2)
    expect(second.locator(".model-returned .trace-output")).to_have_text("A sample project.")


def test_filters_totals_and_collapsing_turns(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.script(
        [
            Reply.tool_calls([("list_files", {}), ("read_file", {"path": "nope.txt"})]),
            Reply.text("First."),
            Reply.tool_calls([("read_file", {"path": "README.md"})]),
            Reply.text("Second."),
        ]
    )
    chat = fake_live_server.new_chat()
    open_app(page, fake_live_server, f"#/chats/{chat['id']}")
    send(page, "first")
    finished(page)
    send(page, "second")
    finished(page, 2)
    page.get_by_role("tab", name="Traces").click()
    calls = page.locator(".trace-call")
    expect(calls).to_have_count(7)

    page.get_by_label("kind").select_option("tool")
    expect(calls).to_have_count(3)
    page.get_by_label("tool", exact=True).select_option("read_file")
    expect(calls).to_have_count(2)
    page.get_by_label("errors only").check()
    expect(calls).to_have_count(1)
    expect(calls.locator(".trace-name")).to_contain_text("read_file")
    expect(page.locator(".trace-turn")).to_have_count(1)  # turn 2 has no failure: hidden
    page.get_by_role("button", name="clear").click()
    expect(calls).to_have_count(7)
    page.get_by_label("outcome").select_option("error")
    expect(calls).to_have_count(1)
    page.get_by_role("button", name="clear").click()

    toggle = page.locator(".trace-turn[data-turn='2'] .trace-turn-toggle")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(calls).to_have_count(4)
    toggle.click()
    expect(calls).to_have_count(7)


def test_the_viewer_shows_the_current_branch(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.script([Reply.text("one"), Reply.text("two"), Reply.text("two again")])
    chat = fake_live_server.new_chat()
    open_app(page, fake_live_server, f"#/chats/{chat['id']}")
    send(page, "one")
    finished(page)
    send(page, "two")
    finished(page, 2)
    page.get_by_role("tab", name="Traces").click()
    expect(page.locator(".trace-turn")).to_have_count(2)
    expect(page.locator(".trace-branch")).to_have_text("Main")

    with fake_live_server.client() as http:
        restored = http.post(f"/api/chats/{chat['id']}/restore", json={"turn": 1})
        assert restored.status_code == 200, restored.text
    # Named as the timeline names it.
    expect(page.locator(".trace-branch")).to_have_text("Restored after turn 1 (#1)")
    expect(page.locator(".trace-turn")).to_have_count(1)
    send(page, "two again")
    finished(page, 2)
    expect(page.locator(".trace-turn")).to_have_count(2)
    expect(page.locator(".trace-turn[data-turn='2'] .trace-call")).to_have_count(1)


def test_the_panel_can_be_widened_and_remembers_it(page: Page, live_server: LiveServer) -> None:
    chat = live_server.new_chat()
    open_app(page, live_server, f"#/chats/{chat['id']}")
    panels = page.locator(".panels")
    before = panels.bounding_box()
    handle = page.get_by_role("separator", name="resize panels")
    box = handle.bounding_box()
    assert before and box
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 200)
    page.mouse.down()
    page.mouse.move(box["x"] - 200, box["y"] + 200, steps=5)
    page.mouse.up()
    wider = panels.bounding_box()
    assert wider and wider["width"] > before["width"] + 150
    page.reload()
    expect(panels).to_have_attribute(
        "style", re.compile(rf"--panel-width: {round(wider['width'])}px")
    )
    again = panels.bounding_box()
    assert again and abs(again["width"] - wider["width"]) < 2
    handle.focus()
    page.keyboard.press("ArrowRight")
    narrower = panels.bounding_box()
    assert narrower and narrower["width"] < again["width"]


def test_numbers_read_the_same_everywhere_and_a_new_call_is_never_negative(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    chat = fake_live_server.new_chat()
    # This browser's clock runs 5 s behind the server's.
    page.clock.install(time=datetime.now() - timedelta(seconds=5))
    open_app(page, fake_live_server, f"#/chats/{chat['id']}")
    formats = page.evaluate(
        """async () => {
          const f = await import('/format.js');
          return [f.formatDuration(3550), f.formatDuration(-2101), f.formatDuration(125100),
                  f.formatTokens(101268), f.formatTokens(1300), f.plural(1, 'call'),
                  f.plural(3, 'call')];
        }"""
    )
    assert formats == [
        "3.55 s",
        "0.0 ms",
        "2 min 05 s",
        "101k tokens",
        "1,300 tokens",
        "1 call",
        "3 calls",
    ]

    sleeper = ["python3", "-c", "import time; time.sleep(2)"]
    fake_model_server.reset()
    fake_model_server.script(
        [Reply.tool_calls([("run_command", {"argv": sleeper})]), Reply.text("ok")]
    )
    page.get_by_role("tab", name="Traces").click()
    send(page, "wait")
    running = page.locator(".trace-call[data-outcome=running] .trace-latency")
    expect(running.first).to_be_visible()
    for latency in running.all_text_contents():
        assert not latency.startswith("-"), latency
    finished(page)
    for latency in page.locator(".trace-latency").all_text_contents():
        assert re.fullmatch(r"[0-9.]+ m?s", latency), latency


def test_a_turn_reads_one_duration_and_one_token_total_in_timeline_and_traces(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.script([Reply.tool_calls([("list_files", {})]), Reply.text("Listed.")])
    chat = fake_live_server.new_chat()
    open_app(page, fake_live_server, f"#/chats/{chat['id']}")
    send(page, "list the files")
    finished(page)
    with fake_live_server.client() as http:
        (run,) = http.get(f"/api/chats/{chat['id']}/timeline").json()["turns"]
    duration, tokens = page.evaluate(
        """async ([ms, tokens]) => {
          const f = await import('/format.js');
          return [f.formatDuration(ms), f.formatTokens(tokens)];
        }""",
        [run["duration_ms"], run["tokens"]],
    )

    page.get_by_role("tab", name="Timeline").click()
    timeline = page.locator(".timeline-turn[data-turn='1']")
    expect(timeline.locator(".timeline-duration")).to_have_text(duration)
    expect(timeline.locator(".timeline-tokens")).to_have_text(tokens)
    page.get_by_role("tab", name="Traces").click()
    # The run's duration, from its start to its end, not the shorter span of its calls.
    expect(page.locator(".trace-turn[data-turn='1'] .trace-totals")).to_have_text(
        f"2 model calls · 1 tool call · {duration} · {tokens}"
    )


def test_trace_names_are_shown_whole_at_desktop_width(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.script([Reply.tool_calls([("list_files", {})]), Reply.text("Listed.")])
    chat = fake_live_server.new_chat()
    open_app(page, fake_live_server, f"#/chats/{chat['id']}")
    send(page, "list the files")
    finished(page)
    page.get_by_role("tab", name="Traces").click()

    names = page.locator(".trace-name")
    expect(names).to_have_text(["◆ fake-model", "▸ list_files", "◆ fake-model"])
    for name in names.all():
        width = name.evaluate("el => [el.scrollWidth, el.clientWidth]")
        assert width[0] <= width[1], (name.text_content(), width)
