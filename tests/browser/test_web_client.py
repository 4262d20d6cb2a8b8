"""The web page in a real Chromium: chat with the demo model, refresh mid-turn, origins."""

from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import Page, expect

from support.browser import open_app
from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer

pytestmark = pytest.mark.browser

# Records how much of the answer each repaint of the streaming answer shows (Markdown redraws
# the text as it grows, so the text itself is not always a prefix of the next), to tell
# streaming from a single final paint.
RECORD_STREAM = """
() => {
  window.__seen = [];
  new MutationObserver(() => {
    const el = document.querySelector('.streaming .markdown');
    const shown = el && Number(el.closest('.streaming').dataset.streamed);
    if (el && window.__seen.at(-1) !== shown) window.__seen.push(shown);
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
}
"""


def send(page: Page, text: str) -> None:
    page.get_by_label("message").fill(text)
    page.get_by_label("message").press("Enter")


def test_chat_with_the_demo_model_and_watch_the_answer_stream(
    page: Page, live_server: LiveServer
) -> None:
    open_app(page, live_server)
    page.get_by_role("button", name="+ New chat").click()
    expect(page.locator(".badge.demo")).to_have_text("demo model")
    page.evaluate(RECORD_STREAM)

    send(page, "What is in this project?")
    expect(page.locator(".conn")).to_have_text("live")

    expect(page.locator(".msg.user")).to_have_text("What is in this project?")
    for tool in ("list_files", "read_file", "run_command"):
        expect(page.locator(f".tool-done:has(.tool-name:text-is('{tool}'))")).to_be_visible()
    answer = page.locator(".msg.assistant:not(.streaming) .markdown").last
    expect(answer).to_contain_text("I am BooCode's offline demo model")
    expect(page.locator(".streaming")).to_have_count(0)
    expect(page.get_by_role("button", name="Send")).to_be_visible()

    seen = page.evaluate("window.__seen")
    assert len(seen) >= 3, f"the answer arrived in one piece, not streamed: {seen}"
    assert all(later > earlier for earlier, later in itertools.pairwise(seen)), seen
    expect(page.locator(".chat-list a.active")).to_contain_text("What is in this project?")
    expect(page.locator(".reasoning").first).not_to_have_attribute("open", "")


def test_refresh_in_the_middle_of_a_turn_and_see_it_continue(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    words = [f"word{i}" for i in range(120)]
    fake_model_server.reset()
    fake_model_server.script([Reply.text(" ".join(words), chunk_delay_s=0.03)])
    chat = fake_live_server.new_chat()
    open_app(page, fake_live_server, f"#/chats/{chat['id']}")
    expect(page.locator(".conn")).to_have_text("live")

    send(page, "count slowly")
    streaming = page.locator(".streaming .markdown")
    expect(streaming).to_contain_text("word10 ")
    page.reload()

    expect(page.locator(".msg.user")).to_have_text("count slowly")
    expect(page.locator(".streaming")).to_be_visible()
    expect(streaming).to_contain_text("word0 word1 word2")  # rehydrated from the snapshot
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    final = page.locator(".msg.assistant:not(.streaming) .markdown")
    expect(final).to_have_text(" ".join(words), timeout=20_000)
    expect(page.locator(".streaming")).to_have_count(0)


def test_stop_button_cancels_the_turn(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.script([Reply.text("slow " * 300, chunk_delay_s=0.03)])
    chat = fake_live_server.new_chat()
    open_app(page, fake_live_server, f"#/chats/{chat['id']}")
    send(page, "never mind")
    expect(page.locator(".streaming .markdown")).to_contain_text("slow slow")
    page.get_by_role("button", name="Stop").click()
    expect(page.locator(".note")).to_have_text("Stopped.")
    expect(page.get_by_role("button", name="Send")).to_be_visible()


def test_errors_are_shown_clearly(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.script([Reply.error(400, "the prompt is too long for this model")])
    chat = fake_live_server.new_chat()
    open_app(page, fake_live_server, f"#/chats/{chat['id']}")
    send(page, "hello")
    expect(page.locator(".turn-error")).to_contain_text("the prompt is too long")
    expect(page.locator(".turn-error")).to_have_count(1)


def test_without_the_token_the_page_says_how_to_get_in(page: Page, live_server: LiveServer) -> None:
    page.goto(live_server.url)
    expect(page.get_by_text("This page needs the access token")).to_be_visible()


def test_a_page_on_another_origin_cannot_drive_the_agent(
    page: Page, live_server: LiveServer
) -> None:
    open_app(page, live_server)  # the browser holds the access cookie
    chat = live_server.new_chat()
    with live_server.client() as http:
        chats_before = len(http.get("/api/chats", params={"limit": 200}).json()["items"])
    page.route(
        "http://evil.example/**",
        lambda route: route.fulfill(content_type="text/html", body="<h1>a page elsewhere</h1>"),
    )
    page.goto("http://evil.example/")
    outcome = page.evaluate(
        """async ([server, chatId]) => {
            const socket = await new Promise((resolve) => {
              const ws = new WebSocket(server.replace('http', 'ws') + '/ws/chats/' + chatId);
              ws.onopen = () => resolve('opened');
              ws.onclose = (e) => resolve('closed ' + e.code);
            });
            let post;
            try {
              const r = await fetch(server + '/api/chats', { method: 'POST', mode: 'no-cors',
                credentials: 'include', body: '{}' });
              post = r.type;
            } catch (e) { post = 'failed'; }
            return { socket, post };
        }""",
        [live_server.url, chat["id"]],
    )
    assert outcome["socket"] == "closed 1006"
    with live_server.client() as http:
        assert len(http.get("/api/chats", params={"limit": 200}).json()["items"]) == chats_before
