"""A turn as a DBOS workflow: each model call and each tool call is a durable step.

A turn killed mid-way resumes from its last completed step. Each step also writes its result
under a `step_key`, so a step re-run after a crash finds its own earlier write and reuses it
instead of calling the model or the tool again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dbos import DBOS, SetWorkflowID
from sqlalchemy import Connection, bindparam, func, insert, select, update

from boocode import autofix
from boocode.agent import runtime
from boocode.agent.history import load_messages, to_message_out, to_provider_message
from boocode.agent.prompt import system_prompt
from boocode.agent.status import check_transition
from boocode.contracts.chats import TurnStatus
from boocode.contracts.frames import (
    ErrorFrame,
    MessageDeltaFrame,
    MessageFrame,
    ReasoningDeltaFrame,
    TurnEndFrame,
    TurnStartFrame,
)
from boocode.contracts.usage import TokenUsage
from boocode.db.tables import Chat, FileWrite, Message, Task
from boocode.providers import ProviderError
from boocode.tools import WRITE_TOOLS, FileChange, ToolResult
from boocode.tools.result import CANCELLED_BEFORE_RUNNING, CANCELLED_WHILE_RUNNING
from boocode.traces.model_call import model_call_input, model_call_output

log = logging.getLogger(__name__)

TURN_QUEUE = "boocode_turns"

# Streamed text is published in batches at most this far apart, not one frame per token.
_DELTA_INTERVAL_S = 0.04
_CANCEL_POLL_S = 0.5


@DBOS.workflow(name="boocode.turn")
async def run_turn(task_id: str, chat_id: str, turn: int) -> str:
    """Run one turn to its end and return its final status."""
    rt = runtime.current()
    status, error = TurnStatus.SUCCEEDED, None
    fix = autofix.CheckVerdict().model_dump()
    try:
        await _begin_turn(task_id, chat_id, turn)
        for iteration in range(rt.settings.max_tool_iterations + 1):
            reply = await _llm_step(task_id, chat_id, turn, iteration)
            if reply["error"]:
                status, error = TurnStatus.FAILED, reply["error"]
                break
            if reply["cancelled"]:
                status = TurnStatus.CANCELLED
                break
            if not reply["tool_calls"]:
                break
            over_limit = iteration == rt.settings.max_tool_iterations
            wrote = False
            for call in reply["tool_calls"]:
                wrote = await _tool_step(task_id, chat_id, turn, call, refuse=over_limit) or wrote
            for hook in rt.tool_phase_hooks:
                await hook(chat_id, turn)
            if over_limit:
                status = TurnStatus.FAILED
                error = f"stopped after {rt.settings.max_tool_iterations} tool iterations"
                break
            if await _cancel_requested(task_id):
                status = TurnStatus.CANCELLED
                break
            if wrote:  # before the next model call, so the model always gets to fix
                fix = await _autofix_step(task_id, chat_id, turn, iteration, fix)
                if fix["cancelled"] or fix["gave_up"]:
                    status = TurnStatus.CANCELLED if fix["cancelled"] else TurnStatus.FAILED
                    error = fix["error"]
                    break
    except Exception as exc:  # the turn must end recorded, whatever broke
        log.exception("turn %s of chat %s failed", turn, chat_id)
        status, error = TurnStatus.FAILED, f"internal error: {exc}"
    await _end_turn(task_id, chat_id, turn, status.value, error)
    return status.value


async def start_turn(task_id: str, chat_id: str, turn: int) -> None:
    """Start a turn here if this process runs turns, else hand it to the durable queue."""
    if runtime.current().process_turns:
        with SetWorkflowID(task_id):
            await DBOS.start_workflow_async(run_turn, task_id, chat_id, turn)
        return
    queue = await DBOS.retrieve_queue_async(TURN_QUEUE)
    if queue is None:
        raise RuntimeError(f"the {TURN_QUEUE} queue is not registered")
    with SetWorkflowID(task_id):
        await queue.enqueue_async(run_turn, task_id, chat_id, turn)


@DBOS.step(name="boocode.turn.begin")
async def _begin_turn(task_id: str, chat_id: str, turn: int) -> None:
    rt = runtime.current()
    await _set_status(task_id, TurnStatus.RUNNING)
    await rt.events.publish(TurnStartFrame(chat_id=chat_id, turn=turn, task_id=task_id))


@DBOS.step(name="boocode.turn.llm")
async def _llm_step(task_id: str, chat_id: str, turn: int, iteration: int) -> dict[str, Any]:
    rt = runtime.current()
    step_key = f"t{turn}-llm{iteration}"
    if (done := await _message_by_step_key(chat_id, step_key)) is not None:
        return _llm_reply(done)
    chat = await _chat(chat_id)
    workspace = Path(chat.workspace)
    model = rt.model(workspace)
    messages = [{"role": "system", "content": system_prompt(chat.workspace)}]
    messages += [to_provider_message(row) for row in await load_messages(rt.db, chat_id)]
    tools = rt.tools(workspace).schemas()
    deltas = _DeltaPublisher(chat_id, turn)
    async with rt.tracer.span(
        chat_id=chat_id,
        turn=turn,
        kind="llm",
        name=model.name,
        input=model_call_input(messages, tools, iteration),
        session_id=task_id,
        step_key=step_key,
    ) as span:
        call = asyncio.ensure_future(model.complete(messages, tools, deltas))
        try:
            cancelled = await _await_unless_cancelled(call, task_id)
            await deltas.flush()
        except ProviderError as exc:
            await deltas.flush()
            span.outcome, span.error = "error", str(exc)
            await rt.events.publish(ErrorFrame(chat_id=chat_id, message=str(exc), turn=turn))
            return {"error": str(exc), "cancelled": False, "tool_calls": []}
        if cancelled:
            span.outcome = "cancelled"
            partial = deltas.text
            if partial:
                await _save_message(
                    chat_id, turn, step_key, role="assistant", content=partial, model=model.name
                )
            return {"error": None, "cancelled": True, "tool_calls": []}
        response = call.result()
        span.usage = response.usage
        span.output = response.content
        span.extra = model_call_output(response)
    row = await _save_message(
        chat_id,
        turn,
        step_key,
        role="assistant",
        content=response.content,
        reasoning=response.reasoning or None,
        tool_calls=[call.model_dump() for call in response.tool_calls] or None,
        usage=response.usage,
        model=model.name,
    )
    return _llm_reply(row)


@DBOS.step(name="boocode.turn.tool")
async def _tool_step(
    task_id: str, chat_id: str, turn: int, call: dict[str, Any], refuse: bool = False
) -> bool:
    """Run one tool call and store its result; True if it wrote a file.

    A call that must not run (the turn was cancelled, or reached its tool-iteration limit) still
    gets a result, so every tool call in the conversation is answered.
    """
    rt = runtime.current()
    step_key = f"t{turn}-tool-{call['id']}"
    if (done := await _message_by_step_key(chat_id, step_key)) is not None:
        return done.tool_name in WRITE_TOOLS and not done.is_error
    chat = await _chat(chat_id)
    refusal = "not run: the turn reached its tool-iteration limit" if refuse else None
    if await _cancel_requested(task_id):
        refusal = CANCELLED_BEFORE_RUNNING
    if refusal:
        await _save_message(
            chat_id,
            turn,
            step_key,
            role="tool",
            content=refusal,
            tool_call_id=call["id"],
            tool_name=call["name"],
            is_error=True,
        )
        return False
    registry = rt.tools(Path(chat.workspace))
    async with rt.tracer.span(
        chat_id=chat_id,
        turn=turn,
        kind="tool",
        name=call["name"],
        input=_parse_arguments(call["arguments"]),
        session_id=task_id,
        step_key=step_key,
    ) as span:
        execution = asyncio.ensure_future(registry.execute(call["name"], call["arguments"]))
        if await _await_unless_cancelled(execution, task_id):
            # Cancelling the execution killed the command's whole process group.
            result = ToolResult(content=CANCELLED_WHILE_RUNNING, is_error=True)
            span.outcome = "cancelled"
        else:
            result = execution.result()
            if result.is_error:
                span.outcome = "timeout" if result.metadata.get("timed_out") else "error"
        span.output = result.content
        span.error = result.content if result.is_error else None
        span.extra = dict(result.metadata)
    await _save_message(
        chat_id,
        turn,
        step_key,
        role="tool",
        content=result.content,
        tool_call_id=call["id"],
        tool_name=call["name"],
        is_error=result.is_error,
        file_change=None if result.is_error else result.file_change,
    )
    return call["name"] in WRITE_TOOLS and not result.is_error


@DBOS.step(name="boocode.turn.autofix")
async def _autofix_step(
    task_id: str, chat_id: str, turn: int, iteration: int, before: dict[str, Any]
) -> dict[str, Any]:
    """Run the project's check after a write; its errors are appended for the next model call."""
    step_key = f"t{turn}-autofix{iteration}"
    previous = autofix.CheckVerdict.model_validate(before)
    check = asyncio.ensure_future(
        autofix.check_after_write(
            await _chat(chat_id), previous, task_id=task_id, turn=turn, step_key=step_key
        )
    )
    if await _await_unless_cancelled(check, task_id):
        return previous.model_copy(update={"cancelled": True}).model_dump()
    verdict = check.result()
    # Appended, never rewritten: the requests before it stay a cacheable prefix.
    if verdict.message and await _message_by_step_key(chat_id, step_key) is None:
        await _save_message(
            chat_id,
            turn,
            step_key,
            role="user",
            content=verdict.message,
            tool_name=autofix.AUTOFIX_MESSAGE,
        )
    return verdict.model_dump()


@DBOS.step(name="boocode.turn.end")
async def _end_turn(task_id: str, chat_id: str, turn: int, status: str, error: str | None) -> None:
    rt = runtime.current()
    final = TurnStatus(status)
    await _set_status(task_id, final, error=error)
    usage = await turn_usage(chat_id, turn)
    async with rt.db.session() as session, session.begin():
        await session.execute(
            update(Chat).where(Chat.id == chat_id).values(updated_at=datetime.now(UTC))
        )
    if error:
        await rt.events.publish(ErrorFrame(chat_id=chat_id, message=error, turn=turn))
    for hook in rt.turn_end_hooks:
        await hook(chat_id, turn)
    await rt.events.publish(
        TurnEndFrame(chat_id=chat_id, turn=turn, status=final, usage=usage, error=error)
    )
    await rt.events.prune(chat_id)
    rt.forget_cancel(task_id)


async def turn_usage(chat_id: str, turn: int) -> TokenUsage:
    """The tokens of a turn's model calls, added up."""
    rt = runtime.current()
    async with rt.db.session() as session:
        rows = await session.execute(
            select(Message.usage).where(
                Message.chat_id == chat_id,
                Message.turn_number == turn,
                # Other branches of the chat have turns of the same number.
                Message.branch_id
                == select(Chat.branch_id).where(Chat.id == chat_id).scalar_subquery(),
                Message.role == "assistant",
            )
        )
        total = TokenUsage()
        for (usage,) in rows:
            if usage:
                total = total + TokenUsage.model_validate(usage)
        return total


async def request_cancel(task_id: str) -> bool:
    """Ask a running turn to stop; True when there was one to stop."""
    rt = runtime.current()
    async with rt.db.session() as session, session.begin():
        task = await session.get(Task, task_id)
        if task is None or TurnStatus(task.status) not in (TurnStatus.QUEUED, TurnStatus.RUNNING):
            return False
        task.error = _CANCEL_MARK
    rt.cancel_event(task_id).set()
    return True


_CANCEL_MARK = "cancel requested"


async def _cancel_requested(task_id: str) -> bool:
    rt = runtime.current()
    if rt.cancel_event(task_id).is_set():
        return True
    async with rt.db.session() as session:
        error = (await session.execute(select(Task.error).where(Task.id == task_id))).scalar()
    return error == _CANCEL_MARK


async def _await_unless_cancelled(call: asyncio.Future[Any], task_id: str) -> bool:
    """Wait for a model call or a tool; True (and the call stopped) if the turn was cancelled."""
    event = runtime.current().cancel_event(task_id)
    while not call.done():
        waiter = asyncio.ensure_future(event.wait())
        await asyncio.wait({call, waiter}, timeout=_CANCEL_POLL_S, return_when="FIRST_COMPLETED")
        waiter.cancel()
        if not call.done() and await _cancel_requested(task_id):
            call.cancel()
            await asyncio.gather(call, return_exceptions=True)
            return True
    call.result()
    return False


class _DeltaPublisher:
    """Batches streamed text into `message_delta` / `reasoning_delta` frames."""

    def __init__(self, chat_id: str, turn: int) -> None:
        self.chat_id = chat_id
        self.turn = turn
        self.text = ""
        self._pending = {"text": "", "reasoning": ""}
        # A model call re-run after a crash streams from the start again: its first delta
        # tells clients to drop what the lost attempt had streamed.
        self._restart = {"text": True, "reasoning": True}
        self._last_flush = time.monotonic()

    async def __call__(self, kind: str, text: str) -> None:
        self._pending[kind] += text
        if kind == "text":
            self.text += text
        if time.monotonic() - self._last_flush >= _DELTA_INTERVAL_S:
            await self.flush()

    async def flush(self) -> None:
        self._last_flush = time.monotonic()
        events = runtime.current().events
        for kind, frame_type in (("reasoning", ReasoningDeltaFrame), ("text", MessageDeltaFrame)):
            if text := self._pending[kind]:
                self._pending[kind] = ""
                restart, self._restart[kind] = self._restart[kind], False
                await events.publish(
                    frame_type(chat_id=self.chat_id, turn=self.turn, text=text, restart=restart)
                )


def _llm_reply(row: Message) -> dict[str, Any]:
    return {"error": None, "cancelled": False, "tool_calls": row.tool_calls or []}


def _parse_arguments(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


async def _chat(chat_id: str) -> Chat:
    async with runtime.current().db.session() as session:
        chat = await session.get(Chat, chat_id)
    if chat is None:
        raise LookupError(f"chat {chat_id} does not exist")
    return chat


async def _message_by_step_key(chat_id: str, step_key: str) -> Message | None:
    async with runtime.current().db.session() as session:
        return (
            await session.execute(
                select(Message).where(Message.chat_id == chat_id, Message.step_key == step_key)
            )
        ).scalar_one_or_none()


async def _save_message(
    chat_id: str,
    turn: int,
    step_key: str | None,
    *,
    role: str,
    content: Any,
    reasoning: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    tool_call_id: str | None = None,
    tool_name: str | None = None,
    is_error: bool = False,
    usage: TokenUsage | None = None,
    model: str | None = None,
    file_change: FileChange | None = None,
) -> Message:
    """Append a message to the chat's current branch and publish it, in one commit.

    A write's before-image is stored in the same commit as the tool result that reports it, so
    a tool step re-run after a crash can never record the write twice.
    """
    values: dict[str, Any] = {
        "chat_id": chat_id,
        "turn_number": turn,
        "role": role,
        "content": content,
        "reasoning": reasoning,
        "tool_calls": tool_calls,
        "tool_call_id": tool_call_id,
        "tool_name": tool_name,
        "is_error": is_error,
        "usage": usage.model_dump() if usage else None,
        "model": model,
        "step_key": step_key,
        "created_at": datetime.now(UTC),
    }
    row = Message(**values)

    def write(conn: Connection) -> MessageFrame:
        row.branch_id = conn.execute(_CHAT_BRANCH, {"branch_of": chat_id}).scalar_one()
        row.id = conn.execute(_INSERT_MESSAGE, {**values, "branch_id": row.branch_id}).scalar_one()
        if file_change is not None:
            conn.execute(
                _INSERT_FILE_WRITE,
                {
                    "chat_id": chat_id,
                    "branch_id": row.branch_id,
                    "turn_number": turn,
                    "path": file_change.path,
                    "before": file_change.before,
                    "after": file_change.after,
                    "created_at": values["created_at"],
                },
            )
        return MessageFrame(chat_id=chat_id, message=to_message_out(row))

    await runtime.current().events.publish_with(chat_id, write)
    return row


# Built once: constructing a statement costs more than SQLite takes to run it.
_CHAT_BRANCH = select(Chat.branch_id).where(Chat.id == bindparam("branch_of"))
_INSERT_MESSAGE = insert(Message).returning(Message.id)
_INSERT_FILE_WRITE = insert(FileWrite)


async def _set_status(task_id: str, status: TurnStatus, error: str | None = None) -> None:
    async with runtime.current().db.session() as session, session.begin():
        task = await session.get(Task, task_id)
        if task is None:
            raise LookupError(f"task {task_id} does not exist")
        check_transition(TurnStatus(task.status), status)
        task.status = status.value
        now = datetime.now(UTC)
        if status is TurnStatus.RUNNING:
            task.started_at = task.started_at or now
        else:
            task.finished_at = now
            task.error = error
    return None


async def next_turn_number(chat_id: str, branch_id: int) -> int:
    async with runtime.current().db.session() as session:
        last = (
            await session.execute(
                select(func.max(Message.turn_number)).where(
                    Message.chat_id == chat_id, Message.branch_id == branch_id
                )
            )
        ).scalar()
    return (last or 0) + 1
