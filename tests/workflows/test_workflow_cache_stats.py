"""A workflow's agents in the chat's prompt-cache figures, over HTTP, on SQLite and PostgreSQL:
each agent a conversation of its own and in the total, the turns the chat's own."""

from __future__ import annotations

from typing import Any

from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer
from workflows.runs import messages_when

PROMPT = "ask two agents"
PAIR = """export const meta = {name: 'pair', description: 'two agents, one after the other'}
const first = await agent('pair question 1', {label: 'first'})
const second = await agent('pair question 2', {label: 'second'})
return [first, second]"""


def respond(body: dict[str, Any]) -> Reply:
    """The chat's model starts the workflow and reads its result; each agent reads a file, then
    answers."""
    messages = body["messages"]
    first = messages[1]["content"]
    last = messages[-1]
    if first.startswith("pair question "):
        if last["role"] == "user":
            return Reply.tool_calls([("read_file", {"path": "README.md"})])
        return Reply.text(f"answer {first.split()[-1]}")
    if last["role"] == "user" and last["content"] == PROMPT:
        return Reply.tool_calls([("run_workflow", {"script": PAIR})])
    if last["role"] == "tool":
        return Reply.text("started it")
    return Reply.text("the workflow answered")


def test_each_workflow_agent_is_a_conversation_of_its_own_in_the_chat_s_cache_stats(
    fake_server_each_engine: LiveServer, fake_model_server: FakeModelServer
) -> None:
    server = fake_server_each_engine
    fake_model_server.reset()
    fake_model_server.responder = respond
    chat_id = server.new_chat()["id"]
    with server.client() as http:
        posted = http.post(f"/api/chats/{chat_id}/messages", json={"content": PROMPT})
        assert posted.status_code == 202, posted.text
    messages = messages_when(
        server, chat_id, lambda last: last["content"] == "the workflow answered"
    )
    with server.client() as http:
        (run,) = http.get(f"/api/chats/{chat_id}/workflows").json()["runs"]
        detail = http.get(f"/api/workflow-runs/{run['run_id']}").json()
        stats = http.get(f"/api/chats/{chat_id}/cache-stats").json()

    assert run["status"] == "succeeded" and run["result"] == ["answer 1", "answer 2"]
    # The chat's turns: the user's (run_workflow, then "started it") and the one its result woke.
    assert [m["turn"] for m in messages if m["role"] == "assistant"] == [1, 1, 2]
    main = [call for call in stats["calls"] if call["conversation"] == "main"]
    assert [call["turn"] for call in main] == [1, 1, 2]
    assert [(t["turn"], t["calls"]) for t in stats["turns"]] == [(1, 2), (2, 1)]

    # Each agent, named by its label and the start of its conversation's id, made two calls.
    named = {c["conversation"]: c["totals"] for c in stats["conversations"]}
    agents = {f"{a['label']} · {a['conversation_id'][:12]}" for a in detail["agents"]}
    assert agents == {name for name in named if name != "main"}
    assert sorted(name.split(" · ")[0] for name in agents) == ["first", "second"]
    assert [named[name]["calls"] for name in sorted(agents)] == [2, 2]
    assert named["main"]["calls"] == len(main) == 3
    total = stats["total"]
    assert total["calls"] == len(stats["calls"]) == len(main) + 4
    assert total["prompt_tokens"] == sum(t["prompt_tokens"] for t in named.values())
    assert total["cache_hit_tokens"] == sum(t["cache_hit_tokens"] for t in named.values())
    assert sum(t["calls"] for t in stats["turns"]) == len(main)
