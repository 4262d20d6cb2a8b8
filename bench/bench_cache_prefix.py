"""Prompt-cache friendliness of a long session, against the fake model's prefix cache.

A `boocode serve` runs 50 scripted turns (tool calls, auto-fix notes, attachments); the fake
model reports as cached the longest byte-identical prefix each prompt shares with an earlier one.
Prints the share of prompt tokens served from cache, whether every request extended the one
before it byte for byte, and the money saved at DeepSeek's default prices.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.cache_session import (
    cache_server_env,
    prepare_workspace,
    run_session,
    served_from_cache,
)
from support.fake_model import FakeModelServer
from support.live_server import LiveServer

TURNS = 50


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
    extended = sum(prompts[i].startswith(prompts[i - 1]) for i in range(1, len(prompts)))
    total = result.stats["total"]
    print(f"Prompt cache over a {TURNS}-turn session ({len(prompts)} model calls, {wall:.1f} s)")
    print(f"  prompt tokens served from cache: {served_from_cache(result.stats):.4f}")
    print(f"  requests extending the previous one byte for byte: {extended}/{len(prompts) - 1}")
    print(
        f"  prompt tokens {total['prompt_tokens']}, from cache {total['cache_hit_tokens']}, "
        f"saved ${total['saved_usd']:.5f} at the default prices"
    )


if __name__ == "__main__":
    asyncio.run(main())
