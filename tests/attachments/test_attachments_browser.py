"""Attachments in a real Chromium: pasted and dropped files, previews, bubbles after a reload."""

from __future__ import annotations

import base64
import re

import pytest
from playwright.sync_api import FilePayload, Page, expect

from support.browser import open_app
from support.fake_model import FakeModelServer, Reply
from support.images import png
from support.live_server import LiveServer
from support.paste import drop_files, paste_files

pytestmark = pytest.mark.browser


def test_a_pasted_image_reaches_the_model_and_stays_in_the_bubble(
    page: Page, vision_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.script([Reply.text("A red square and your notes.")])
    chat = vision_server.new_chat()
    open_app(page, vision_server, f"#/chats/{chat['id']}")
    image = png(20, 12)

    paste_files(page, [("pasted.png", "image/png", image)])
    drop_files(
        page, [("notes.md", "text/markdown", b"# Notes\n"), ("junk.txt", "text/plain", b"x")]
    )
    tray = page.get_by_label("attachments to send")
    expect(tray.locator(".thumb[data-status=ready]")).to_have_count(3)
    expect(tray.locator("img")).to_have_attribute("alt", "pasted.png")
    page.get_by_role("button", name="remove junk.txt").click()
    expect(tray.locator(".thumb")).to_have_count(2)
    # A refused file shows why, and holds the message until it is removed.
    paste_files(page, [("core", "application/octet-stream", b"\x7fELF\x00\x00")])
    refused = tray.locator(".thumb[data-status=failed]")
    expect(refused.get_by_role("alert")).to_contain_text("core is a binary file")
    page.get_by_label("message").fill("what is this?")
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    page.get_by_role("button", name="remove core").click()
    page.get_by_label("message").fill("what is this?")
    page.get_by_label("message").press("Enter")
    expect(page.locator(".msg.assistant:not(.streaming)")).to_contain_text("A red square")
    expect(page.locator(".thumbs")).to_have_count(0)

    sent = fake_model_server.requests[0]["messages"][-1]["content"]
    assert sent[1] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64," + base64.b64encode(image).decode()},
    }
    assert sent[2]["text"] == '<file name="notes.md">\n# Notes\n</file>'
    assert len(sent) == 3

    page.reload()
    bubble = page.locator(".msg.user").first
    shown = bubble.locator("img.attached")
    expect(shown).to_have_count(1)
    expect(shown).to_have_js_property("naturalWidth", 20)
    expect(bubble.locator(".file-chip")).to_have_text("notes.md")
    shown.click()
    expect(page.locator(".lightbox img")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator(".lightbox")).to_have_count(0)

    # The model call's trace names the files it was sent and links to them.
    page.get_by_role("tab", name="Traces").click()
    call = page.locator(".trace-call[data-kind=llm]").first
    call.locator(".trace-summary").click()
    received = call.get_by_role("region", name="received")
    expect(received.locator(".model-message.role-user pre")).to_have_text("what is this?")
    files = received.locator(".model-attachments li")
    expect(files).to_have_count(2)
    expect(files.nth(0)).to_contain_text("pasted.png image · image/png")
    expect(files.nth(1)).to_contain_text("notes.md file · text/markdown")
    expect(files.nth(0).get_by_role("link")).to_have_attribute("href", re.compile(r"/content$"))


def test_a_text_only_model_refuses_a_pasted_image_clearly(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    chat = fake_live_server.new_chat()
    open_app(page, fake_live_server, f"#/chats/{chat['id']}")
    paste_files(page, [("screen.png", "image/png", png())])
    expect(page.locator(".thumb[data-status=ready]")).to_have_count(1)
    page.get_by_label("message").fill("what is on my screen?")
    page.get_by_label("message").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text(
        "the model fake-model cannot see images (screen.png); nothing was sent"
    )
    # Nothing left the server, and what the user wrote is still there to change.
    assert fake_model_server.requests == []
    expect(page.get_by_label("message")).to_have_value("what is on my screen?")
    expect(page.locator(".thumb")).to_have_count(1)


def test_a_described_image_says_which_model_described_it(
    page: Page, described_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.script([Reply.text("A blue square."), Reply.text("It is blue.")])
    chat = described_server.new_chat()
    open_app(page, described_server, f"#/chats/{chat['id']}")
    paste_files(page, [("blue.png", "image/png", png(6, 6, (20, 20, 220)))])
    expect(page.locator(".thumb[data-status=ready]")).to_have_count(1)
    page.get_by_label("message").fill("what colour?")
    page.get_by_label("message").press("Enter")
    expect(page.locator(".msg.assistant:not(.streaming)")).to_contain_text("It is blue.")
    described = page.locator(".msg.user .described")
    expect(described.locator("summary")).to_have_text(
        "blue.png: described by fake-vision, as this chat's model cannot see images"
    )
    described.locator("summary").click()
    expect(described).to_contain_text("A blue square.")


def test_files_chosen_with_the_attach_button_are_previewed_and_sent(
    page: Page, vision_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.script([Reply.text("A green square and a log.")])
    chat = vision_server.new_chat()
    open_app(page, vision_server, f"#/chats/{chat['id']}")
    image = png(10, 6, (30, 200, 30))

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="attach files").click()
    assert chooser.value.is_multiple()
    chooser.value.set_files(
        [
            FilePayload(name="green.png", mimeType="image/png", buffer=image),
            FilePayload(name="run.log", mimeType="text/plain", buffer=b"step 1 ok\n"),
        ]
    )
    tray = page.get_by_label("attachments to send")
    expect(tray.locator(".thumb[data-status=ready]")).to_have_count(2)
    expect(tray.locator("img")).to_have_attribute("alt", "green.png")
    expect(tray).to_contain_text("run.log")
    page.get_by_label("message").fill("what do you see?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg.assistant:not(.streaming)")).to_contain_text("A green square")
    expect(page.locator(".msg.user").first.locator("img.attached")).to_have_count(1)

    sent = fake_model_server.requests[0]["messages"][-1]["content"]
    assert sent == [
        {"type": "text", "text": "what do you see?"},
        {
            "type": "image_url",
            "image_url": {"url": "data:image/png;base64," + base64.b64encode(image).decode()},
        },
        {"type": "text", "text": '<file name="run.log">\nstep 1 ok\n</file>'},
    ]
