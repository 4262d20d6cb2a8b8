"""The slots agent runs take before their first step: limits per process and per partition."""

from __future__ import annotations

import asyncio

from boocode.runs.admission import Admission


async def _hold(
    admission: Admission, partition: str | None, log: list[str], name: str, release: asyncio.Event
) -> None:
    async with admission.slot(partition):
        log.append(name)
        await release.wait()


def test_runs_wait_for_a_slot_first_come_first_served() -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        admission = Admission(2)
        log: list[str] = []
        release = asyncio.Event()
        tasks = [
            asyncio.create_task(_hold(admission, None, log, f"r{i}", release)) for i in range(5)
        ]
        await asyncio.sleep(0.01)
        first = list(log)
        release.set()
        await asyncio.gather(*tasks)
        return first, log

    first, log = asyncio.run(scenario())
    assert first == ["r0", "r1"]
    assert log == ["r0", "r1", "r2", "r3", "r4"]


def test_a_busy_partition_leaves_the_others_their_share() -> None:
    async def scenario() -> list[str]:
        admission = Admission(3, partition_limit=1)
        log: list[str] = []
        busy, other = asyncio.Event(), asyncio.Event()
        tasks = [
            asyncio.create_task(_hold(admission, "chat-a", log, f"a{i}", busy)) for i in range(4)
        ]
        tasks.append(asyncio.create_task(_hold(admission, "chat-b", log, "b0", other)))
        await asyncio.sleep(0.01)
        running = list(log)
        assert admission.running == 2
        busy.set()
        other.set()
        await asyncio.gather(*tasks)
        assert admission.running == 0
        return running

    # chat-a's waiting runs hold no process-wide slot, so chat-b's run starts at once.
    assert asyncio.run(scenario()) == ["a0", "b0"]
