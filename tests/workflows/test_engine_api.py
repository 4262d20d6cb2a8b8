"""Workflow runs as a user starts them over HTTP: agents as runs, structured output, re-runs
that reuse unchanged agents, refusals and stopping; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from typing import Any

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer
from workflows.runs import ended, messages_when, start

FAN_OUT = """
// Three questions at once, then a judge that must answer through its schema.
export const meta = { name: "fan-out", description: "asks three agents, then a judge" }
phase("ask")
const ask = (n) => () => agent(`question ${n}`, { label: `q${n}` })
const answers = await parallel([1, 2, 3].map(ask))
log(`got ${answers.length} answers`)
phase("judge")
const verdict = await agent("judge them", {
  label: "judge",
  schema: { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] },
})
return { answers, verdict }
"""


def _first_user(body: dict[str, Any]) -> str:
    return str(next(m["content"] for m in body["messages"] if m["role"] == "user"))


def respond(body: dict[str, Any]) -> Reply:
    prompt = _first_user(body)
    tools = [m for m in body["messages"] if m["role"] == "tool"]
    if prompt.startswith("question "):
        return Reply.text(f"answer {prompt.split()[1]}")
    if prompt == "judge them":
        if not tools:  # first a submission the schema refuses, then a valid one
            return Reply.tool_calls([("submit_result", {"ok": "yes"})])
        if len(tools) == 1:
            return Reply.tool_calls([("submit_result", {"ok": True})])
        return Reply.text("judged")
    if prompt == "slow one":
        return Reply.text("late", delay_s=30)
    if prompt.startswith("step "):
        return Reply.text("done", delay_s=0.2)
    return Reply.text("noted")


def test_a_run_fans_out_validates_structured_output_and_a_rerun_reuses_unchanged_agents(
    fake_server_each_engine: LiveServer, fake_model_server: FakeModelServer
) -> None:
    server = fake_server_each_engine
    fake_model_server.reset()
    fake_model_server.responder = respond
    chat_id = server.new_chat()["id"]

    started = start(server, chat_id, script=FAN_OUT)
    assert started.status_code == 202, started.text
    run = ended(server, started.json()["run_id"])
    assert run["status"] == "succeeded", run
    assert run["name"] == "fan-out"
    assert run["result"] == {
        "answers": ["answer 1", "answer 2", "answer 3"],
        "verdict": {"ok": True},
    }
    assert [(e["kind"], e["text"]) for e in run["log"]] == [
        ("phase", "ask"),
        ("log", "got 3 answers"),
        ("phase", "judge"),
    ]
    labels = sorted((a["label"], a["phase"], a["status"], a["cached"]) for a in run["agents"])
    assert labels == [
        ("judge", "judge", "succeeded", False),
        ("q1", "ask", "succeeded", False),
        ("q2", "ask", "succeeded", False),
        ("q3", "ask", "succeeded", False),
    ]
    assert run["spent"] > 0
    judge = next(a for a in run["agents"] if a["label"] == "judge")
    with server.client() as http:
        transcript = http.get(f"/api/chats/{judge['conversation_id']}/messages").json()
    refused = [m["content"] for m in transcript if m["role"] == "tool" and m["is_error"]]
    assert refused == [
        "the result does not match the schema:\n- ok: 'yes' is not of type 'boolean'\n"
        "fix it and call submit_result again"
    ]
    calls = len(fake_model_server.requests)

    # The same script again, resumed from the first run: every agent comes from its cache.
    again = ended(
        server, start(server, chat_id, script=FAN_OUT, resume_from=run["run_id"]).json()["run_id"]
    )
    assert again["result"] == run["result"]
    assert all(a["cached"] for a in again["agents"]) and len(again["agents"]) == 4
    assert len(fake_model_server.requests) == calls

    # One question changed: only that agent runs.
    changed = FAN_OUT.replace("`question ${n}`", "n === 3 ? 'question 3b' : `question ${n}`")
    third = ended(
        server, start(server, chat_id, script=changed, resume_from=run["run_id"]).json()["run_id"]
    )
    assert third["result"]["answers"] == ["answer 1", "answer 2", "answer 3b"]
    fresh = sorted(a["label"] for a in third["agents"] if not a["cached"])
    assert fresh == ["q3"]
    assert len(fake_model_server.requests) == calls + 1

    with server.client() as http:
        runs = http.get(f"/api/chats/{chat_id}/workflows").json()["runs"]
    assert [r["run_id"] for r in runs] == [third["run_id"], again["run_id"], run["run_id"]]


def test_bad_starts_are_refused_before_anything_runs(
    fake_server_each_engine: LiveServer, fake_model_server: FakeModelServer
) -> None:
    server = fake_server_each_engine
    chat_id = server.new_chat()["id"]
    broken = start(
        server, chat_id, script="export const meta = {name: 'x', description: 'y'}\nlet = ;"
    )
    assert broken.status_code == 422
    assert broken.json()["detail"].startswith("the script: ")
    assert "line 2" in broken.json()["detail"]
    computed = start(
        server, chat_id, script="export const meta = {name: 'x' + 'y', description: 'y'}"
    )
    assert computed.status_code == 422 and "literal" in computed.json()["detail"]
    unknown = start(server, chat_id, name="no-such-workflow")
    assert unknown.status_code == 422 and "no-such-workflow" in unknown.json()["detail"]
    both = start(server, chat_id, name="x", script="return 1")
    assert both.status_code == 422 and "exactly one of name and script" in both.json()["detail"]
    missing = start(server, chat_id, script=FAN_OUT, resume_from="wf-nope")
    assert missing.status_code == 422 and "wf-nope does not exist" in missing.json()["detail"]
    with server.client() as http:
        assert http.get(f"/api/chats/{chat_id}/workflows").json() == {"runs": []}
        assert http.get("/api/workflow-runs/wf-nope").status_code == 404


def test_stopping_a_run_cancels_its_agents(
    fake_server_each_engine: LiveServer, fake_model_server: FakeModelServer
) -> None:
    server = fake_server_each_engine
    fake_model_server.reset()
    fake_model_server.responder = respond
    chat_id = server.new_chat()["id"]
    script = (
        "export const meta = {name: 'slow', description: 'waits'}\nreturn await agent('slow one')"
    )
    run_id = start(server, chat_id, script=script).json()["run_id"]
    deadline = time.monotonic() + 20
    with server.client() as http:
        while not http.get(f"/api/workflow-runs/{run_id}").json()["agents"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert http.post(f"/api/workflow-runs/{run_id}/cancel").json() == {
            "run_id": run_id,
            "cancelled": True,
        }
    run = ended(server, run_id)
    assert run["status"] == "cancelled"
    deadline = time.monotonic() + 20
    with server.client() as http:
        while http.get(f"/api/workflow-runs/{run_id}").json()["agents"][0]["status"] != "cancelled":
            assert time.monotonic() < deadline, "the agent was not stopped"
            time.sleep(0.1)
    json.dumps(run)


ENDLESS = """export const meta = {name: 'endless', description: 'agents one after another'}
const worker = (n) => async () => { for (let i = 0; i < 200; i++) await agent(`step ${n}.${i}`) }
await parallel([1, 2].map(worker))"""


def test_deleting_a_chat_stops_its_workflow_runs_and_removes_their_records(
    fake_server_each_engine: LiveServer, fake_model_server: FakeModelServer
) -> None:
    server = fake_server_each_engine
    fake_model_server.reset()
    fake_model_server.responder = respond
    chat_id = server.new_chat()["id"]
    run_id = start(server, chat_id, script=ENDLESS).json()["run_id"]
    deadline = time.monotonic() + 20
    with server.client() as http:
        while len(http.get(f"/api/workflow-runs/{run_id}").json()["agents"]) < 4:
            assert time.monotonic() < deadline, "the workflow did not get going"
            time.sleep(0.1)
        agents = http.get(f"/api/workflow-runs/{run_id}").json()["agents"]
        # The run's script process, and at most one started ahead for the next run.
        running = set(server.children("boocode.workflows.child"))
        assert running, "the script runs in a child process"
        run_ids = [run_id, *(a["task_id"] for a in agents)]
        assert _dbos_rows(server, run_ids) > 0

        assert http.delete(f"/api/chats/{chat_id}", timeout=30).status_code == 204

        calls = len(fake_model_server.requests)
        left = set(server.children("boocode.workflows.child"))
        assert len(left) <= 1 and left < running, (left, running)  # only the idle one is left
        assert http.get(f"/api/workflow-runs/{run_id}").status_code == 404
        assert http.get(f"/api/chats/{agents[0]['conversation_id']}").status_code == 404
    time.sleep(1.0)  # an agent still running would ask the model about every 0.2 s
    assert len(fake_model_server.requests) == calls
    placeholders = ", ".join("?" * len(run_ids))
    rows = f"SELECT count(*) FROM agent_runs WHERE id IN ({placeholders})"
    assert server.query(rows, *run_ids) == [(0,)]
    assert _dbos_rows(server, run_ids) == 0
    assert "Traceback" not in server.log


def _dbos_rows(server: LiveServer, run_ids: list[str]) -> int:
    """DBOS's records of the runs: their status and their steps' outputs."""
    placeholders = ", ".join("?" * len(run_ids))
    return sum(
        server.query(
            f"SELECT count(*) FROM {table} WHERE workflow_uuid IN ({placeholders})",
            *run_ids,
            dbos=True,
        )[0][0]
        for table in ("workflow_status", "operation_outputs")
    )


TINY = """export const meta = {name: 'tiny', description: 'one agent'}
return await agent('question 7')"""


def chat_respond(body: dict[str, Any]) -> Reply:
    """The chat's model starts a workflow, answers at once, and reads the result it is told."""
    messages = body["messages"]
    last = messages[-1]
    if _first_user(body) != "use a workflow":
        return respond(body)
    if last["role"] == "user" and last["content"] == "use a workflow":
        return Reply.tool_calls([("run_workflow", {"script": TINY})])
    if last["role"] == "tool":
        return Reply.text("started it")
    return Reply.text("the workflow said: " + str(last["content"]).splitlines()[-1])


def test_the_chats_model_starts_a_workflow_and_is_woken_by_its_result(
    fake_server_each_engine: LiveServer, fake_model_server: FakeModelServer
) -> None:
    server = fake_server_each_engine
    fake_model_server.reset()
    fake_model_server.responder = chat_respond
    chat_id = server.new_chat()["id"]
    with server.client() as http:
        http.post(f"/api/chats/{chat_id}/messages", json={"content": "use a workflow"})
    messages = messages_when(
        server,
        chat_id,
        lambda last: last["role"] == "assistant" and "workflow said" in last["content"],
    )
    with server.client() as http:
        runs = http.get(f"/api/chats/{chat_id}/workflows").json()["runs"]
    assert [(r["name"], r["status"], r["result"]) for r in runs] == [
        ("tiny", "succeeded", "answer 7")
    ]
    notice = next(m for m in messages if m["tool_name"] == "subagent_notification")
    assert notice["content"].startswith(
        f'[workflow succeeded] run_id={runs[0]["run_id"]} name="tiny"'
    )
    assert messages[-1]["content"] == 'the workflow said: "answer 7"'


OPTIONS = """export const meta = {
  name: 'options', description: 'agents with their own models, effort and type',
  phases: [{ title: 'scan', detail: 'look first', model: 'phase-model' }, { title: 'judge' }],
}
phase('scan')
const plain = await agent('opt plain', { label: 'plain' })
const deep = await agent('opt deep', { effort: 'max', model: 'other-model' })
const typed = await agent('opt typed', { agentType: 'strict-reviewer' })
const opus = await agent('opt opus', { model: 'opus', phase: 'judge' })
const bad = await agent('opt bad', { effort: 'extreme' }).catch((e) => e.message)
return [plain, deep, typed, opus, bad, args]
"""


def test_agents_get_their_model_effort_and_agent_types_instructions(
    fake_server_each_engine: LiveServer, fake_model_server: FakeModelServer
) -> None:
    server = fake_server_each_engine
    fake_model_server.reset()
    fake_model_server.responder = lambda body: Reply.text(f"{_first_user(body)} done")
    agents = server.workspace / ".claude" / "agents"
    agents.mkdir(parents=True, exist_ok=True)
    (agents / "strict-reviewer.md").write_text(
        "---\nname: strict-reviewer\ndescription: reviews strictly\ntools: Read, Grep\n"
        "model: inherit\n---\nYou review code strictly and cite lines.\n"
    )
    chat_id = server.new_chat()["id"]

    run = ended(server, start(server, chat_id, script=OPTIONS, args={"n": 1}).json()["run_id"])

    assert run["status"] == "succeeded", run
    assert run["result"] == [
        "opt plain done",
        "opt deep done",
        "opt typed done",
        "opt opus done",
        "effort 'extreme' is not one of low, medium, high, xhigh, max",
        {"n": 1},
    ]
    # The run record carries what it was started with and the phases its script declares.
    assert run["args"] == {"n": 1}
    assert run["phases"] == [
        {"title": "scan", "detail": "look first", "model": "phase-model"},
        {"title": "judge", "detail": None, "model": None},
    ]
    sent = {_first_user(body): body for body in fake_model_server.requests}
    assert set(sent) == {"opt plain", "opt deep", "opt typed", "opt opus"}
    chat_model = sent["opt opus"]["model"]
    assert sent["opt plain"]["model"] == "phase-model"  # the phase's model
    assert sent["opt deep"]["model"] == "other-model"
    # Asked for `max`: an endpoint other than DeepSeek's is asked for its highest, `high`.
    assert sent["opt deep"]["reasoning_effort"] == "high"
    assert "reasoning_effort" not in sent["opt plain"]
    system = sent["opt typed"]["messages"][0]["content"]
    assert system.endswith("Your role:\nYou review code strictly and cite lines.")
    assert [t["function"]["name"] for t in sent["opt typed"]["tools"]] == ["read_file", "grep"]
    assert "Your role" not in sent["opt plain"]["messages"][0]["content"]
    warnings = [e["text"] for e in run["log"] if e["kind"] == "warning"]
    assert warnings == [f"model 'opus' has no alias in BOOCODE_MODEL_ALIASES: using {chat_model}"]
    models = {a["label"]: a["model"] for a in run["agents"]}
    assert models["plain"] == "phase-model" and models["opt opus"] == chat_model
