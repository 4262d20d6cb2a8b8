"""How many agent runs of one kind a process runs at once: a slot to take before the first step.

A process that runs agent runs starts the ones it creates at once, as DBOS workflows, instead of
putting them on a database queue that a thread polls: an idle server then does no work for them,
and a run starts without waiting for a poll. The limits a queue would keep are kept here: a run
waits for a slot in its workflow body, before its first step, so one that waits when the process
dies is recovered by DBOS and waits again. Waiting is first come, first served; a partition (the
parent chat of a subagent) has its own limit, taken before the process-wide one so that runs
waiting on a busy partition leave the others their share.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass
class _Partition:
    slots: asyncio.Semaphore
    users: int = 0


@dataclass
class Admission:
    """At most `limit` holders at once, and at most `partition_limit` per partition."""

    limit: int
    partition_limit: int | None = None
    _slots: asyncio.Semaphore = field(init=False)
    _partitions: dict[str, _Partition] = field(init=False, default_factory=dict)
    running: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.limit)

    @asynccontextmanager
    async def slot(self, partition: str | None = None) -> AsyncIterator[None]:
        """Hold one slot (of `partition` too, when partitions are limited) for the block."""
        if partition is None or self.partition_limit is None:
            async with self._held():
                yield
            return
        part = self._partitions.get(partition)
        if part is None:
            part = self._partitions[partition] = _Partition(asyncio.Semaphore(self.partition_limit))
        part.users += 1
        try:
            async with part.slots, self._held():
                yield
        finally:
            part.users -= 1
            if part.users == 0:
                del self._partitions[partition]

    async def run_unless_cancelled(
        self,
        work: Callable[[], Awaitable[T]],
        cancelled: asyncio.Event,
        partition: str | None = None,
    ) -> T:
        """`work()` holding a slot; at once and without one when `cancelled` is set while it
        waits (a cancelled run only records its end, so it need not wait for others to end)."""
        holding = asyncio.Event()

        async def held() -> T:
            async with self.slot(partition):
                holding.set()
                return await work()

        attempt = asyncio.ensure_future(held())
        stop = asyncio.ensure_future(cancelled.wait())
        try:
            await asyncio.wait({attempt, stop}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            attempt.cancel()
            raise
        finally:
            stop.cancel()
        if attempt.done() or holding.is_set():
            return await attempt
        attempt.cancel()  # still waiting for a slot: the semaphore hands it to the next
        with contextlib.suppress(asyncio.CancelledError):
            await attempt
        return await work()

    @asynccontextmanager
    async def _held(self) -> AsyncIterator[None]:
        """One of the process-wide slots, counted in `running` while held."""
        async with self._slots:
            self.running += 1
            try:
                yield
            finally:
                self.running -= 1
