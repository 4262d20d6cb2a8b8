"""Prompt-cache friendliness of a long session, against the fake model's prefix cache.

A `boocode serve` runs 50 scripted turns (tool calls, auto-fix notes, attachments, background
subagents whose notifications reach the chat); the fake model reports as cached the longest
byte-identical prefix each prompt shares with an earlier one. Prints the share of prompt tokens
served from cache (the subagents' calls included), whether every request of the chat extended the
one before it byte for byte, and the money saved at DeepSeek's default prices. Then, in process on
SQLite, the time `record_model_call` takes for a conversation of 100 and of 1,000 messages.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from boocode.cache import ModelRequest, record_model_call
from boocode.cache.segments import Segment
from boocode.config import Settings
from boocode.contracts.cache import SegmentKind
from boocode.contracts.usage import TokenUsage
from boocode.db.chats import insert_chat
from boocode.db.engine import Database
from support.cache_session import (
    cache_server_env,
    prepare_workspace,
    run_session,
    served_from_cache,
)
from support.fake_model import FakeModelServer
from support.live_server import LiveServer

TURNS = 50
RECORD_SAMPLES = 30


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeModelServer() as fake:
        server = LiveServer.start(Path(tmp), env=cache_server_env(fake), token="bench-token-0123")
        try:
            prepare_workspace(server.workspace)
            started = time.perf_counter()
            result = await run_session(server, fake, TURNS)
            wall = time.perf_counter() - started
        finally:
            server.stop()
    prompts = result.prompts
    extended = sum(b.startswith(a) for a, b in itertools.pairwise(prompts))
    total = result.stats["total"]
    agents = len(result.stats["conversations"]) - 1
    chat = [c for c in result.stats["calls"] if c["conversation"] == "main"]
    helpers = [c for c in result.stats["calls"] if c["conversation"] != "main"]
    print(
        f"Prompt cache over a {TURNS}-turn session ({wall:.1f} s): the chat's {len(prompts)} "
        f"model calls in {result.turns} turns ({result.turns - TURNS} woken by a notification), "
        f"and {agents} subagents' {result.agent_calls} calls"
    )
    print(f"  prompt tokens served from cache: {served_from_cache(result.stats):.4f}")
    print(f"    the chat's calls {_hit_rate(chat):.4f}, the subagents' {_hit_rate(helpers):.4f}")
    chained = f"{extended}/{len(prompts) - 1}"
    print(f"  the chat's requests extending the previous one byte for byte: {chained}")
    print(
        f"  prompt tokens {total['prompt_tokens']}, from cache {total['cache_hit_tokens']}, "
        f"saved ${total['saved_usd']:.5f} at the default prices"
    )

    for messages in (100, 1000):
        median = await _record_time(messages)
        print(f"  record_model_call, {messages} messages in the request: {median * 1000:.2f} ms")


def _hit_rate(calls: list[dict[str, Any]]) -> float:
    prompt = sum(call["prompt_tokens"] for call in calls)
    return sum(call["cache_hit_tokens"] for call in calls) / max(prompt, 1)


async def _record_time(messages: int) -> float:
    """Median time to record a call whose request grows by one message each time."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Settings(data_dir=Path(tmp)).resolved_database_url)
        await db.upgrade()
        chat = await insert_chat(db, workspace=tmp, model="fake-model", title="bench")
        head = [
            Segment(SegmentKind.SYSTEM, "system prompt", b"x" * 800),
            Segment(SegmentKind.TOOLS, "tool schemas (6)", b"y" * 3000),
        ]
        times = []
        for call in range(RECORD_SAMPLES):
            body = [
                Segment(SegmentKind.HISTORY, f"user · turn {i}", f"message {i} ".encode() * 20)
                for i in range(messages + call)
            ]
            request = ModelRequest(chat.id, call, "fake-model", [], [], head + body)
            usage = TokenUsage(prompt_tokens=request.size // 4, cache_hit_tokens=request.size // 5)
            started = time.perf_counter()
            await record_model_call(db, request, usage, step_key=f"t{call}", trace_id=None)
            times.append(time.perf_counter() - started)
        await db.dispose()
    return statistics.median(times[1:])


if __name__ == "__main__":
    asyncio.run(main())
