"""Over a 50-turn session with tool calls, auto-fix notes and attachments, every request extends
the one before byte for byte, and the fake model's prefix cache serves ≥ 98% of prompt tokens."""

from __future__ import annotations

import pytest

from support.cache_session import run_session, served_from_cache
from support.fake_model import FakeModelServer
from support.live_server import LiveServer

TURNS = 50


# 50 real turns: generous on a loaded machine; about 45 s on an idle one.
@pytest.mark.timeout(600)
async def test_fifty_turns_keep_every_request_a_prefix_of_the_next(
    cache_server: LiveServer, fake_model: FakeModelServer
) -> None:
    result = await run_session(cache_server, fake_model, TURNS)

    prompts = result.prompts
    assert len(prompts) >= TURNS * 2
    broken = [i for i in range(1, len(prompts)) if not prompts[i].startswith(prompts[i - 1])]
    assert broken == []
    stats = result.stats
    assert served_from_cache(stats) >= 0.98
    calls = stats["calls"]
    assert len(calls) == len(prompts)
    assert [c["diagnosis"]["status"] for c in calls] == ["cold"] + ["intact"] * (len(calls) - 1)
    # What we recorded is what the model got: the same bytes, segment for segment.
    assert [c["request_bytes"] for c in calls] == [len(p) for p in prompts]
    kinds = {segment["kind"] for call in calls for segment in call["segments"]}
    assert kinds == {"system", "tools", "history", "turn", "attachment", "note"}
    assert [t["turn"] for t in stats["turns"]] == list(range(1, TURNS + 1))
    assert stats["total"]["saved_usd"] > 0
