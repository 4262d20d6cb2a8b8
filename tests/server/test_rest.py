"""The REST API over real HTTP, as a client would use it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer, frames_until, turn_ended
from support.processes import processes_with, wait_for


def wait_for_turn(http: httpx.Client, chat_id: str, turn: int, timeout: float = 20) -> None:
    """Until the turn's final assistant message is stored (a message with no tool calls)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = http.get(f"/api/chats/{chat_id}/messages").json()
        final = [m for m in messages if m["turn"] == turn and m["role"] == "assistant"]
        if final and not final[-1]["tool_calls"]:
            return
        time.sleep(0.05)
    raise AssertionError(f"turn {turn} of chat {chat_id} did not finish")


def test_healthz_needs_no_token(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_create_list_and_get_a_chat(live_server: LiveServer) -> None:
    with live_server.client() as http:
        created = http.post("/api/chats", json={"title": "Refactor the parser"})
        assert created.status_code == 201
        chat = created.json()
        assert chat["title"] == "Refactor the parser"
        assert chat["is_demo"] is True and chat["model"] == "demo"
        assert {"id", "title", "created_at"} <= chat.keys()

        assert chat["id"] in [c["id"] for c in http.get("/api/chats").json()["items"]]
        fetched = http.get(f"/api/chats/{chat['id']}").json()
        assert {k: fetched[k] for k in ("id", "title", "model", "is_demo")} == {
            k: chat[k] for k in ("id", "title", "model", "is_demo")
        }


def test_timestamps_read_back_keep_their_timezone(live_server: LiveServer) -> None:
    chat = live_server.new_chat()
    with live_server.client() as http:
        fetched = http.get(f"/api/chats/{chat['id']}").json()
    assert fetched["created_at"] == chat["created_at"]


def test_a_chat_can_be_created_without_a_body(live_server: LiveServer) -> None:
    with live_server.client() as http:
        response = http.post("/api/chats")
    assert response.status_code == 201
    assert response.json()["title"] == "New chat"


def test_unknown_chat_is_a_404_with_a_message(live_server: LiveServer) -> None:
    with live_server.client() as http:
        for method, path in [
            ("GET", "/api/chats/nope"),
            ("GET", "/api/chats/nope/messages"),
            ("POST", "/api/chats/nope/cancel"),
        ]:
            response = http.request(method, path)
            assert response.status_code == 404, path
            assert response.json() == {"detail": "chat nope does not exist"}
        response = http.post("/api/chats/nope/messages", json={"content": "hi"})
        assert response.status_code == 404


def test_invalid_bodies_are_a_422_that_says_what_is_wrong(live_server: LiveServer) -> None:
    chat = live_server.new_chat()
    with live_server.client() as http:
        empty = http.post(f"/api/chats/{chat['id']}/messages", json={"content": ""})
        assert empty.status_code == 422
        assert empty.json()["detail"] == (
            "content: the message is empty: say what the agent should do"
        )

        not_json = http.post(
            f"/api/chats/{chat['id']}/messages",
            content=b"{oops",
            headers={"content-type": "application/json"},
        )
        assert not_json.status_code == 422
        assert "JSON" in not_json.json()["detail"]

        bad_image = http.post(
            f"/api/chats/{chat['id']}/messages",
            json={"content": "look", "images": [{"data_url": "http://example.com/x.png"}]},
        )
        assert bad_image.status_code == 422
        assert "upload each file" in bad_image.json()["detail"]


def test_post_a_message_runs_a_turn_and_stores_its_messages(live_server: LiveServer) -> None:
    chat = live_server.new_chat()
    with live_server.client() as http:
        accepted = http.post(f"/api/chats/{chat['id']}/messages", json={"content": "Hello"})
        assert accepted.status_code == 202
        assert accepted.json()["turn"] == 1

        busy = http.post(f"/api/chats/{chat['id']}/messages", json={"content": "again"})
        assert busy.status_code == 409
        assert busy.json()["detail"] == "turn 1 is still running; wait for it or cancel it"

        wait_for_turn(http, chat["id"], 1)
        messages = http.get(f"/api/chats/{chat['id']}/messages").json()
        assert messages[0]["role"] == "user" and messages[0]["content"] == "Hello"
        assert [m["tool_name"] for m in messages if m["role"] == "tool"] == [
            "list_files",
            "read_file",
            "run_command",
        ]
        assert "offline demo model" in messages[-1]["content"]
        assert http.get(f"/api/chats/{chat['id']}").json()["title"] == "Hello"


async def _next_message_answered(server: LiveServer, chat_id: str, ws: ClientConnection) -> None:
    """The chat takes the next message once a turn is cancelled, and the turn ends well."""
    async with server.async_client() as http:
        response = await http.post(f"/api/chats/{chat_id}/messages", json={"content": "and now?"})
    assert response.status_code == 202, response.text
    assert (await frames_until(ws, turn_ended))[-1]["status"] == "succeeded"


async def test_cancel_stops_a_streaming_answer_and_keeps_its_text(
    fake_server_each_engine: LiveServer, fake_model: FakeModelServer
) -> None:
    server = fake_server_each_engine
    whole = "word " * 400
    fake_model.script([Reply.text(whole, chunk_delay_s=0.02), Reply.text("Next answer.")])
    chat_id = server.new_chat()["id"]
    async with server.ws(chat_id) as ws, server.async_client() as http:
        await http.post(f"/api/chats/{chat_id}/messages", json={"content": "write a lot"})
        await frames_until(ws, lambda frame: frame["type"] == "message_delta")
        cancelled = (await http.post(f"/api/chats/{chat_id}/cancel")).json()
        assert cancelled == {"cancelled": True, "turn": 1, "subagents": 0}
        assert (await frames_until(ws, turn_ended))[-1]["status"] == "cancelled"
        idle = (await http.post(f"/api/chats/{chat_id}/cancel")).json()
        assert idle == {"cancelled": False, "turn": None, "subagents": 0}
        await _next_message_answered(server, chat_id, ws)
    with server.client() as http:
        answers = [
            m["content"]
            for m in http.get(f"/api/chats/{chat_id}/messages").json()
            if m["role"] == "assistant"
        ]
    assert answers[0].startswith("word") and len(answers[0]) < len(whole)
    assert answers[1:] == ["Next answer."]


async def test_cancel_kills_a_running_command_and_answers_every_tool_call(
    fake_server_each_engine: LiveServer, fake_model: FakeModelServer
) -> None:
    server = fake_server_each_engine
    # Found by its command line: inside the sandbox the command's own PID means nothing here.
    tag = f"sleeper-{time.monotonic_ns()}"
    marker = server.workspace / tag
    sleeper = f"import time; open({str(marker)!r}, 'w').write('yes'); time.sleep(60)"
    fake_model.script(
        [
            Reply.tool_calls(
                [("run_command", {"argv": ["python3", "-c", sleeper, tag]}), ("list_files", {})]
            ),
            Reply.text("Next answer."),
        ]
    )
    chat_id = server.new_chat()["id"]
    async with server.ws(chat_id) as ws, server.async_client() as http:
        await http.post(f"/api/chats/{chat_id}/messages", json={"content": "sleep"})
        await asyncio.to_thread(wait_for, lambda: marker.exists() and marker.read_text())
        assert (await http.post(f"/api/chats/{chat_id}/cancel")).json()["cancelled"] is True
        # Long before the command's minute is up.
        assert (await frames_until(ws, turn_ended))[-1]["status"] == "cancelled"
        messages = (await http.get(f"/api/chats/{chat_id}/messages")).json()
        wait_for(lambda: not processes_with(tag), timeout=5)
        await _next_message_answered(server, chat_id, ws)
    tool_results = [(m["content"], m["cancelled"]) for m in messages if m["role"] == "tool"]
    assert tool_results == [
        ("cancelled by the user while it ran", True),
        ("cancelled by the user before it ran", True),
    ]


def test_openapi_documents_every_endpoint_well_enough_to_generate_a_client(
    live_server: LiveServer,
) -> None:
    """Drive the API only from what /openapi.json says: paths, bodies, status codes."""
    spec = httpx.get(f"{live_server.url}/openapi.json").json()
    schemas = spec["components"]["schemas"]
    operations = {
        (method.upper(), path): op
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }
    assert {
        ("GET", "/healthz"),
        ("POST", "/api/chats"),
        ("GET", "/api/chats"),
        ("GET", "/api/chats/{chat_id}"),
        ("POST", "/api/chats/{chat_id}/messages"),
        ("GET", "/api/chats/{chat_id}/messages"),
        ("POST", "/api/chats/{chat_id}/cancel"),
    } <= operations.keys()

    def call(http: httpx.Client, method: str, path: str, body: Any = None, **params: str) -> Any:
        op = operations[(method, path)]
        response = http.request(method, path.format(**params), json=body)
        assert str(response.status_code) in op["responses"], (method, path, response.status_code)
        content = op["responses"][str(response.status_code)]["content"]["application/json"]
        check_against(response.json(), content["schema"], schemas)
        return response.json()

    with live_server.client() as http:
        message_schema = operations[("POST", "/api/chats/{chat_id}/messages")]["requestBody"]
        ref = message_schema["content"]["application/json"]["schema"]["$ref"]
        assert schemas[ref.rsplit("/", 1)[1]]["required"] == ["content"]
        chat = call(http, "POST", "/api/chats", {"title": "from the spec"})
        call(http, "GET", "/api/chats")
        call(http, "GET", "/api/chats/{chat_id}", chat_id=chat["id"])
        call(http, "POST", "/api/chats/{chat_id}/messages", {"content": "hi"}, chat_id=chat["id"])
        call(http, "GET", "/api/chats/{chat_id}/messages", chat_id=chat["id"])
        call(http, "POST", "/api/chats/{chat_id}/cancel", chat_id=chat["id"])
        call(http, "GET", "/api/chats/{chat_id}", chat_id="missing")


def check_against(value: Any, schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Enough of JSON Schema to tell that a response matches its documented shape."""
    if "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:
        errors = []
        for option in schema["anyOf"]:
            try:
                check_against(value, option, schemas)
                return
            except AssertionError as exc:
                errors.append(exc)
        raise AssertionError(f"{value!r} matches none of {schema['anyOf']}: {errors}")
    kind = schema.get("type")
    if kind == "object":
        assert isinstance(value, dict), value
        assert set(schema.get("required", [])) <= value.keys(), (schema, value)
        for key, item in value.items():
            if key in schema.get("properties", {}):
                check_against(item, schema["properties"][key], schemas)
    elif kind == "array":
        assert isinstance(value, list), value
        for item in value:
            check_against(item, schema.get("items", {}), schemas)
    elif kind == "string":
        assert isinstance(value, str), value
        if "enum" in schema:
            assert value in schema["enum"]
    elif kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), value
    elif kind == "boolean":
        assert isinstance(value, bool), value
    elif kind == "null":
        assert value is None
    if "const" in schema:
        assert value == schema["const"]
