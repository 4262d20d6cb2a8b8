"""Over HTTP, on both engines: what one message and a chat's requests may carry, and the
per-chat limit held under parallel uploads, with nothing left on disk by a refused file."""

from __future__ import annotations

import asyncio
import hashlib

from support.fake_model import FakeModelServer, Reply
from support.images import png_noise
from support.live_server import LiveServer

from .conftest import LIMITS
from .test_to_the_model import turn, upload


async def test_a_message_whose_files_add_up_past_the_message_limit_is_refused(
    limits_server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat = limits_server.new_chat()
    logs = [f"log {i}\n".encode() * 50_000 for i in range(2)]
    ids = [upload(limits_server, chat["id"], f"{i}.log", data)["id"] for i, data in enumerate(logs)]
    # Each file fits every limit alone, and both fit the request budget: only the message's fails.
    assert len(logs[0]) < LIMITS["message"] < sum(map(len, logs)) <= LIMITS["request"]
    url = f"/api/chats/{chat['id']}/messages"
    with limits_server.client() as http:
        refused = http.post(url, json={"content": "both", "attachments": ids})
        assert http.get(url).json() == []
    assert refused.status_code == 413
    assert refused.json()["detail"] == (
        "the attachments add up to 585.9 KiB; at most 488.3 KiB per message"
    )
    assert fake_model.requests == []

    fake_model.script([Reply.text("one seen")])
    frames = await turn(limits_server, chat["id"], {"content": "one", "attachments": ids[:1]})
    assert frames[-1]["status"] == "succeeded"
    assert fake_model.requests[0]["messages"][-1]["content"][1]["text"].startswith(
        '<file name="0.log">\nlog 0\nlog 0'
    )


async def test_a_message_whose_files_would_overfill_a_request_is_refused(
    limits_server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat = limits_server.new_chat()
    images = [png_noise(200, 200) for _ in range(4)]
    ids = [
        upload(limits_server, chat["id"], f"{i}.png", data)["id"] for i, data in enumerate(images)
    ]
    # Four images fit the request budget as files, not as the base64 a request carries.
    assert sum(map(len, images)) < LIMITS["request"] < sum(len(d) * 4 // 3 for d in images)
    fake_model.script([Reply.text("two seen"), Reply.text("three seen")])
    frames = await turn(limits_server, chat["id"], {"content": "two", "attachments": ids[:2]})
    assert frames[-1]["status"] == "succeeded"

    url = f"/api/chats/{chat['id']}/messages"
    with limits_server.client() as http:
        refused = http.post(url, json={"content": "two more", "attachments": ids[2:]})
        after = http.get(url).json()
    assert refused.status_code == 413
    detail = refused.json()["detail"]
    assert "from earlier messages, which every request sends again" in detail
    assert detail.endswith(
        "at most 585.9 KiB per request. Send fewer or smaller files, or start a new chat"
    )
    assert [m["content"] for m in after] == ["two", "two seen"]
    assert len(fake_model.requests) == 1

    frames = await turn(limits_server, chat["id"], {"content": "one more", "attachments": ids[2:3]})
    assert frames[-1]["status"] == "succeeded"
    assert len(fake_model.requests[-1]["messages"][-1]["content"]) == 2


async def test_parallel_uploads_keep_to_the_chat_limit_and_refused_files_leave_nothing(
    limits_server: LiveServer,
) -> None:
    chat = limits_server.new_chat()
    files = [bytes([ord("a") + i]) * 299_999 + b"\n" for i in range(8)]

    async def send(i: int, data: bytes) -> tuple[int, str]:
        async with limits_server.async_client() as http:
            response = await http.post(
                f"/api/chats/{chat['id']}/attachments", files={"file": (f"{i}.txt", data)}
            )
        body = response.json()
        return response.status_code, body.get("sha256") or body["detail"]

    answers = await asyncio.gather(*(send(i, data) for i, data in enumerate(files)))

    # Three 300 kB files fit in the chat's 1 MB, a fourth would not, however the uploads interleave.
    accepted = {sha for status, sha in answers if status == 201}
    refused = [detail for status, detail in answers if status == 413]
    assert (len(accepted), len(refused)) == (3, 5), answers
    assert set(refused) == {"this chat's attachments would exceed 976.6 KiB, the limit per chat"}
    store = limits_server.data_dir / "attachments"
    on_disk = {path.name for path in store.rglob("*") if path.is_file()}
    written = {hashlib.sha256(data).hexdigest() for data in files}
    assert on_disk & written == accepted
    assert not [name for name in on_disk if name.startswith(".upload-")]
