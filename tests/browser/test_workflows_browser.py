"""Workflows in a real Chromium: start one from the Workflows panel, watch its agents run and end
grouped by phase with the log, budget and result, open an agent's transcript, Re-run it and see
every agent come back cached; on a phone, a refused start and Stop on a slow run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from support.browser import PHONE, open_app
from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer

pytestmark = pytest.mark.browser

FAN_OUT = """export const meta = {
  name: 'ui-fan-out',
  description: 'Asks two questions, then a judge weighs the answers.',
  whenToUse: 'a browser test',
}
phase('ask')
const ask = (n) => () => agent(`ui question ${n}`, { label: `q${n}` })
const answers = await parallel([1, 2].map(ask))
log(`got ${answers.length} answers`)
phase('judge')
const verdict = await agent(`ui judge ${args.topic}`, { label: 'judge' })
return { answers, verdict }
"""
SLOW = """export const meta = { name: 'ui-slow', description: 'One agent, its model slow.' }
return await agent('ui slow one', { label: 'slow' })
"""
BROKEN = "export const meta = { name: 'ui-broken', description: 'does not parse' }\nlet = ;\n"
VANISHING = "export const meta = { name: 'ui-vanishing', description: 'deleted once listed' }\n"


def _first_user(body: dict[str, Any]) -> str:
    content = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return content if isinstance(content, str) else json.dumps(content)


def respond(body: dict[str, Any]) -> Reply:
    prompt = _first_user(body)
    if prompt == "ui question 2":  # streamed over about two seconds: seen running
        return Reply.text(" ".join(["answer", "2"] + ["."] * 20), chunk_delay_s=0.1)
    if prompt.startswith("ui question "):
        return Reply.text(f"answer {prompt.split()[-1]}")
    if prompt.startswith("ui judge "):
        return Reply.text(f"both answers hold for {prompt.split()[-1]}")
    if prompt == "ui slow one":
        return Reply.text("too late", delay_s=30)
    return Reply.text("noted")


@pytest.fixture
def workflow_files(fake_live_server: LiveServer) -> Iterator[Path]:
    """The project's workflows for these tests, removed after: the server's workspace is shared."""
    folder = fake_live_server.workspace / ".boocode" / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    files = {"ui-fan-out": FAN_OUT, "ui-slow": SLOW, "ui-broken": BROKEN, "ui-vanishing": VANISHING}
    for name, text in files.items():
        (folder / f"{name}.js").write_text(text)
    yield folder
    for name in files:
        (folder / f"{name}.js").unlink(missing_ok=True)


def open_workflows(page: Page, server: LiveServer) -> Any:
    chat = server.new_chat()
    open_app(page, server, f"#/chats/{chat['id']}")
    panels = page.get_by_role("complementary", name="panels")
    if page.viewport_size == PHONE:
        page.get_by_role("button", name="show panels").click()
    panels.get_by_role("tab", name="Workflows").click()
    return panels


def test_a_workflow_started_from_the_panel_runs_by_phase_and_a_rerun_comes_back_cached(
    page: Page,
    fake_live_server: LiveServer,
    fake_model_server: FakeModelServer,
    workflow_files: Path,
) -> None:
    fake_model_server.reset()
    fake_model_server.responder = respond
    panels = open_workflows(page, fake_live_server)

    form = panels.locator("form.wf-form")
    form.get_by_label("workflow", exact=True).select_option("ui-fan-out")
    about = form.get_by_label("about the workflow", exact=True)
    expect(about).to_contain_text("then a judge weighs")
    broken = form.locator(".wf-broken")
    broken.locator("summary").click()
    expect(broken.locator("li").filter(has_text="ui-broken")).to_contain_text("line 2")
    expect(form.locator('option[value="ui-broken"]')).to_be_disabled()

    form.get_by_label("args", exact=True).fill('{"topic": tests}')
    expect(form.locator(".wf-invalid")).to_contain_text("Args must be JSON")
    expect(form.get_by_role("button", name="Start", exact=True)).to_be_disabled()
    form.get_by_label("args", exact=True).fill('{"topic": "tests"}')
    form.get_by_label("budget", exact=True).fill("5000")
    expect(form.locator(".wf-invalid")).to_have_count(0)
    form.get_by_role("button", name="Start", exact=True).click()

    # The run opens and fills in live: q1 ends, q2 is seen running, then the judge.
    run = panels.get_by_role("region", name="workflow run ui-fan-out")
    ask = run.get_by_role("region", name="phase ask")
    q2 = ask.locator('.wf-agent:has(.agent-open:text-is("q2"))')
    expect(q2).to_have_attribute("data-status", "running")
    expect(ask.locator('.wf-agent:has(.agent-open:text-is("q1"))')).to_have_attribute(
        "data-status", "succeeded"
    )
    expect(run.get_by_role("button", name="stop ui-fan-out")).to_be_visible()
    expect(run).to_have_attribute("data-status", "succeeded", timeout=20_000)
    expect(run.locator(".wf-phase-title")).to_have_text(["ask", "judge"])
    expect(run.get_by_role("region", name="phase judge").locator(".agent-open")).to_have_text(
        "judge"
    )
    expect(q2.locator(".wf-model")).to_have_text("fake-model")
    expect(q2.locator(".agent-tokens")).to_contain_text("tokens")
    expect(run.get_by_label("log", exact=True).locator("li")).to_contain_text(
        ["phase ask", "got 2 answers", "phase judge"]
    )
    expect(run.get_by_label("budget", exact=True)).to_contain_text("of 5,000 tokens spent (output)")
    result = run.get_by_label("result", exact=True).locator("code")
    expect(result).to_contain_text('"verdict": "both answers hold for tests"')
    expect(result).to_contain_text('"answer 1"')
    first_id = run.get_attribute("data-run-id")
    assert first_id

    # An agent opened: its own conversation, and its traces.
    run.get_by_role("button", name="judge", exact=True).click()
    judge = panels.get_by_role("region", name="agent judge")
    transcript = judge.get_by_label("transcript", exact=True)
    expect(transcript.locator(".msg.user")).to_have_text("ui judge tests")
    expect(transcript.locator(".msg.assistant")).to_contain_text("both answers hold")
    judge.get_by_text("Traces", exact=True).click()
    expect(judge.locator(".trace-call")).to_have_count(1)
    judge.get_by_role("button", name="← ui-fan-out").click()

    # Re-run: the same args, resumed from it; every agent is answered from the cache.
    calls = len(fake_model_server.requests)
    run.get_by_role("button", name="Re-run").click()
    expect(run).not_to_have_attribute("data-run-id", first_id)
    expect(run).to_have_attribute("data-status", "succeeded", timeout=20_000)
    expect(run.locator(".wf-agent")).to_have_count(3)
    expect(run.locator('.wf-agent[data-cached="true"]')).to_have_count(3)
    expect(run.locator(".wf-agent .wf-cached")).to_have_text(["cached"] * 3)
    expect(run.get_by_role("region", name="phase ask")).to_contain_text("2 cached")
    expect(run.get_by_role("button", name=first_id)).to_be_visible()  # re-run of it
    expect(result).to_contain_text("both answers hold")
    assert len(fake_model_server.requests) == calls

    run.get_by_role("button", name="← All runs").click()
    rows = panels.get_by_role("list", name="runs").locator(".wf-run-row")
    expect(rows).to_have_count(2)
    expect(rows.last).to_have_attribute("data-run-id", first_id)
    expect(rows.first.locator(".wf-resumed")).to_have_text("re-run")


def test_on_a_phone_a_refused_start_says_why_and_a_slow_run_is_stopped(
    page: Page,
    fake_live_server: LiveServer,
    fake_model_server: FakeModelServer,
    workflow_files: Path,
) -> None:
    fake_model_server.reset()
    fake_model_server.responder = respond
    page.set_viewport_size(PHONE)
    panels = open_workflows(page, fake_live_server)
    form = panels.locator("form.wf-form")

    # Listed when the panel opened, deleted since: the server refuses it with one line.
    form.get_by_label("workflow", exact=True).select_option("ui-vanishing")
    (workflow_files / "ui-vanishing.js").unlink()
    form.get_by_role("button", name="Start", exact=True).click()
    expect(form.locator(".wf-refused")).to_contain_text("no workflow is named 'ui-vanishing'")

    form.get_by_label("workflow", exact=True).select_option("ui-slow")
    expect(form.locator(".wf-refused")).to_have_count(0)
    form.get_by_role("button", name="Start", exact=True).click()
    run = panels.get_by_role("region", name="workflow run ui-slow")
    slow = run.locator(".wf-agent")
    expect(slow).to_have_attribute("data-status", "running")
    width = page.evaluate("innerWidth")
    for box in (run.bounding_box(), slow.bounding_box()):
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    assert panels.locator(".panel-body").evaluate("el => el.scrollWidth <= el.clientWidth")

    run.get_by_role("button", name="stop ui-slow").click()
    expect(run).to_have_attribute("data-status", "cancelled")
    expect(run.get_by_text("Stopped.")).to_be_visible()
    expect(slow).to_have_attribute("data-status", "cancelled", timeout=20_000)
    expect(run.get_by_role("button", name="Re-run")).to_be_enabled()
