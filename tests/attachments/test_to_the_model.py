"""Attachments reach the model as parts, the same bytes every time; a text-only model refuses."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from typing import Any

from PIL import Image

from support.fake_model import FakeModelServer, Reply
from support.images import png, png_noise, size_of
from support.live_server import LiveServer, frames_until, turn_ended
from support.vision_server import IMAGE_MAX_SIDE


def upload(server: LiveServer, chat_id: str, name: str, data: bytes) -> dict[str, Any]:
    with server.client() as http:
        response = http.post(f"/api/chats/{chat_id}/attachments", files={"file": (name, data)})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def turn(server: LiveServer, chat_id: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    async with server.ws(chat_id) as ws:
        async with server.async_client() as http:
            response = await http.post(f"/api/chats/{chat_id}/messages", json=body)
            assert response.status_code == 202, response.text
        return await frames_until(ws, turn_ended)


async def test_images_and_text_files_reach_the_model_as_parts(
    vision_server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat = vision_server.new_chat()
    small = png(16, 16)
    image = upload(vision_server, chat["id"], "small.png", small)
    wide = upload(vision_server, chat["id"], "wide.png", png(IMAGE_MAX_SIDE * 2, 8))
    plan = "# Plan\nship it — soon\n</file>\nnot the end\n"
    notes = upload(vision_server, chat["id"], "notes.md", plan.encode())
    fake_model.script([Reply.text("I see them."), Reply.text("Still there.")])

    ids = [image["id"], wide["id"], notes["id"]]
    frames = await turn(vision_server, chat["id"], {"content": "look", "attachments": ids})
    assert frames[-1]["status"] == "succeeded"
    await turn(vision_server, chat["id"], {"content": "and again"})

    first, second = fake_model.requests
    sent = first["messages"][-1]
    assert sent["role"] == "user"
    text, small_part, wide_part, notes_part = sent["content"]
    assert text == {"type": "text", "text": "look"}
    assert small_part == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64," + base64.b64encode(small).decode()},
    }
    downscaled = base64.b64decode(wide_part["image_url"]["url"].split(",", 1)[1])
    assert size_of(downscaled) == (IMAGE_MAX_SIDE, 4)
    assert notes_part == {
        "type": "text",
        "text": '<file name="notes.md">\n# Plan\nship it — soon\n&lt;/file>\nnot the end\n</file>',
    }
    # Re-sent with the next turn byte for byte: the cached prefix survives.
    assert second["messages"][: len(first["messages"])] == first["messages"]
    prompts = fake_model.prompts
    assert prompts[1].startswith(prompts[0])


def encoded(image_format: str) -> bytes:
    """A small image in `image_format` (JPEG, GIF, WEBP), made with Pillow."""
    out = io.BytesIO()
    Image.new("RGB", (9, 7), (40, 90, 200)).save(out, image_format)
    return out.getvalue()


async def test_jpeg_gif_webp_json_and_csv_are_judged_by_content_and_reach_the_model(
    vision_server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat = vision_server.new_chat()
    # Names that say otherwise, or nothing: the bytes decide.
    files = {
        "photo.png": (encoded("JPEG"), "image/jpeg"),
        "anim.webp": (encoded("GIF"), "image/gif"),
        "shot": (encoded("WEBP"), "image/webp"),
        "data.json": (b'{"ok": true, "items": [1, 2]}\n', "application/json"),
        "table.csv": (b"name,score\nada,3\n", "text/csv"),
    }
    sent = {
        name: upload(vision_server, chat["id"], name, data) for name, (data, _) in files.items()
    }
    assert {name: body["media_type"] for name, body in sent.items()} == {
        name: media_type for name, (_, media_type) in files.items()
    }
    images = ["photo.png", "anim.webp", "shot"]
    assert [(sent[name]["kind"], sent[name]["width"]) for name in images] == [("image", 9)] * 3
    assert {sent[name]["kind"] for name in ("data.json", "table.csv")} == {"text"}
    fake_model.script([Reply.text("Seen all five.")])

    ids = [body["id"] for body in sent.values()]
    frames = await turn(vision_server, chat["id"], {"content": "look", "attachments": ids})
    assert frames[-1]["status"] == "succeeded"

    text, *parts = fake_model.requests[0]["messages"][-1]["content"]
    assert text == {"type": "text", "text": "look"}
    image_parts = [
        {"type": "image_url", "image_url": {"url": f"data:{media};base64,{_b64(data)}"}}
        for data, media in (files[name] for name in images)
    ]
    text_parts = [
        {"type": "text", "text": f'<file name="{name}">\n{files[name][0].decode()}</file>'}
        for name in ("data.json", "table.csv")
    ]
    assert parts == image_parts + text_parts
    with vision_server.client() as http:
        served = {name: http.get(body["url"]) for name, body in sent.items()}
    assert {name: r.content for name, r in served.items()} == {n: d for n, (d, _) in files.items()}
    assert [served[name].headers["content-type"] for name in files] == [
        "image/jpeg",
        "image/gif",
        "image/webp",
        "text/plain; charset=utf-8",
        "text/plain; charset=utf-8",
    ]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_a_model_call_s_trace_keeps_attachments_by_reference(
    vision_server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat = vision_server.new_chat()
    noise = png_noise(IMAGE_MAX_SIDE, IMAGE_MAX_SIDE)
    image = upload(vision_server, chat["id"], "noise.png", noise)
    log = upload(vision_server, chat["id"], "build.log", b"ok line\n" * 30_000)
    fake_model.script([Reply.text("Seen.")])
    await turn(
        vision_server, chat["id"], {"content": "look", "attachments": [image["id"], log["id"]]}
    )
    request_bytes = len(json.dumps(fake_model.requests[0]))
    with vision_server.client() as http:
        (call,) = http.get(f"/api/chats/{chat['id']}/traces", params={"kind": "llm"}).json()[
            "items"
        ]
        trace = http.get(f"/api/chats/{chat['id']}/traces/{call['id']}").json()
        served = http.get(image["url"])

    stored = json.dumps(trace["input"])
    assert request_bytes > 250_000 and len(stored) < request_bytes / 10
    assert "base64" not in stored and "ok line" not in stored
    (sent,) = trace["input"]["new_messages"]
    text, image_part, log_part = sent["content"]
    assert text == {"type": "text", "text": "look"}
    assert image_part == {
        "type": "attachment",
        "sent_as": "image_url",
        "sent_bytes": len("data:image/png;base64,") + len(base64.b64encode(noise)),
        "id": image["id"],
        "name": "noise.png",
        "kind": "image",
        "media_type": "image/png",
        "bytes": len(noise),
        "sha256": hashlib.sha256(noise).hexdigest(),
        "url": image["url"],
    }
    assert (log_part["sent_as"], log_part["name"], log_part["bytes"]) == (
        "text",
        "build.log",
        240_000,
    )
    assert served.content == noise


async def test_attachments_are_kept_with_the_message_in_the_timeline_and_a_restore(
    vision_server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat = vision_server.new_chat()
    image = upload(vision_server, chat["id"], "a.png", png())
    await turn(vision_server, chat["id"], {"content": "see", "attachments": [image["id"]]})
    await turn(vision_server, chat["id"], {"content": "then this"})
    with vision_server.client() as http:
        messages = http.get(f"/api/chats/{chat['id']}/messages").json()
        timeline = http.get(f"/api/chats/{chat['id']}/timeline").json()
        restored = http.post(f"/api/chats/{chat['id']}/restore", json={"turn": 1})
        after_restore = http.get(f"/api/chats/{chat['id']}/messages").json()
    user = messages[0]
    assert user["content"] == "see"
    assert [(a["id"], a["name"], a["url"]) for a in user["attachments"]] == [
        (image["id"], "a.png", image["url"])
    ]
    assert [t["prompt"] for t in timeline["turns"]] == ["see [image a.png]", "then this"]
    assert restored.status_code == 200, restored.text
    assert [m["attachments"] for m in after_restore if m["role"] == "user"] == [user["attachments"]]
    fake_model.reset()
    await turn(vision_server, chat["id"], {"content": "and now?"})
    parts = fake_model.requests[0]["messages"][1]["content"]
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")


async def test_a_message_s_attachments_are_checked_before_anything_runs(
    vision_server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat = vision_server.new_chat()
    other = vision_server.new_chat()
    mine = upload(vision_server, chat["id"], "mine.txt", b"mine\n")
    theirs = upload(vision_server, other["id"], "theirs.txt", b"theirs\n")
    many = [
        upload(vision_server, chat["id"], f"{i}.txt", f"{i}\n".encode())["id"] for i in range(9)
    ]
    url = f"/api/chats/{chat['id']}/messages"
    with vision_server.client() as http:
        foreign = http.post(url, json={"content": "x", "attachments": [mine["id"], theirs["id"]]})
        too_many = http.post(url, json={"content": "x", "attachments": many})
        not_an_id = http.post(url, json={"content": "x", "attachments": ["../../etc/passwd"]})
        messages = http.get(url).json()
    assert foreign.status_code == 422 and theirs["id"] in foreign.json()["detail"]
    assert too_many.status_code == 413 and "at most 8 per message" in too_many.json()["detail"]
    assert not_an_id.status_code == 422 and not_an_id.json()["detail"].startswith("attachments.0")
    assert messages == [] and fake_model.requests == []


async def test_a_text_only_model_refuses_images_before_sending(
    fake_live_server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat = fake_live_server.new_chat()
    image = upload(fake_live_server, chat["id"], "screen.png", png())
    notes = upload(fake_live_server, chat["id"], "notes.txt", b"plain text is fine\n")
    with fake_live_server.client() as http:
        refused = http.post(
            f"/api/chats/{chat['id']}/messages",
            json={"content": "what is this?", "attachments": [image["id"]]},
        )
        assert http.get(f"/api/chats/{chat['id']}/messages").json() == []
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith(
        "the model fake-model cannot see images (screen.png); nothing was sent"
    )
    assert fake_model.requests == []
    fake_model.script([Reply.text("read it")])
    frames = await turn(
        fake_live_server, chat["id"], {"content": "read", "attachments": [notes["id"]]}
    )
    assert frames[-1]["status"] == "succeeded"
    assert fake_model.requests[0]["messages"][-1]["content"][1]["text"].startswith(
        '<file name="notes.txt">'
    )
