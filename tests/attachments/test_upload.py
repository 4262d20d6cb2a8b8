"""Uploading files to a chat over HTTP: types by content, limits, names, the bytes served back."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import httpx

from support.fake_model import FakeModelServer, Reply
from support.images import png, size_of
from support.live_server import LiveServer
from support.vision_server import CHAT_LIMIT, FILE_LIMIT, IMAGE_MAX_SIDE

from .test_to_the_model import turn


def upload(
    http: httpx.Client, chat_id: str, name: str, data: bytes, field: str = "file"
) -> httpx.Response:
    return http.post(f"/api/chats/{chat_id}/attachments", files={field: (name, data)})


def test_an_image_is_stored_once_and_served_back(vision_server: LiveServer) -> None:
    chat = vision_server.new_chat()
    image = png(12, 10)
    with vision_server.client() as http:
        first = upload(http, chat["id"], "shot.png", image)
        again = upload(http, chat["id"], "shot.png", image)
        assert first.status_code == 201, first.text
        body: dict[str, Any] = first.json()
        assert body["kind"] == "image" and body["media_type"] == "image/png"
        assert (body["width"], body["height"], body["size"]) == (12, 10, len(image))
        assert body["sha256"] == hashlib.sha256(image).hexdigest()
        assert body["downscaled"] is False
        assert again.json()["id"] == body["id"]
        served = http.get(body["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.content == image
    stored = vision_server.data_dir / "attachments" / body["sha256"][:2] / body["sha256"]
    assert stored.read_bytes() == image


def test_the_type_is_judged_by_content_not_by_name(vision_server: LiveServer) -> None:
    chat = vision_server.new_chat()
    with vision_server.client() as http:
        disguised = upload(http, chat["id"], "notes.txt", png())
        code = upload(http, chat["id"], "image.png", b"def parse():\n    return 1\n")
        html = upload(http, chat["id"], "page.md", b"<script>alert(1)</script>\n")
        served_html = http.get(html.json()["url"])
    assert disguised.json()["kind"] == "image"
    assert code.json()["kind"] == "text" and code.json()["name"] == "image.png"
    assert html.json()["media_type"] == "text/markdown"
    # Text is never served as something a browser would run.
    assert served_html.headers["content-type"] == "text/plain; charset=utf-8"
    assert "sandbox" in served_html.headers["content-security-policy"]


def test_bad_files_are_refused_with_a_clear_message(vision_server: LiveServer) -> None:
    chat = vision_server.new_chat()
    cases = {
        "empty.txt": (b"", 422, "is empty"),
        "blob.bin": (b"\x7fELF\x00\x01\x02", 422, "binary file"),
        "latin1.txt": ("café".encode("latin-1"), 422, "not UTF-8 text"),
        "broken.png": (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, 422, "not a readable image/png"),
        "huge.log": (b"x" * (FILE_LIMIT + 1), 413, "limit per file"),
        "bomb.png": (png(10_000, 10_000, mode="1"), 422, "at most 64,000,000 pixels"),
    }
    with vision_server.client() as http:
        for name, (data, status, words) in cases.items():
            response = upload(http, chat["id"], name, data)
            assert response.status_code == status, (name, response.text)
            assert words in response.json()["detail"], (name, response.json())
        no_file = upload(http, chat["id"], "a.txt", b"hello", field="other")
        assert no_file.status_code == 422 and "`file`" in no_file.json()["detail"]
        as_json = http.post(f"/api/chats/{chat['id']}/attachments", json={"file": "x"})
        assert as_json.status_code == 422 and "multipart" in as_json.json()["detail"]
        unknown = upload(http, "nochat", "a.txt", b"hello")
        assert unknown.status_code == 404
        missing = http.get(f"/api/chats/{chat['id']}/attachments/att_{'0' * 24}/content")
        assert missing.status_code == 404


def test_hostile_names_keep_only_a_printable_base_name(vision_server: LiveServer) -> None:
    chat = vision_server.new_chat()
    with vision_server.client() as http:
        response = upload(http, chat["id"], "../../etc/pass\x1bwd\u202e.txt", b"root:x:0:0\n")
    assert response.status_code == 201
    assert response.json()["name"] == "passwd.txt"


def test_a_large_image_is_downscaled_for_the_model_and_the_original_kept(
    vision_server: LiveServer,
) -> None:
    chat = vision_server.new_chat()
    original = png(IMAGE_MAX_SIDE * 4, IMAGE_MAX_SIDE)
    with vision_server.client() as http:
        body = upload(http, chat["id"], "wide.png", original).json()
        served = http.get(body["url"]).content
    assert body["downscaled"] is True
    assert (body["width"], body["height"]) == (IMAGE_MAX_SIDE * 4, IMAGE_MAX_SIDE)
    assert served == original


def test_a_chat_has_a_limit_on_all_its_attachments(vision_server: LiveServer) -> None:
    chat = vision_server.new_chat()
    statuses = []
    with vision_server.client() as http:
        for index in range(CHAT_LIMIT // FILE_LIMIT + 1):
            data = (f"{index}\n".encode() * FILE_LIMIT)[: FILE_LIMIT - 100]
            statuses.append(upload(http, chat["id"], f"log{index}.log", data))
    assert [r.status_code for r in statuses[:-1]] == [201] * (len(statuses) - 1)
    assert statuses[-1].status_code == 413
    assert "limit per chat" in statuses[-1].json()["detail"]


def test_the_downscaled_copy_keeps_the_aspect(vision_server: LiveServer) -> None:
    chat = vision_server.new_chat()
    with vision_server.client() as http:
        body = upload(http, chat["id"], "tall.png", png(10, IMAGE_MAX_SIDE * 2)).json()
    blobs = [
        p.read_bytes()
        for p in (vision_server.data_dir / "attachments").rglob("*")
        if p.is_file() and p.name != body["sha256"]
    ]
    assert (5, IMAGE_MAX_SIDE) in [size_of(b) for b in blobs if b.startswith(b"\x89PNG")]


async def test_files_are_stored_in_the_configured_directory_outside_the_data_dir(
    store_elsewhere_server: LiveServer, fake_model: FakeModelServer
) -> None:
    server = store_elsewhere_server
    store = Path(server.env["BOOCODE_ATTACHMENTS_DIR"])
    assert not store.is_relative_to(server.data_dir)
    chat = server.new_chat()
    image, notes = png(5, 5), b"kept elsewhere\n"
    with server.client() as http:
        sent = [
            upload(http, chat["id"], name, data).json()
            for name, data in (("dot.png", image), ("notes.txt", notes))
        ]
        served = [http.get(body["url"]).content for body in sent]
    assert served == [image, notes]
    on_disk = {path.name: path.read_bytes() for path in store.rglob("*") if path.is_file()}
    assert on_disk == {hashlib.sha256(data).hexdigest(): data for data in (image, notes)}
    assert not (server.data_dir / "attachments").exists()

    # The model gets them from there.
    fake_model.script([Reply.text("Seen.")])
    ids = [body["id"] for body in sent]
    frames = await turn(server, chat["id"], {"content": "look", "attachments": ids})
    assert frames[-1]["status"] == "succeeded"
    parts = fake_model.requests[0]["messages"][-1]["content"]
    assert (
        parts[1]["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(image).decode()
    )
    assert parts[2]["text"] == '<file name="notes.txt">\nkept elsewhere\n</file>'
