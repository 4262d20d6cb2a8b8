"""What a script cannot do: read the clock or chance, reach the host, outgrow its memory, or
outlive its deadline; and what cancelling a run does to its process."""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import sys
import time
from pathlib import Path

import pytest
from pydantic import JsonValue

from boocode.workflows.host import AgentOptions, ScriptCancelled
from boocode.workflows.limits import MIB
from boocode.workflows.outcome import ScriptStatus
from boocode.workflows.sandbox import SpareChild
from workflows.recording_host import ERRORS_OF, RecordingHost, run

UNAVAILABLE = (
    "is not available in a workflow script: a workflow must replay the same way when it is "
    "resumed; pass the value in through args"
)


def workflow_children(parent: int | None = None) -> list[int]:
    """The PIDs of the workflow children of `parent` (this process) alive or not yet reaped."""
    parent = parent or os.getpid()
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if ppid == parent and b"boocode.workflows.child" in command:
            found.append(int(stat.parent.name))
    return found


async def test_the_clock_and_chance_throw_saying_why() -> None:
    outcome = await run(
        ERRORS_OF
        + """
return {
  now: await errorOf(() => Date.now()),
  random: await errorOf(() => Math.random()),
  today: await errorOf(() => new Date()),
  dateString: await errorOf(() => Date()),
  temporal: await errorOf(() => Temporal.Now.instant()),
  formatted: await errorOf(() => new Intl.DateTimeFormat('en-US').format()),
  formattedDate: new Intl.DateTimeFormat('en-US', { timeZone: 'UTC' }).format(new Date(0)),
  given: new Date('2026-11-25T12:00:00Z').getTime(),
  epoch: new Date(0) instanceof Date,
}
"""
    )

    assert outcome.result == {
        "now": f"Error: Date.now() {UNAVAILABLE}",
        "random": f"Error: Math.random() {UNAVAILABLE}",
        "today": f"Error: The current date (Date() or new Date()) {UNAVAILABLE}",
        "dateString": f"Error: The current date (Date() or new Date()) {UNAVAILABLE}",
        "temporal": f"Error: Temporal.Now.instant() {UNAVAILABLE}",
        "formatted": "Error: Formatting the current date (Intl.DateTimeFormat with no date) "
        f"{UNAVAILABLE}",
        "formattedDate": "1/1/1970",
        "given": 1795608000000,
        "epoch": True,
    }


async def test_nothing_of_the_host_is_reachable() -> None:
    outcome = await run(
        ERRORS_OF
        + """
const names = ['require', 'process', 'fetch', 'setTimeout', 'setInterval', 'clearTimeout',
  'setImmediate', 'queueMicrotask', 'XMLHttpRequest', 'WebSocket', 'module', 'exports',
  '__dirname', 'Buffer', 'Deno', 'Bun', 'importScripts', '__timer_manager']
return {
  present: names.filter((name) => typeof globalThis[name] !== 'undefined'),
  timer: await errorOf(() => setTimeout(() => {}, 10)),
  files: await errorOf(() => require('fs')),
  replaced: await errorOf(() => { agent = null }),
}
"""
    )

    assert outcome.result == {
        "present": [],
        "timer": "ReferenceError: setTimeout is not defined",
        "files": "ReferenceError: require is not defined",
        "replaced": "TypeError: Cannot assign to read only property 'agent' of object '#<Object>'",
    }


async def test_the_child_does_not_inherit_the_servers_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = f"secret-{secrets.token_hex(8)}"
    monkeypatch.setenv("DEEPSEEK_API_KEY", secret)

    async def look_at_the_child(prompt: str, options: AgentOptions) -> JsonValue:
        [child] = workflow_children()
        environ = Path(f"/proc/{child}/environ").read_bytes()
        return {
            "leaked": secret.encode() in environ,
            "names": sorted(
                entry.split(b"=")[0].decode() for entry in environ.split(b"\0") if entry
            ),
        }

    outcome = await run("return await agent('look')", host=RecordingHost(look_at_the_child))

    assert outcome.result == {"leaked": False, "names": ["LANG", "PYTHONPATH"]}


@pytest.mark.parametrize(
    "allocation",
    [
        "const rows = []; while (true) rows.push({ row: rows.length })",
        "await agent('first'); const t = []; while (true) t.push('x'.repeat(64) + t.length)",
        "const buffers = []; while (true) buffers.push(new Uint8Array(8 * 1024 * 1024).fill(1))",
    ],
    ids=["heap", "heap-after-await", "array-buffers"],
)
async def test_a_script_over_its_memory_limit_is_stopped(allocation: str) -> None:
    outcome = await run(allocation, memory_bytes=16 * MIB)

    assert outcome.status == ScriptStatus.MEMORY, outcome
    assert outcome.error == "the script used more than its 16 MiB of memory"


async def test_runaway_loops_die_at_the_deadline_while_other_runs_and_the_event_loop_go_on() -> (
    None
):
    ticks: list[float] = []

    async def tick() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.02)

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    try:
        spinning, wedged, normal = await asyncio.gather(
            run("while (true) {}", deadline_s=3),
            run("await agent('first'); while (true) {}", deadline_s=3),
            run("let n = 0\nfor (const step of 'abc') n += (await agent(step)).length\nreturn n"),
        )
    finally:
        ticker.cancel()

    assert (spinning.status, spinning.error) == (
        ScriptStatus.TIMED_OUT,
        "the workflow did not finish within its deadline of 3 s",
    )
    assert wedged.status == ScriptStatus.TIMED_OUT
    assert (normal.status, normal.result) == (ScriptStatus.SUCCEEDED, 21)
    assert time.monotonic() - started < 10
    # The test's own event loop never stalled: a wedged isolate holds only its child.
    assert max(later - earlier for earlier, later in itertools.pairwise(ticks)) < 1
    assert workflow_children() == []


async def test_cancelling_the_run_kills_its_process() -> None:
    agent_started = asyncio.Event()

    async def forever(prompt: str, options: AgentOptions) -> JsonValue:
        agent_started.set()
        await asyncio.sleep(3600)
        return None

    running = asyncio.create_task(run("await agent('never ends')", host=RecordingHost(forever)))
    await asyncio.wait_for(agent_started.wait(), 10)
    assert len(workflow_children()) == 1

    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert workflow_children() == []


async def test_a_host_can_cancel_the_whole_run() -> None:
    async def stop(prompt: str, options: AgentOptions) -> JsonValue:
        if prompt == "stop":
            raise ScriptCancelled("the user cancelled the workflow")
        await asyncio.sleep(3600)
        return None

    outcome = await run(
        "await parallel([() => agent('wait'), () => agent('stop')])\nreturn 'unreachable'",
        host=RecordingHost(stop),
        max_concurrent_agents=2,
    )

    assert (outcome.status, outcome.error) == (
        ScriptStatus.CANCELLED,
        "the user cancelled the workflow",
    )
    assert workflow_children() == []


async def test_agents_a_finished_script_left_running_are_cancelled() -> None:
    cancelled = asyncio.Event()

    async def slow(prompt: str, options: AgentOptions) -> JsonValue:
        if prompt == "awaited":
            return "quick"
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return None

    outcome = await run(
        "agent('never awaited')\nawait agent('awaited')\nreturn 'early'",
        host=RecordingHost(slow),
        max_concurrent_agents=2,
    )

    assert outcome.result == "early"
    assert cancelled.is_set()


# The start of a server run as a process of its own, with a host whose agents do nothing.
SERVER_START = """
import asyncio, sys
from boocode.workflows.sandbox import SpareChild, run_script
from boocode.workflows.script import load_script

class Host:
    async def agent(self, prompt, options):
        return None

    def tokens_spent(self):
        return 0
"""
# A server running a runaway script; the test kills it with SIGKILL, so nothing in it gets to
# kill the child.
SERVER = (
    SERVER_START
    + """
script = load_script("export const meta = { name: 'spin', description: 'd' }\\n" + sys.argv[1])
asyncio.run(run_script(script, None, Host()))
"""
)


def cpu_seconds(pid: int) -> float | None:
    """CPU time used by a live process; None once it is gone (or a zombie)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    if fields[0] == "Z":
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize(
    "runaway",
    ["while (true) {}", "await agent('x'); while (true) {}"],
    ids=["blocking-the-child", "after-an-await"],
)
async def test_the_child_dies_with_the_server(runaway: str) -> None:
    server = await asyncio.create_subprocess_exec(sys.executable, "-c", SERVER, runaway)
    try:
        child = None
        for _ in range(200):
            found = workflow_children(server.pid)
            # Past start-up (about 0.3 s of CPU) the child is spinning in the script.
            if found and (cpu_seconds(found[0]) or 0) > 0.8:
                child = found[0]
                break
            await asyncio.sleep(0.05)
        assert child is not None
    finally:
        server.kill()
        await server.wait()

    for _ in range(50):
        if cpu_seconds(child) is None:
            break
        await asyncio.sleep(0.1)
    assert cpu_seconds(child) is None


async def test_a_run_takes_the_process_started_ahead_and_starts_the_next() -> None:
    """A server's runs share one `SpareChild`: each run uses the process started for it during
    the run before, whose start-up (Python, V8) is then off the run's path."""
    spare = SpareChild()
    seen: list[list[int]] = []

    async def look(prompt: str, options: AgentOptions) -> JsonValue:
        seen.append(sorted(workflow_children()))
        return prompt

    try:
        for prompt in ("first", "second"):
            outcome = await run(
                f"return await agent('{prompt}')", host=RecordingHost(look), spare=spare
            )
            assert outcome.result == prompt
        [waiting] = workflow_children()  # the third run's, started by the second
    finally:
        await spare.close()

    first, second = seen
    assert len(first) == len(second) == 2  # the run's own process and the next run's
    # The second run ran in the process the first had started ahead.
    assert len(set(first) & set(second)) == 1
    assert waiting in second and waiting not in first
    assert workflow_children() == []  # closing stops the one waiting


# A server that ran one script, and so holds a process started ahead for the next.
SPARE_SERVER = (
    SERVER_START
    + """
async def main():
    spare = SpareChild()
    script = load_script("export const meta = { name: 'once', description: 'd' }\\nreturn 1")
    await run_script(script, None, Host(), spare=spare)
    print("ran", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""
)


async def test_the_process_started_ahead_dies_with_the_server() -> None:
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SPARE_SERVER, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        assert await asyncio.wait_for(server.stdout.readline(), 30) == b"ran\n"
        for _ in range(100):
            if found := workflow_children(server.pid):
                break
            await asyncio.sleep(0.05)
        [waiting] = found
    finally:
        server.kill()
        await server.wait()
    for _ in range(50):
        if cpu_seconds(waiting) is None:
            break
        await asyncio.sleep(0.1)
    assert cpu_seconds(waiting) is None
