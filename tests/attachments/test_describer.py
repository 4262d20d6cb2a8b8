"""A text-only chat model with a configured image describer: images go as descriptions."""

from __future__ import annotations

from support.fake_model import FakeModelServer, Reply
from support.images import png
from support.live_server import LiveServer, frames_until, turn_ended


async def test_an_image_is_described_once_and_sent_as_its_description(
    described_server: LiveServer, fake_model: FakeModelServer
) -> None:
    server = described_server
    chat = server.new_chat()
    image = png(10, 10)
    fake_model.script(
        [Reply.text("A red square, no text."), Reply.text("Noted."), Reply.text("Still red.")]
    )
    async with server.async_client() as http, server.ws(chat["id"]) as ws:
        files = {"file": ("red.png", image)}
        attachment = (await http.post(f"/api/chats/{chat['id']}/attachments", files=files)).json()
        for body in (
            {"content": "what is it?", "attachments": [attachment["id"]]},
            {"content": "and now?"},
        ):
            response = await http.post(f"/api/chats/{chat['id']}/messages", json=body)
            assert response.status_code == 202, response.text
            await frames_until(ws, turn_ended)
        messages = (await http.get(f"/api/chats/{chat['id']}/messages")).json()

    describe, first, second = fake_model.requests
    assert describe["model"] == "fake-vision"
    assert describe["messages"][0]["content"][1]["image_url"]["url"].startswith(
        "data:image/png;base64,"
    )
    assert first["model"] == "fake-model"
    assert first["messages"][-1]["content"] == [
        {"type": "text", "text": "what is it?"},
        {
            "type": "text",
            "text": "[image red.png, described by fake-vision]\nA red square, no text.",
        },
    ]
    assert second["messages"][: len(first["messages"])] == first["messages"]
    shown = messages[0]["attachments"][0]
    assert (shown["described_by"], shown["description"]) == (
        "fake-vision",
        "A red square, no text.",
    )


async def test_a_describer_that_fails_refuses_the_message_clearly(
    described_server: LiveServer, fake_model: FakeModelServer
) -> None:
    server = described_server
    chat = server.new_chat()
    fake_model.script([Reply.error(400, "model not found")])
    with server.client() as http:
        files = {"file": ("shot.png", png(4, 4))}
        attachment = http.post(f"/api/chats/{chat['id']}/attachments", files=files).json()
        body = {"content": "look", "attachments": [attachment["id"]]}
        response = http.post(f"/api/chats/{chat['id']}/messages", json=body)
        stored = http.get(f"/api/chats/{chat['id']}/messages").json()
    assert response.status_code == 502
    assert response.json()["detail"].startswith(
        "the image describer fake-vision could not describe shot.png:"
    )
    assert "model not found" in response.json()["detail"]
    assert stored == []
