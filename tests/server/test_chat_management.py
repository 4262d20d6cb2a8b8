"""Chat management over HTTP, on SQLite and PostgreSQL: list, search, rename, archive, delete."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer


@pytest.fixture
def server(fake_server_each_engine: LiveServer) -> LiveServer:
    return fake_server_each_engine


def _titled(http: httpx.Client, titles: list[str]) -> list[dict[str, Any]]:
    return [http.post("/api/chats", json={"title": title}).json() for title in titles]


def _all_pages(http: httpx.Client, **params: Any) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = http.get("/api/chats", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


def _wait_idle(http: httpx.Client, chat_id: str) -> None:
    deadline = time.monotonic() + 20
    while http.get(f"/api/chats/{chat_id}/timeline").json()["turns"][-1]["status"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline, "the turn did not end"
        time.sleep(0.05)


def test_the_chat_list_comes_in_pages_newest_first_without_gaps(server: LiveServer) -> None:
    tag = uuid.uuid4().hex[:8]
    with server.client() as http:
        created = _titled(http, [f"paging {tag} {i}" for i in range(23)])
        pages = _all_pages(http, q=tag, limit=10)
    assert [len(page) for page in pages] == [10, 10, 3]
    listed = [chat["id"] for page in pages for chat in page]
    assert listed == [chat["id"] for chat in reversed(created)]  # the newest first, each once


def test_search_matches_part_of_a_title_whatever_its_case(server: LiveServer) -> None:
    tag = uuid.uuid4().hex[:8]
    with server.client() as http:
        parser, _, percent = _titled(
            http, [f"Fix the PARSER {tag}", f"Write docs {tag}", f"100% coverage {tag}"]
        )
        found = http.get("/api/chats", params={"q": f"parser {tag}"}).json()["items"]
        assert [c["id"] for c in found] == [parser["id"]]
        literal = http.get("/api/chats", params={"q": f"0% coverage {tag}"}).json()["items"]
        assert [c["id"] for c in literal] == [percent["id"]]
        assert http.get("/api/chats", params={"q": f"_{tag}"}).json()["items"] == []
        assert http.get("/api/chats", params={"q": f"nothing {tag}"}).json()["items"] == []


def test_rename_a_chat_and_see_it_everywhere(server: LiveServer) -> None:
    with server.client() as http:
        (chat,) = _titled(http, ["Old name"])
        renamed = http.patch(f"/api/chats/{chat['id']}", json={"title": "  Parser   refactor "})
        assert renamed.status_code == 200
        assert renamed.json()["title"] == "Parser refactor"
        assert http.get(f"/api/chats/{chat['id']}").json()["title"] == "Parser refactor"
        found = http.get("/api/chats", params={"q": "parser refactor"}).json()["items"]
        assert chat["id"] in [c["id"] for c in found]


def test_archived_chats_leave_the_list_and_come_back(server: LiveServer) -> None:
    tag = uuid.uuid4().hex[:8]
    with server.client() as http:
        kept, archived = _titled(http, [f"kept {tag}", f"archived {tag}"])
        response = http.patch(f"/api/chats/{archived['id']}", json={"archived": True})
        assert response.status_code == 200 and response.json()["archived"] is True
        listed = http.get("/api/chats", params={"q": tag}).json()["items"]
        assert [c["id"] for c in listed] == [kept["id"]]
        shelf = http.get("/api/chats", params={"q": tag, "archived": True}).json()["items"]
        assert [c["id"] for c in shelf] == [archived["id"]]
        http.patch(f"/api/chats/{archived['id']}", json={"archived": False})
        listed = http.get("/api/chats", params={"q": tag}).json()["items"]
        assert {c["id"] for c in listed} == {kept["id"], archived["id"]}


def test_bad_changes_and_unknown_chats_get_a_clear_4xx(server: LiveServer) -> None:
    with server.client() as http:
        (chat,) = _titled(http, ["A chat"])
        url = f"/api/chats/{chat['id']}"
        for body in ({"title": ""}, {"title": " \t\n "}, {"title": "x" * 201}, {"colour": "red"}):
            response = http.patch(url, json=body)
            assert response.status_code == 422, body
            assert response.json()["detail"], body
        assert http.get(url).json()["title"] == "A chat"
        assert http.patch("/api/chats/nope", json={"title": "x"}).status_code == 404
        assert http.delete("/api/chats/nope").status_code == 404
        assert "does not exist" in http.delete("/api/chats/nope").json()["detail"]
        for params in ({"cursor": "yesterday"}, {"limit": 0}, {"limit": 10_000}, {"sort": "x"}):
            response = http.get("/api/chats", params=params)
            assert response.status_code == 422, params


def test_delete_a_chat_removes_it_and_its_data(
    server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.script([Reply.tool_calls([("list_files", {})]), Reply.text("done")])
    with server.client() as http:
        (chat,) = _titled(http, ["To delete"])
        url = f"/api/chats/{chat['id']}"
        http.post(f"{url}/messages", json={"content": "look around"})
        _wait_idle(http, chat["id"])
        assert http.get(f"{url}/traces").json()["items"]

        assert http.delete(url).status_code == 204
        for path in ("", "/messages", "/traces", "/timeline", "/files"):
            assert http.get(f"{url}{path}").status_code == 404, path
        assert http.delete(url).status_code == 404
        listed = http.get("/api/chats", params={"q": "To delete", "limit": 200}).json()["items"]
        assert chat["id"] not in [c["id"] for c in listed]


def test_deleting_a_chat_mid_turn_stops_the_turn_first(
    server: LiveServer, fake_model_server: FakeModelServer, tmp_path: Path
) -> None:
    fake_model_server.reset()
    fake_model_server.script([Reply.text("word " * 400, chunk_delay_s=0.02)])
    log_before = len(server.log)
    with server.client() as http:
        (chat,) = _titled(http, ["Busy"])
        url = f"/api/chats/{chat['id']}"
        http.post(f"{url}/messages", json={"content": "write a lot"})
        deadline = time.monotonic() + 10
        while not any(t["kind"] == "llm" for t in http.get(f"{url}/traces").json()["items"]):
            assert time.monotonic() < deadline, "the turn never called the model"
            time.sleep(0.05)

        assert http.delete(url, timeout=30).status_code == 204
        assert http.get(url).status_code == 404

        fake_model_server.script([Reply.text("still here")])
        (other,) = _titled(http, ["After the delete"])
        http.post(f"/api/chats/{other['id']}/messages", json={"content": "hello"})
        _wait_idle(http, other["id"])
    assert "Traceback" not in server.log[log_before:]


def test_delete_removes_the_chats_files_and_step_records_but_not_shared_files(
    server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    secret = f"secret {uuid.uuid4().hex}"
    fake_model_server.script(
        [
            Reply.tool_calls([("write_file", {"path": "notes.txt", "content": secret})]),
            Reply.text("ok"),
        ]
    )
    own, shared = f"only here {uuid.uuid4().hex}".encode(), f"shared {uuid.uuid4().hex}".encode()
    with server.client() as http:
        chat, other = _titled(http, ["With files", "Sharing a file"])
        url = f"/api/chats/{chat['id']}"
        for name, data in (("own.txt", own), ("shared.txt", shared)):
            assert http.post(f"{url}/attachments", files={"file": (name, data)}).status_code == 201
        http.post(f"/api/chats/{other['id']}/attachments", files={"file": ("copy.txt", shared)})
        turn = http.post(f"{url}/messages", json={"content": "take notes"}).json()["task_id"]
        _wait_idle(http, chat["id"])
        steps = "SELECT output FROM operation_outputs WHERE workflow_uuid = ?"
        assert _holds(server.query(steps, turn, dbos=True), secret)
        assert _blob(server, own).exists() and _blob(server, shared).exists()

        assert http.delete(url).status_code == 204

        assert not _blob(server, own).exists()
        assert _blob(server, shared).exists()  # the other chat still has it
        assert server.query(steps, turn, dbos=True) == []
        status = "SELECT count(*) FROM workflow_status WHERE workflow_uuid = ?"
        assert server.query(status, turn, dbos=True) == [(0,)]
        attachments = "SELECT count(*) FROM attachments WHERE chat_id = ?"
        assert server.query(attachments, chat["id"]) == [(0,)]

        assert http.delete(f"/api/chats/{other['id']}").status_code == 204
        assert not _blob(server, shared).exists()
    assert (server.workspace / "notes.txt").read_text() == secret  # the workspace is kept


def _holds(outputs: list[tuple[Any, ...]], text: str) -> bool:
    """Whether a step output (base64 of its pickle) holds `text`."""
    return any(text.encode() in base64.b64decode(output) for (output,) in outputs if output)


def _blob(server: LiveServer, data: bytes) -> Path:
    digest = hashlib.sha256(data).hexdigest()
    return server.data_dir / "attachments" / digest[:2] / digest
