"""The workflow API under hostile input: huge, empty, binary or NUL-laden bodies, hostile names,
bad resumes and budgets, a burst of starts, cancels of ended runs, results that cannot be
stored. Each answers a one-line 4xx or works, on SQLite and PostgreSQL, with no traceback."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer
from workflows.runs import ended, start

ECHO = "export const meta = { name: 'echo', description: 'returns its args' }\n"
MIB = 1024 * 1024


def _run(server: LiveServer, chat_id: str, **body: Any) -> dict[str, Any]:
    started = start(server, chat_id, **body)
    assert started.status_code == 202, started.text
    return ended(server, started.json()["run_id"])


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


# (what, the raw request body, its status, what its one-line answer says)
REFUSED: list[tuple[str, bytes, int, str]] = [
    ("script over 1 MiB", _body(script=ECHO + "//" + "x" * MIB), 422, "script: String should"),
    ("empty script", _body(script=""), 422, "script: String should have at least 1"),
    ("whitespace script", _body(script=" \n\t "), 422, "begins with `export const meta"),
    ("NUL in script", _body(script=ECHO + "return 'a\x00b'"), 422, "line 2, column 10 has a NUL"),
    ("lone surrogate", b'{"script": "return \'\\ud800\'"}', 422, "valid string"),
    ("invalid UTF-8", b'{"script": "\xff\xfe"}', 400, "parsing the body"),
    ("not JSON", b"export const meta = {}", 422, "JSON decode error"),
    ("name with ..", _body(name="../../etc/passwd"), 422, "no workflow is named"),
    ("absolute name", _body(name="/etc/passwd"), 422, "no workflow is named"),
    ("name with /", _body(name="deep-research/../x"), 422, "no workflow is named"),
    ("name with NUL", _body(name="deep\x00research"), 422, "no workflow is named"),
    ("very long name", _body(name="x" * 101), 422, "name: String should have at most 100"),
    ("very long meta.name", _body(script=ECHO.replace("echo", "e" * 101)), 422, "meta.name"),
    ("garbage resume_from", _body(script=ECHO, resume_from="wf-\x00"), 422, "does not exist"),
    ("long resume_from", _body(script=ECHO, resume_from="x" * 65), 422, "resume_from: String"),
    ("budget 0", _body(script=ECHO, budget=0), 422, "budget: Input should be greater"),
    ("negative budget", _body(script=ECHO, budget=-5), 422, "budget: Input should be greater"),
    ("budget past 2**53", _body(script=ECHO, budget=2**53), 422, "budget: Input should be less"),
    ("budget of 5,000 digits", b'{"budget": 1' + b"0" * 5000 + b"}", 400, "parsing the body"),
    ("args nested 100,000 deep", b'{"args": ' + _nested(100_000).encode() + b"}", 400, "parsing"),
]


@pytest.mark.parametrize(
    ("body", "status", "says"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_a_hostile_start_is_refused_with_one_line(
    fake_server_each_engine: LiveServer, body: bytes, status: int, says: str
) -> None:
    server = fake_server_each_engine
    chat_id = server.new_chat()["id"]
    with server.client() as http:
        answer = http.post(
            f"/api/chats/{chat_id}/workflows",
            content=body,
            headers={"content-type": "application/json"},
        )
        assert answer.status_code == status, answer.text
        detail = answer.json()["detail"]
        assert says in detail and "\n" not in detail and len(detail) < 2000, detail
        assert http.get(f"/api/chats/{chat_id}/workflows").json() == {"runs": []}
    assert "Traceback" not in server.log


NULS = """export const meta = { name: 'nul\\u0000s', description: 'writes NULs' }
log('a\\u0000b', { 'k\\u0000': 'v\\u0000' })
phase('p\\u0000')
const answer = await agent('nul prompt', { label: 'l\\u0000'.repeat(300) })
return { args, answer, text: 'x\\u0000y\\ud800' }"""


def test_nuls_in_names_args_logs_and_results_are_stored_and_shown_the_same_on_each_engine(
    fake_server_each_engine: LiveServer, fake_model_server: FakeModelServer
) -> None:
    server = fake_server_each_engine
    fake_model_server.reset()
    fake_model_server.responder = lambda body: Reply.text("got \x00 it")
    chat_id = server.new_chat()["id"]

    run = _run(server, chat_id, script=NULS, args={"a\x00": ["b\x00", 1]})

    assert run["status"] == "succeeded", run["error"]
    assert run["name"] == "nul␀s"
    assert run["args"] == {"a␀": ["b␀", 1]}
    assert run["result"] == {"args": {"a␀": ["b␀", 1]}, "answer": "got ␀ it", "text": "x␀y\ufffd"}
    assert [(e["kind"], e["text"]) for e in run["log"]] == [
        ("log", 'a␀b {"k\\u0000":"v\\u0000"}'),  # JSON writes a NUL as an escape
        ("phase", "p␀"),
    ]
    [agent] = run["agents"]
    assert agent["label"].startswith("l␀l␀") and len(agent["label"]) <= 200
    assert "Traceback" not in server.log


def test_large_args_and_a_huge_budget_work(
    fake_server_each_engine: LiveServer, fake_model_server: FakeModelServer
) -> None:
    server = fake_server_each_engine
    chat_id = server.new_chat()["id"]
    big = "é" * (4 * MIB)
    script = ECHO + (
        "return { length: args.big.length, deep: args.deep.length, total: budget.total }"
    )

    run = _run(server, chat_id, script=script, args={"big": big, "deep": [[[[1]]]]}, budget=10**15)

    assert run["status"] == "succeeded", run["error"]
    assert run["result"] == {"length": len(big), "deep": 1, "total": 10**15}
    assert run["budget"] == 10**15


RESULTS = [
    ("a BigInt", "return 10n", "cannot be sent as JSON"),
    ("a cycle", "const a = {}; a.a = a; return a", "cannot be sent as JSON"),
    ("over 16 MiB", "return 'x'.repeat(17 * 1024 * 1024)", "may have 16,777,216 (16 MiB)"),
]


@pytest.mark.parametrize(("body", "says"), [r[1:] for r in RESULTS], ids=[r[0] for r in RESULTS])
def test_a_result_that_cannot_be_stored_fails_the_run_with_one_line(
    fake_server_each_engine: LiveServer, body: str, says: str
) -> None:
    server = fake_server_each_engine
    chat_id = server.new_chat()["id"]

    run = _run(server, chat_id, script=ECHO + body)

    assert run["status"] == "failed"
    assert says in run["error"] and "\n" not in run["error"], run["error"]
    assert run["result"] is None
    assert "Traceback" not in server.log


def test_twenty_starts_at_once_on_one_chat_all_run_to_their_end(
    fake_server_each_engine: LiveServer,
) -> None:
    server = fake_server_each_engine
    chat_id = server.new_chat()["id"]
    script = ECHO + "return args"

    # Each start checks its script while the runs started before it spawn their V8 children:
    # on two busy cores the last answer may take longer than a client's usual 10 s.
    with ThreadPoolExecutor(max_workers=20) as pool:
        starts = pool.map(
            lambda n: start(server, chat_id, timeout=60, script=script, args=n), range(20)
        )
        started = list(starts)

    assert [answer.status_code for answer in started] == [202] * 20
    runs = [ended(server, answer.json()["run_id"], timeout=120) for answer in started]
    assert [(run["status"], run["result"]) for run in runs] == [("succeeded", n) for n in range(20)]
    with server.client() as http:
        assert len(http.get(f"/api/chats/{chat_id}/workflows").json()["runs"]) == 20
    assert "Traceback" not in server.log


def test_cancelling_twice_or_after_the_end_answers_plainly(
    fake_server_each_engine: LiveServer, fake_model_server: FakeModelServer
) -> None:
    server = fake_server_each_engine
    fake_model_server.reset()
    fake_model_server.responder = lambda body: Reply.text("late", delay_s=30)
    chat_id = server.new_chat()["id"]
    running = start(server, chat_id, script=ECHO + "return await agent('slow')").json()["run_id"]
    finished = _run(server, chat_id, script=ECHO + "return 1")["run_id"]

    with server.client() as http:
        first = http.post(f"/api/workflow-runs/{running}/cancel").json()
        second = http.post(f"/api/workflow-runs/{running}/cancel").json()
        assert first == {"run_id": running, "cancelled": True}
        assert second["cancelled"] in (True, False)
        assert ended(server, running)["status"] == "cancelled"
        again = http.post(f"/api/workflow-runs/{running}/cancel")
        assert again.json() == {"run_id": running, "cancelled": False}
        assert http.post(f"/api/workflow-runs/{finished}/cancel").json()["cancelled"] is False
        unknown = http.post("/api/workflow-runs/wf-%00nope/cancel")
        assert unknown.status_code == 404 and "does not exist" in unknown.json()["detail"]
    assert "Traceback" not in server.log


def test_a_run_resumes_from_another_chats_run_in_the_same_workspace(
    fake_server_each_engine: LiveServer, fake_model_server: FakeModelServer
) -> None:
    server = fake_server_each_engine
    fake_model_server.reset()
    fake_model_server.responder = lambda body: Reply.text("answered")
    script = ECHO + "return await agent('the one question')"
    first = _run(server, server.new_chat()["id"], script=script)
    calls = len(fake_model_server.requests)

    again = _run(server, server.new_chat()["id"], script=script, resume_from=first["run_id"])

    assert again["result"] == "answered" and [a["cached"] for a in again["agents"]] == [True]
    assert len(fake_model_server.requests) == calls
