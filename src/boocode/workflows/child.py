"""The workflow child: one process, one V8 isolate, one script run, JSON lines on stdin/stdout.

The host (sandbox.py) starts it with `python -m boocode.workflows.child` and kills it at the
run's deadline: a loop the isolate cannot interrupt dies with the process.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import resource
import signal
import sys
from importlib import resources
from pathlib import Path
from typing import BinaryIO

from py_mini_racer import (
    JSEvalException,
    JSFunction,
    JSPromise,
    JSPromiseError,
    MiniRacer,
    _mini_racer,
    mini_racer,
)
from pydantic import BaseModel, Field, ValidationError

from boocode.workflows.protocol import (
    MAX_LINE_BYTES,
    SCRIPT_MESSAGE,
    Finished,
    LogEvent,
    PhaseEvent,
    Reply,
    StartRun,
)

# mini-racer installs a setTimeout shim in every new context; a workflow has no timers.
_mini_racer.INSTALL_SET_TIMEOUT = ""

_MEMORY_POLL_S = 0.05
# Room for Python, V8's own structures and a heap briefly over its limit during a collection.
_DATA_HEADROOM_BYTES = 128 * 1024 * 1024
_PR_SET_PDEATHSIG = 1


class _Output:
    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def send(self, message: BaseModel) -> None:
        self._stream.write(message.model_dump_json(by_alias=True).encode() + b"\n")
        self._stream.flush()


class _ScriptEnd(BaseModel):
    """What runtime.js's run() resolves to."""

    finished: Finished
    host_calls: int = Field(alias="hostCalls")


class _Channel:
    """The Python side of the isolate's `hostCall`: forwards requests, awaits their replies."""

    def __init__(self, output: _Output, spent: int) -> None:
        self._output = output
        self._spent = spent
        self._pending: dict[int, asyncio.Future[Reply]] = {}
        self._calls = 0

    async def call(self, request_json: object) -> str:
        self._calls += 1
        try:
            message = SCRIPT_MESSAGE.validate_json(str(request_json))
        except ValidationError as error:
            return self._refusal(error)
        self._output.send(message)
        if isinstance(message, LogEvent | PhaseEvent):
            return "{}"
        reply: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[message.id] = reply
        return (await reply).model_dump_json()

    async def forwarded(self, calls: int) -> None:
        """Wait for the calls the script made before it ended: they are already on the loop."""
        while self._calls < calls:
            await asyncio.sleep(0)

    def resolve(self, reply: Reply) -> None:
        self._spent = reply.spent
        future = self._pending.pop(reply.id, None)
        if future is not None and not future.done():
            future.set_result(reply)

    def _refusal(self, error: ValidationError) -> str:
        problem = error.errors()[0]["msg"]
        return Reply(
            id=0, ok=False, error=f"invalid request: {problem}", spent=self._spent
        ).model_dump_json()


async def _main() -> None:
    _die_with_parent()
    stdin = await _stdin_reader()
    # The isolate and the runtime first: a process started ahead of its run has them ready.
    with mini_racer() as racer:
        install = racer.eval(resources.files(__package__).joinpath("runtime.js").read_text())
        assert isinstance(install, JSFunction)
        start = StartRun.model_validate_json(await stdin.readline())
        racer.set_hard_memory_limit(start.memory_bytes)
        _cap_data_segment(start.memory_bytes)
        output = _Output(sys.stdout.buffer)
        channel = _Channel(output, start.runtime.spent)
        async with racer.wrap_py_function(channel.call) as host_call, asyncio.TaskGroup() as tasks:
            tasks.create_task(_read_replies(stdin, channel))
            run = install(host_call, start.runtime.model_dump_json(by_alias=True))
            assert isinstance(run, JSFunction)
            output.send(await _run(racer, run, start, channel))
            # Leave at once: tearing down an isolate V8 stopped mid-script can hang.
            os._exit(0)


async def _run(racer: MiniRacer, run: JSFunction, start: StartRun, channel: _Channel) -> Finished:
    try:
        promise = run(start.body)  # the script's synchronous start runs inside this call
    except JSEvalException as error:
        return _stopped(racer, start, error)
    assert isinstance(promise, JSPromise)
    settled = asyncio.ensure_future(_await(promise))
    while not settled.done():
        await asyncio.wait({settled}, timeout=_MEMORY_POLL_S)
        # Past the limit V8 stops the script, but a promise it left pending never settles.
        if not settled.done() and racer.was_hard_memory_limit_reached():
            settled.cancel()
            return Finished.out_of_memory(start.memory_bytes)
    try:
        end = _ScriptEnd.model_validate_json(settled.result())
    except (JSEvalException, JSPromiseError) as error:
        return _stopped(racer, start, error)
    # Its last log() lines reach the host before the line that ends the run.
    await channel.forwarded(end.host_calls)
    return end.finished


async def _await(promise: JSPromise) -> str:
    return str(await promise)


def _stopped(racer: MiniRacer, start: StartRun, error: Exception) -> Finished:
    if racer.was_hard_memory_limit_reached():
        return Finished.out_of_memory(start.memory_bytes)
    first_line = str(error).strip().splitlines()[:1] or ["no message"]
    return Finished(ok=False, error=f"the script stopped: {first_line[0]}")


async def _read_replies(stdin: asyncio.StreamReader, channel: _Channel) -> None:
    while line := await stdin.readline():
        channel.resolve(Reply.model_validate_json(line))
    os._exit(1)  # the host is gone: so is the run


async def _stdin_reader() -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=MAX_LINE_BYTES)
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def _die_with_parent() -> None:
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:
        os._exit(1)


def _cap_data_segment(memory_bytes: int) -> None:
    """ArrayBuffers live outside the V8 heap and its limit: cap the process's data instead.

    Set after the isolate exists, since V8 reserves large ranges as it starts.
    """
    status = Path("/proc/self/status")
    if not status.exists():
        return
    for line in status.read_text().splitlines():
        if line.startswith("VmData:"):
            in_use = int(line.split()[1]) * 1024
            cap = in_use + 2 * memory_bytes + _DATA_HEADROOM_BYTES
            resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))


if __name__ == "__main__":
    asyncio.run(_main())
