"""Over a 50-turn session with tool calls, auto-fix notes, attachments and subagents whose
notifications reach the chat, every request of the chat extends the one before byte for byte, and
the fake model's prefix cache serves ≥ 98% of prompt tokens."""

from __future__ import annotations

import itertools

import pytest

from support.cache_session import run_session, served_from_cache, spawns
from support.fake_model import FakeModelServer
from support.live_server import LiveServer

TURNS = 50


# 50 real turns and their subagents: generous on a loaded machine; about 50 s on an idle one.
@pytest.mark.timeout(600)
async def test_fifty_turns_keep_every_request_a_prefix_of_the_next(
    cache_server: LiveServer, fake_model: FakeModelServer
) -> None:
    result = await run_session(cache_server, fake_model, TURNS)

    prompts = result.prompts
    assert len(prompts) >= TURNS * 2
    broken = [i for i, (a, b) in enumerate(itertools.pairwise(prompts)) if not b.startswith(a)]
    assert broken == []
    stats = result.stats
    assert served_from_cache(stats) >= 0.98
    calls = [call for call in stats["calls"] if call["conversation"] == "main"]
    assert [c["diagnosis"]["status"] for c in calls] == ["cold"] + ["intact"] * (len(calls) - 1)
    # What we recorded is what the model got: the same bytes, segment for segment.
    assert [c["request_bytes"] for c in calls] == [len(p) for p in prompts]
    kinds = {segment["kind"] for call in calls for segment in call["segments"]}
    assert kinds == {"system", "tools", "history", "turn", "attachment", "note"}

    # Each subagent's notification reached the chat as a note of its own, at its request's end.
    helpers = sum(map(spawns, range(1, TURNS + 1)))
    notified = [
        call
        for call, request in zip(calls, result.requests, strict=True)
        if str(request["messages"][-1]["content"]).startswith("[subagent succeeded]")
    ]
    assert len(notified) == helpers
    assert [call["segments"][-1] for call in notified] == [
        {
            "kind": "note",
            "label": f"subagent notification · turn {call['turn']}",
            "bytes": call["segments"][-1]["bytes"],
            "count": 1,
        }
        for call in notified
    ]

    # Each subagent is a conversation of its own, in the total; the turns are the chat's own.
    conversations = {c["conversation"]: c["totals"] for c in stats["conversations"]}
    agents = {name.split(" · ")[0]: t for name, t in conversations.items() if name != "main"}
    assert sorted(agents) == sorted(f"helper {t}" for t in range(1, TURNS + 1) if spawns(t))
    assert [t["calls"] for t in agents.values()] == [2] * helpers
    assert result.agent_calls == 2 * helpers
    assert conversations["main"]["calls"] == len(calls)
    assert stats["total"]["calls"] == len(stats["calls"]) == len(calls) + 2 * helpers
    assert [t["turn"] for t in stats["turns"]] == list(range(1, result.turns + 1))
    assert sum(t["calls"] for t in stats["turns"]) == len(calls)
    assert stats["total"]["saved_usd"] > 0
