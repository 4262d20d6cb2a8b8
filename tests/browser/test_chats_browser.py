"""Managing chats in the page, in a real Chromium: new, rename, search, archive, delete, paging;
the tab title, the workspace, a chat that does not exist, a wrong token, the theme."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from support.browser import open_app
from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer

pytestmark = pytest.mark.browser


def send(page: Page, text: str) -> None:
    page.get_by_label("message", exact=True).fill(text)
    page.get_by_label("message", exact=True).press("Enter")


def all_chats(server: LiveServer, **params: Any) -> list[dict[str, Any]]:
    with server.client() as http:
        return list(http.get("/api/chats", params={"limit": 200, **params}).json()["items"])


def test_a_new_chat_is_kept_only_once_something_is_sent(
    page: Page, live_server: LiveServer
) -> None:
    open_app(page, live_server)
    before = len(all_chats(live_server))
    page.get_by_role("button", name="+ New chat").click()
    expect(page.get_by_label("message", exact=True)).to_be_focused()
    expect(page.locator(".chat-header .chat-workspace")).to_have_text("workspace")
    page.get_by_role("button", name="+ New chat").click()
    expect(page).to_have_title("New chat · BooCode")
    assert len(all_chats(live_server)) == before

    send(page, "Kept from the first words")
    expect(page).to_have_url(f"{live_server.url}/#/chats/" + all_chats(live_server)[0]["id"])
    expect(page.locator(".msg.user")).to_have_text("Kept from the first words")
    expect(page.locator(".chat-list a.active")).to_contain_text("Kept from the first words")
    assert len(all_chats(live_server)) == before + 1


def test_the_tab_title_names_the_chat_and_marks_a_running_turn(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.script([Reply.text("tick " * 200, chunk_delay_s=0.02)])
    chat = fake_live_server.new_chat()
    open_app(page, fake_live_server, f"#/chats/{chat['id']}")
    expect(page).to_have_title("New chat · BooCode")
    send(page, "Count the ticks")
    expect(page).to_have_title("● Count the ticks · BooCode")
    expect(page.locator(".msg.assistant:not(.streaming)")).to_have_count(1, timeout=20_000)
    expect(page).to_have_title("Count the ticks · BooCode")


def test_the_page_shows_the_workspace(page: Page, live_server: LiveServer) -> None:
    open_app(page, live_server)
    expect(page.locator(".sidebar .workspace code")).to_have_text(str(live_server.workspace))


def test_rename_search_archive_and_delete_chats_in_the_sidebar(
    page: Page, live_server: LiveServer
) -> None:
    tag = uuid.uuid4().hex[:6]
    with live_server.client() as http:
        for title in (f"alpha {tag}", f"beta {tag}", f"gamma {tag}"):
            http.post("/api/chats", json={"title": title})
    open_app(page, live_server)
    page.get_by_label("search chats").fill(tag)
    titles = page.locator(".chat-list .chat-list-title")
    expect(titles).to_have_text([f"gamma {tag}", f"beta {tag}", f"alpha {tag}"])

    page.get_by_role("button", name=f"rename alpha {tag}").click()
    page.get_by_label("chat title").fill(f"renamed {tag}")
    page.get_by_label("chat title").press("Enter")
    expect(titles).to_have_text([f"gamma {tag}", f"beta {tag}", f"renamed {tag}"])

    page.get_by_label("search chats").fill(f"beta {tag}")
    expect(titles).to_have_text([f"beta {tag}"])
    page.get_by_label("search chats").fill(tag)

    page.get_by_role("button", name=f"archive gamma {tag}").click()
    expect(titles).to_have_text([f"beta {tag}", f"renamed {tag}"])
    page.get_by_role("button", name="Archived chats").click()
    expect(titles).to_have_text([f"gamma {tag}"])
    page.get_by_role("button", name="← Back to chats").click()

    page.get_by_role("button", name=f"delete beta {tag}").click()
    dialog = page.get_by_role("alertdialog", name="confirm delete")
    expect(dialog).to_contain_text(f"Delete “beta {tag}”?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(titles).to_have_text([f"beta {tag}", f"renamed {tag}"])
    page.get_by_role("button", name=f"delete beta {tag}").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(titles).to_have_text([f"renamed {tag}"])
    assert [c["title"] for c in all_chats(live_server, q=tag)] == [f"renamed {tag}"]
    assert [c["title"] for c in all_chats(live_server, q=tag, archived=True)] == [f"gamma {tag}"]


def test_more_chats_pages_through_a_long_list(page: Page, live_server: LiveServer) -> None:
    tag = uuid.uuid4().hex[:6]
    with live_server.client() as http:
        for i in range(55):
            http.post("/api/chats", json={"title": f"{tag} {i:02}"}).raise_for_status()
    open_app(page, live_server)
    page.get_by_label("search chats").fill(tag)
    titles = page.locator(".chat-list .chat-list-title")
    more = page.get_by_role("button", name="More chats")

    # Most recently active first, fifty to a page.
    expect(titles).to_have_text([f"{tag} {i:02}" for i in range(54, 4, -1)])
    more.click()
    expect(titles).to_have_text([f"{tag} {i:02}" for i in range(54, -1, -1)])
    expect(more).to_have_count(0)


def test_deleting_the_open_chat_mid_turn_stops_it_and_goes_back(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.script([Reply.text("long " * 400, chunk_delay_s=0.02)])
    chat = fake_live_server.new_chat()
    open_app(page, fake_live_server, f"#/chats/{chat['id']}")
    send(page, f"doomed {chat['id'][:6]}")
    expect(page.locator(".streaming .markdown")).to_contain_text("long long")
    page.get_by_role("button", name=f"delete doomed {chat['id'][:6]}").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("heading", name="BooCode")).to_be_visible()
    expect(page).to_have_url(f"{fake_live_server.url}/#/")
    with fake_live_server.client() as http:
        assert http.get(f"/api/chats/{chat['id']}").status_code == 404


def test_a_chat_that_does_not_exist_says_so_with_a_way_back(
    page: Page, live_server: LiveServer
) -> None:
    open_app(page, live_server, "#/chats/doesnotexist")
    expect(page.get_by_role("heading", name="Chat not found")).to_be_visible()
    expect(page.get_by_label("message", exact=True)).to_have_count(0)
    expect(page.locator(".panels")).to_have_count(0)
    expect(page).to_have_title("Chat not found · BooCode")
    page.get_by_role("link", name="Back to your chats").click()
    expect(page.get_by_role("button", name="Start a new chat")).to_be_visible()


def test_a_wrong_token_in_the_url_gets_the_friendly_page(
    page: Page, live_server: LiveServer
) -> None:
    page.goto(f"{live_server.url}/?token=not-the-token")
    expect(page.get_by_role("alert")).to_have_text("The access token in this URL is wrong.")
    expect(page.get_by_text("This page needs the access token")).to_be_visible()
    assert httpx.get(f"{live_server.url}/?token=nope").status_code == 401


def test_the_theme_can_be_switched_and_is_remembered(page: Page, live_server: LiveServer) -> None:
    page.emulate_media(color_scheme="light")
    open_app(page, live_server)
    root = page.locator("html")
    expect(root).to_have_attribute("data-theme", "light")
    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.get_by_role("button", name="switch to dark theme").click()
    expect(root).to_have_attribute("data-theme", "dark")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != light
    page.reload()
    expect(root).to_have_attribute("data-theme", "dark")
    page.get_by_role("button", name="switch to light theme").click()
    expect(root).to_have_attribute("data-theme", "light")
