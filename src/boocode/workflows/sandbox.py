"""Running a checked script: one child process per run, killed at the deadline or on cancel."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from asyncio.subprocess import PIPE, Process
from pathlib import Path

from pydantic import JsonValue, ValidationError

import boocode
from boocode.workflows.host import ScriptCancelled, WorkflowHost
from boocode.workflows.limits import MAX_ITEMS, MIB, ScriptLimits
from boocode.workflows.outcome import ScriptOutcome, ScriptStatus
from boocode.workflows.protocol import (
    CHILD_MESSAGE,
    MAX_LINE_BYTES,
    AgentRequest,
    Finished,
    HostRequest,
    LogEvent,
    NestedScript,
    PhaseEvent,
    Reply,
    RuntimeConfig,
    StartRun,
)
from boocode.workflows.script import Script

_STDERR_TAIL_BYTES = 4096
_EXIT_GRACE_S = 2.0


async def run_script(
    script: Script,
    args: JsonValue,
    host: WorkflowHost,
    limits: ScriptLimits | None = None,
    *,
    spare: SpareChild | None = None,
) -> ScriptOutcome:
    """Run `script` with `args` against `host`; cancelling the caller kills the child. With
    `spare`, the child is the one it started ahead (and it starts the next)."""
    limits = limits or ScriptLimits()
    child = await spare.take() if spare is not None else await _start_child()
    assert child.stderr is not None
    stderr_tail = asyncio.create_task(_tail(child.stderr))
    try:
        async with asyncio.timeout(limits.deadline_s):
            outcome = await _Run(child, host, limits, stderr_tail).outcome(script, args)
    except TimeoutError:
        error = f"the workflow did not finish within its deadline of {limits.deadline_s:g} s"
        outcome = ScriptOutcome(status=ScriptStatus.TIMED_OUT, error=error)
    else:
        if outcome.status != ScriptStatus.CANCELLED:
            await _exit_of(child)
    finally:
        if child.returncode is None:
            child.kill()
        stderr_tail.cancel()
        await child.wait()
    return outcome


class SpareChild:
    """One script process started ahead of the run that will use it: a run starts without
    waiting for Python and V8 to start (about 0.3 s). Each run takes it and starts the next,
    so a server that never runs a workflow starts none, and one that does keeps one idle
    process; the process waits for its script and, like every child, dies with the server."""

    def __init__(self) -> None:
        self._next: asyncio.Task[Process] | None = None

    async def take(self) -> Process:
        ready, self._next = self._next, asyncio.create_task(_start_child())
        if ready is not None:
            with contextlib.suppress(OSError):
                child = await ready
                if child.returncode is None:
                    return child
        return await _start_child()

    async def close(self) -> None:
        """Stop the process started ahead, if any."""
        ready, self._next = self._next, None
        if ready is None:
            return
        ready.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            child = await ready
            if child.returncode is None:
                child.kill()
            await child.wait()


async def _start_child() -> Process:
    # The child inherits nothing from the server's environment: no keys, no tokens.
    source_root = Path(boocode.__file__).resolve().parent.parent
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-P",
        "-m",
        "boocode.workflows.child",
        stdin=PIPE,
        stdout=PIPE,
        stderr=PIPE,
        env={"PYTHONPATH": str(source_root), "LANG": "C.UTF-8"},
        cwd="/",
        start_new_session=True,
        limit=MAX_LINE_BYTES,
    )


async def _exit_of(child: Process) -> None:
    """A finished child exits by itself; killing it as it exits would race its reaping."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(child.wait(), _EXIT_GRACE_S)


async def _tail(stream: asyncio.StreamReader) -> str:
    kept = b""
    while chunk := await stream.read(65536):
        kept = (kept + chunk)[-_STDERR_TAIL_BYTES:]
    return kept.decode(errors="replace")


class _Refused(Exception):
    """A limit refused a request: the script's call rejects with this message."""


class _Run:
    def __init__(
        self,
        child: Process,
        host: WorkflowHost,
        limits: ScriptLimits,
        stderr_tail: asyncio.Task[str],
    ) -> None:
        self._child = child
        self._host = host
        self._limits = limits
        self._stderr_tail = stderr_tail
        self._slots = asyncio.Semaphore(limits.max_concurrent_agents)
        self._agent_calls = 0
        self._serving: set[asyncio.Task[None]] = set()

    async def outcome(self, script: Script, args: JsonValue) -> ScriptOutcome:
        runtime = RuntimeConfig(
            args=args,
            budget_total=self._limits.budget_tokens,
            spent=self._host.tokens_spent(),
            max_items=MAX_ITEMS,
        )
        start = StartRun(body=script.body, memory_bytes=self._limits.memory_bytes, runtime=runtime)
        # A child that died at start is reported by the reader, with its last stderr line.
        with contextlib.suppress(ConnectionError):
            await self._send(start)
        finished: Finished | None = None
        cancelled: str | None = None
        try:
            async with asyncio.TaskGroup() as tasks:
                finished = await self._read_until_finished(tasks)
                for task in self._serving:
                    task.cancel()  # agents the script started and never awaited
        except* ScriptCancelled as group:
            cancelled = _one_line(group.exceptions[0])
        if cancelled is not None:
            return ScriptOutcome(status=ScriptStatus.CANCELLED, error=cancelled)
        assert finished is not None
        return _outcome(finished, self._limits.memory_bytes)

    async def _read_until_finished(self, tasks: asyncio.TaskGroup) -> Finished:
        assert self._child.stdout is not None
        while True:
            try:
                line = await self._child.stdout.readline()
            except ValueError:
                return Finished(
                    ok=False, error=f"the script sent a message over {MAX_LINE_BYTES // MIB} MiB"
                )
            if not line:
                return await self._child_ended()
            try:
                message = CHILD_MESSAGE.validate_json(line)
            except ValidationError:
                return Finished(
                    ok=False, error="the workflow child sent a message this host cannot read"
                )
            if isinstance(message, Finished):
                return message
            if isinstance(message, LogEvent):
                self._host.log(message.message)
            elif isinstance(message, PhaseEvent):
                self._host.phase(message.title)
            else:
                task = tasks.create_task(self._serve(message))
                self._serving.add(task)
                task.add_done_callback(self._serving.discard)

    async def _child_ended(self) -> Finished:
        code = await self._child.wait()
        stderr = await self._stderr_tail
        if "out of memory" in stderr.lower():  # V8's fatal error when the data cap is hit
            return Finished.out_of_memory(self._limits.memory_bytes)
        last = stderr.strip().splitlines()[-1:] or ["no message"]
        return Finished(
            ok=False, error=f"the workflow process ended unexpectedly (exit {code}): {last[0]}"
        )

    async def _serve(self, request: HostRequest) -> None:
        try:
            if isinstance(request, AgentRequest):
                value = await self._agent(request)
            else:
                script = await self._host.load_workflow(request.name)
                value = NestedScript(name=script.name, body=script.body).model_dump()
            reply = Reply(id=request.id, ok=True, value=value, spent=self._host.tokens_spent())
        except ScriptCancelled:
            raise
        except Exception as error:
            reply = Reply(
                id=request.id, ok=False, error=_one_line(error), spent=self._host.tokens_spent()
            )
        with contextlib.suppress(ConnectionError):  # the reader reports a child gone
            await self._send(reply)

    async def _agent(self, request: AgentRequest) -> JsonValue:
        budget = self._limits.budget_tokens
        spent = self._host.tokens_spent()
        if budget is not None and spent >= budget:
            raise _Refused(f"the token budget is spent: {spent:,} of {budget:,} tokens")
        self._agent_calls += 1
        if self._agent_calls > self._limits.max_agent_calls:
            raise _Refused(
                f"a workflow run may call agent() at most {self._limits.max_agent_calls:,} times"
            )
        async with self._slots:
            return await self._host.agent(request.prompt, request.options)

    async def _send(self, message: StartRun | Reply) -> None:
        assert self._child.stdin is not None
        self._child.stdin.write(message.model_dump_json(by_alias=True).encode() + b"\n")
        await self._child.stdin.drain()


def _outcome(finished: Finished, memory_bytes: int) -> ScriptOutcome:
    if finished.ok:
        return ScriptOutcome(status=ScriptStatus.SUCCEEDED, result=finished.result)
    # Past the data cap an ArrayBuffer may fail as a catchable RangeError, not a fatal error:
    # the same limit, said the same way.
    if ARRAY_BUFFER_FAILED in (finished.error or ""):
        finished = Finished.out_of_memory(memory_bytes)
    status = ScriptStatus.MEMORY if finished.memory else ScriptStatus.FAILED
    return ScriptOutcome(status=status, error=finished.error, line=finished.line)


ARRAY_BUFFER_FAILED = "Array buffer allocation failed"


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
