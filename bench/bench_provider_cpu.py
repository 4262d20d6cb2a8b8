"""CPU of one model call on the client side, by history length: the SDK's `create` vs BooCode's.

The scripted peer model runs in its own process, so the CPU time of this process around a call
is the client's work: building and serialising the body, sending it, parsing the streamed
answer. "before" is `chat.completions.create(...)`, whose typed transform walks the whole
history on every call; "after" is `OpenAICompatModel.complete`, which posts the same body
through the same client without it. Calls alternate, same history, same answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import openai
from peer_model import MODEL, PeerModel, script

from boocode.agent.prompt import system_prompt
from boocode.providers.openai_compat import OpenAICompatModel
from boocode.tools.registry import TOOL_SCHEMAS

SIZES = {5: 40, 200: 20, 800: 8}


def history(size: int) -> list[dict[str, Any]]:
    """A chat of `size` messages: prompts, tool calls, tool results of a few hundred bytes."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt("/srv/project")}]
    turn = 0
    while len(messages) < size - 1:
        call_id = f"call_{turn}"
        arguments = json.dumps({"path": f"src/module_{turn}.py"})
        messages += [
            {"role": "user", "content": f"Look at module {turn} and tell me what it does."},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {"name": "read_file", "arguments": arguments},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call_id, "content": "def f(x):\n    return x\n" * 20},
            {"role": "assistant", "content": f"Module {turn} defines one small function. " * 4},
        ]
        turn += 1
    messages = messages[: size - 1]
    messages.append({"role": "user", "content": script(chars=20)})
    return messages


async def _cpu_ms(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.process_time()
    await call()
    return (time.process_time() - started) * 1000


async def main(sizes: dict[int, int]) -> None:
    tools = list(TOOL_SCHEMAS)
    with PeerModel() as peer:
        sdk = openai.AsyncOpenAI(base_url=peer.base_url, api_key=peer.api_key)
        model = OpenAICompatModel(peer.base_url, peer.api_key, MODEL)

        async def before(messages: list[dict[str, Any]]) -> None:
            stream = await sdk.chat.completions.create(
                model=MODEL,
                messages=messages,  # type: ignore[arg-type]
                tools=tools,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
            )
            async with stream:
                async for _chunk in stream:
                    pass

        async def after(messages: list[dict[str, Any]]) -> None:
            await model.complete(messages, tools)

        print("CPU per model call on the client (median), scripted model in another process")
        print(f"{'messages':>9} {'create()':>10} {'post()':>9} {'ratio':>7} {'json.dumps':>11}")
        for size, calls in sizes.items():
            messages = history(size)
            await before(messages)  # warm both paths and the connection pool
            await after(messages)
            old, new = [], []
            for _ in range(calls):
                old.append(await _cpu_ms(lambda m=messages: before(m)))
                new.append(await _cpu_ms(lambda m=messages: after(m)))
            started = time.process_time()
            json.dumps({"model": MODEL, "messages": messages, "tools": tools})
            dumps_ms = (time.process_time() - started) * 1000
            old_ms, new_ms = statistics.median(old), statistics.median(new)
            print(
                f"{size:>9} {old_ms:>8.2f}ms {new_ms:>7.2f}ms {old_ms / new_ms:>6.1f}x "
                f"{dumps_ms:>9.2f}ms"
            )
        await model.aclose()
        await sdk.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, help="calls per size and path (default: by size)")
    args = parser.parse_args()
    asyncio.run(main({size: args.calls or calls for size, calls in SIZES.items()}))
