"""`boocode run`: one turn in this process, its answer streamed to the terminal, and the
subagents it spawned with the turns their results wake, until the chat is quiet."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from dbos import DBOS, WorkflowHandleAsync

from boocode import engine
from boocode.agent import service
from boocode.agent.runtime import Runtime
from boocode.attachments import AttachmentError, upload_paths
from boocode.cache import cache_summary_line
from boocode.config import Settings
from boocode.contracts.autofix import AutofixFrame
from boocode.contracts.base import FrameBase
from boocode.contracts.chats import MessageCreate, TurnStatus
from boocode.contracts.frames import (
    ErrorFrame,
    MessageDeltaFrame,
    MessageFrame,
    ReasoningDeltaFrame,
    TurnEndFrame,
)
from boocode.contracts.runs import RunStatus
from boocode.contracts.subagents import SubagentFrame
from boocode.runs.status import ACTIVE
from boocode.runs.store import TurnInProgress, active_turn
from boocode.sandbox import sandbox_for, start_notice
from boocode.subagents import store as subagents

EXIT_FAILED = 1
EXIT_CANCELLED = 130


async def run_once(
    settings: Settings,
    prompt: str,
    *,
    chat_id: str | None,
    as_json: bool,
    attach: Sequence[Path] = (),
) -> int:
    """Send `prompt` to a new or existing chat and print the turn as it happens."""
    rt = await engine.start(settings, role="run")
    try:
        if chat_id is None:
            created = await service.create_chat(workspace=settings.workspace)
            chat_id, workspace = created.id, created.workspace
        else:
            workspace = (await service.get_chat(chat_id)).workspace
        print(f"chat: {chat_id}", file=sys.stderr)
        # Whether the chat's commands are confined, the line `serve` prints at its start.
        print(start_notice(sandbox_for(settings, Path(workspace))), file=sys.stderr)
        subscription = rt.bus.subscribe(chat_id)
        try:
            attached = await upload_paths(rt.db, settings, chat_id, attach)
            message = MessageCreate(content=prompt, attachments=attached)
            accepted = await service.post_message(chat_id, message)
            _interrupt_cancels(chat_id)
            printer = _JsonPrinter() if as_json else _TextPrinter()
            status = TurnStatus.FAILED

            async def show(frame: FrameBase) -> None:
                nonlocal status
                printer.show(frame)
                if isinstance(frame, TurnEndFrame):
                    # An earlier turn's end, announced again as this process finishes that
                    # turn's workflow (its process stopped mid-end), is not this run's outcome.
                    if frame.turn >= accepted.turn:
                        status = frame.status
                    summary = await cache_summary_line(rt.db, settings, chat_id, frame.turn)
                    print(summary, file=sys.stderr)

            async for frame in subscription:
                await show(frame)
                ended = isinstance(frame, TurnEndFrame) or (
                    isinstance(frame, SubagentFrame) and frame.event == "ended"
                )
                # The chat's subagents, and the turns their results wake, are waited for.
                if ended and await _settled(rt, chat_id, accepted.task_id):
                    # What the runs published before they finished (a subagent's end, say)
                    # is queued here already.
                    for late in subscription.drain():
                        await show(late)
                    return _exit_code(status)
        finally:
            subscription.close()
    except (service.ChatNotFound, TurnInProgress, AttachmentError) as exc:
        print(f"boocode: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await engine.stop(rt)
    return EXIT_FAILED


async def _settled(rt: Runtime, chat_id: str, first_run: str) -> bool:
    """No turn runs, no subagent runs, no notification waits to wake the chat; every run's
    workflow has finished (its last step is durable only then)."""
    runs = await subagents.of_chat(rt.db, chat_id)
    if any(RunStatus(run.status) in ACTIVE for run in runs):
        return False
    if await active_turn(rt.db, chat_id) is not None:
        return False
    waking = rt.settings.subagent_wake_parent
    if waking and any(run.result is None or run.delivered_at is None for run in runs):
        return False
    for run_id in [first_run, *(run.id for run in runs)]:
        handle: WorkflowHandleAsync[str] = await DBOS.retrieve_workflow_async(run_id)
        await handle.get_result(polling_interval_sec=0.02)
    return await active_turn(rt.db, chat_id) is None


def _exit_code(status: TurnStatus) -> int:
    if status is TurnStatus.SUCCEEDED:
        return 0
    return EXIT_CANCELLED if status is TurnStatus.CANCELLED else EXIT_FAILED


def _interrupt_cancels(chat_id: str) -> None:
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, lambda: asyncio.ensure_future(service.cancel(chat_id)))


class _JsonPrinter:
    def show(self, frame: FrameBase) -> None:
        print(frame.model_dump_json(), flush=True)


class _TextPrinter:
    """The answer on stdout, ending with a newline; tool activity, each error once, and the
    outcome on stderr, each on a line of its own.

    Other runs of the chat (its subagents) report while an answer streams: their notes wait
    until the answer's line ends, so a terminal never shows a note inside a line of the answer.
    """

    def __init__(self) -> None:
        self._answer_line_open = False
        self._held: list[str] = []
        self._errors_shown: set[tuple[int | None, str]] = set()

    def show(self, frame: FrameBase) -> None:
        if isinstance(frame, MessageDeltaFrame):
            if frame.text:
                print(frame.text, end="", flush=True)
                self._answer_line_open = not frame.text.endswith("\n")
                if not self._answer_line_open:
                    self._release()
        elif isinstance(frame, ReasoningDeltaFrame):
            return
        elif isinstance(frame, MessageFrame):
            if frame.message.role == "assistant":
                self._end_answer_line()
            self._message(frame)
        elif isinstance(frame, AutofixFrame):
            run = frame.run
            done = "" if run.exit_code is None else f" (exit {run.exit_code})"
            self._note(f"  auto-fix {run.status.value}: {' '.join(run.command)}{done}")
        elif isinstance(frame, ErrorFrame):
            # The turn may announce one failure more than once (as it happens, and as it ends).
            if (frame.turn, frame.message) not in self._errors_shown:
                self._errors_shown.add((frame.turn, frame.message))
                self._note(f"error: {frame.message}")
        elif isinstance(frame, SubagentFrame):
            subagent = frame.subagent
            outcome = subagent.status.value if frame.event == "ended" else ""
            timing = f", {subagent.elapsed_s:.1f} s" if frame.event == "ended" else ""
            self._note(f"  ⇢ subagent {subagent.label!r} {frame.event} {outcome}{timing}".rstrip())
        elif isinstance(frame, TurnEndFrame):
            self._end_answer_line()
            usage = frame.usage
            self._note(
                f"[turn {frame.turn} {frame.status.value}: {usage.prompt_tokens} prompt "
                f"({usage.cache_hit_tokens} cached), {usage.completion_tokens} completion tokens]"
            )

    def _message(self, frame: MessageFrame) -> None:
        message = frame.message
        if message.role == "assistant" and message.tool_calls:
            for call in message.tool_calls:
                self._note(f"→ {call.name} {call.arguments}")
        elif message.role == "tool":
            mark = "✗" if message.is_error else "✓"
            first = str(message.content).splitlines()[0] if message.content else ""
            self._note(f"  {mark} {message.tool_name}: {first[:120]}")

    def _note(self, line: str) -> None:
        """A line on stderr, held while the answer's line on stdout is open."""
        if self._answer_line_open:
            self._held.append(line)
        else:
            print(line, file=sys.stderr, flush=True)

    def _end_answer_line(self) -> None:
        """The streamed answer is complete: end its line, then show the notes it held back."""
        if self._answer_line_open:
            print(flush=True)
            self._answer_line_open = False
        self._release()

    def _release(self) -> None:
        for line in self._held:
            print(line, file=sys.stderr, flush=True)
        self._held.clear()
