"""Start a run from anywhere, a step of another run included, as a run of its own."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def outside_any_run(start: Callable[[], Awaitable[T]]) -> T:
    """Await `start()` in an empty context: DBOS then sees no calling workflow or step.

    A run started from a step (a subagent spawned by a tool call, a turn woken by a
    notification) is not that step's child: it outlives it, and DBOS refuses to start a
    workflow inside a step anyway.
    """

    async def run() -> T:
        return await start()

    return await asyncio.create_task(run(), context=contextvars.Context())
