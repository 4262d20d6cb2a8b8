"""`boocode run`: one turn in this process, its answer streamed to the terminal."""

from __future__ import annotations

import asyncio
import signal
import sys

from dbos import DBOS, WorkflowHandleAsync

from boocode import engine
from boocode.agent import service
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
from boocode.runs.store import TurnInProgress

EXIT_FAILED = 1
EXIT_CANCELLED = 130


async def run_once(settings: Settings, prompt: str, *, chat_id: str | None, as_json: bool) -> int:
    """Send `prompt` to a new or existing chat and print the turn as it happens."""
    rt = await engine.start(settings, role="run")
    try:
        if chat_id is None:
            chat_id = (await service.create_chat(workspace=settings.workspace)).id
        else:
            await service.get_chat(chat_id)
        print(f"chat: {chat_id}", file=sys.stderr)
        subscription = rt.bus.subscribe(chat_id)
        try:
            accepted = await service.post_message(chat_id, MessageCreate(content=prompt))
            _interrupt_cancels(chat_id)
            printer = _JsonPrinter() if as_json else _TextPrinter()
            async for frame in subscription:
                printer.show(frame)
                if isinstance(frame, TurnEndFrame) and frame.turn == accepted.turn:
                    # The turn's last step is durable only once its workflow has finished.
                    handle: WorkflowHandleAsync[str] = await DBOS.retrieve_workflow_async(
                        accepted.task_id
                    )
                    await handle.get_result(polling_interval_sec=0.02)
                    return _exit_code(frame.status)
        finally:
            subscription.close()
    except (service.ChatNotFound, TurnInProgress) as exc:
        print(f"boocode: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await engine.stop(rt)
    return EXIT_FAILED


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
    """The answer on stdout; tool activity, errors and the outcome on stderr."""

    def show(self, frame: FrameBase) -> None:
        if isinstance(frame, MessageDeltaFrame):
            print(frame.text, end="", flush=True)
        elif isinstance(frame, ReasoningDeltaFrame):
            return
        elif isinstance(frame, MessageFrame):
            self._message(frame)
        elif isinstance(frame, AutofixFrame):
            run = frame.run
            done = "" if run.exit_code is None else f" (exit {run.exit_code})"
            command = " ".join(run.command)
            print(f"  auto-fix {run.status.value}: {command}{done}", file=sys.stderr, flush=True)
        elif isinstance(frame, ErrorFrame):
            print(f"\nerror: {frame.message}", file=sys.stderr, flush=True)
        elif isinstance(frame, TurnEndFrame):
            usage = frame.usage
            print(
                f"\n[turn {frame.turn} {frame.status.value}: {usage.prompt_tokens} prompt "
                f"({usage.cache_hit_tokens} cached), {usage.completion_tokens} completion tokens]",
                file=sys.stderr,
                flush=True,
            )

    def _message(self, frame: MessageFrame) -> None:
        message = frame.message
        if message.role == "assistant" and message.tool_calls:
            if message.content:
                print(flush=True)
            for call in message.tool_calls:
                print(f"→ {call.name} {call.arguments}", file=sys.stderr, flush=True)
        elif message.role == "tool":
            mark = "✗" if message.is_error else "✓"
            first = str(message.content).splitlines()[0] if message.content else ""
            print(f"  {mark} {message.tool_name}: {first[:120]}", file=sys.stderr, flush=True)
