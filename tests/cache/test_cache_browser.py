"""The cache telemetry where the user looks: segment bars and a break explained, in Chromium."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Page, expect

from support.browser import open_app
from support.cache_session import two_turns_with_new_instructions
from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer

pytestmark = pytest.mark.browser


def test_segment_bars_and_a_cache_break_explained_in_the_trace_viewer(
    page: Page, cache_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    # Sync Playwright holds this thread's event loop: the two turns run on another thread.
    with ThreadPoolExecutor(1) as pool:
        turns = two_turns_with_new_instructions(cache_server, fake_model_server)
        chat_id = pool.submit(asyncio.run, turns).result()
    open_app(page, cache_server, f"#/chats/{chat_id}")
    page.get_by_role("tab", name="Traces").click()

    calls = page.locator(".trace-call[data-kind=llm]")
    expect(calls).to_have_count(2)
    bars = page.locator(".cache-bar")
    expect(bars).to_have_count(2)
    kinds = [
        [s.get_attribute("class").split()[-1] for s in bar.locator(".cache-segment").all()]
        for bar in bars.all()
    ]
    # Newest turn first: turn 2 sends turn 1 as earlier history, then its own message.
    assert kinds == [
        ["seg-system", "seg-tools", "seg-history", "seg-turn"],
        ["seg-system", "seg-tools", "seg-turn"],
    ]
    # Turn 2's call broke the cache at the system prompt, and says where.
    broken = page.locator(".cache-call[data-status=diverged]")
    expect(broken).to_have_count(1)
    expect(broken.locator(".cache-diagnosis")).to_contain_text(
        "Cache break: the system prompt changed (system prompt): this request stopped matching "
        "the previous one at byte"
    )
    overlay = broken.locator(".cache-overlay").bounding_box()
    whole = broken.locator(".cache-bar").bounding_box()
    assert overlay and whole and 0 < overlay["width"] < whole["width"] / 2
    expect(page.locator(".trace-turn[data-turn='2'] .cache-turn-rate")).to_be_visible()
    summary = page.get_by_label("prompt cache")
    expect(summary).to_contain_text("2 calls · 1 break")
    expect(summary).to_contain_text("saved $")
    expect(summary.locator(".cache-chart-break")).to_have_count(1)


def test_the_cache_summary_writes_its_figures_as_the_rest_of_the_page(
    page: Page, cache_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    usage = {
        "prompt_tokens": 101_268,
        "completion_tokens": 3,
        "total_tokens": 101_271,
        "prompt_tokens_details": {"cached_tokens": 98_000},
    }
    fake_model_server.script([Reply.text("big", usage=usage)])
    chat = cache_server.new_chat()
    with cache_server.client() as http:
        http.post(f"/api/chats/{chat['id']}/messages", json={"content": "a long prompt"})
    open_app(page, cache_server, f"#/chats/{chat['id']}")
    page.get_by_role("tab", name="Traces").click()

    # Tokens as formatCount writes them ("101k", not "101,268"), one call in the singular.
    figures = page.get_by_label("prompt cache").locator(".cache-summary-head .trace-muted")
    expect(figures).to_have_text("98.0k of 101k prompt tokens from cache · 1 call")
