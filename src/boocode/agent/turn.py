"""A turn as a DBOS workflow: each model call and each tool call is a durable step.

A turn killed mid-way resumes from its last completed step. Each step also writes its result
under a `step_key`, so a step re-run after a crash finds its own earlier write and reuses it
instead of calling the model or the tool again.

The workflow body is deterministic: everything it learns from outside (the run's record, the
settings, cancel requests, files) is read inside a step, whose recorded result a replay reuses,
so a replay always takes the path the first execution took.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from dbos import DBOS, SetWorkflowID
from pydantic import BaseModel, Field
from sqlalchemy import Connection, bindparam, insert, select, update

from boocode import autofix, cache
from boocode.agent import runtime
from boocode.agent.deltas import DeltaPublisher
from boocode.agent.history import to_message_out
from boocode.agent.runtime import RunContext
from boocode.contracts.chats import TurnStatus
from boocode.contracts.frames import (
    ErrorFrame,
    MessageFrame,
    TurnEndFrame,
    TurnStartFrame,
)
from boocode.contracts.runs import RunKind
from boocode.contracts.usage import TokenUsage
from boocode.db.tables import AgentRun, Chat, FileWrite, Message
from boocode.events.log import prune_in
from boocode.providers import ProviderError, ToolCall
from boocode.providers.errors import RETRYABLE_KINDS
from boocode.runs import store as runs
from boocode.runs.commands import RERUN_NOTE, CommandRecords, Leftover, forget_run
from boocode.runs.detach import outside_any_run
from boocode.runs.status import FINAL, INTERNAL_ERROR
from boocode.tools import WRITE_TOOLS, FileChange, ToolResult
from boocode.tools.result import (
    CANCELLED_AFTER_A_CRASH,
    CANCELLED_BEFORE_RUNNING,
    CANCELLED_WHILE_RUNNING,
    cancelled_result,
)
from boocode.tools.run_command import ProcessObserver
from boocode.traces.model_call import model_call_input, model_call_output

log = logging.getLogger(__name__)

TURN_QUEUE = "boocode_turns"

_RETRY_BACKOFF_S = 0.5


class TurnPlan(BaseModel):
    """What a turn reads once, in its first step: replays reuse it."""

    run_id: str
    chat_id: str
    turn: int
    max_tool_iterations: int
    cancelled: bool = False
    # Why the run could not begin (its kind's preparation failed): it ends failed at once.
    error: str | None = None
    # A user's chat turn: the hooks for chats (snapshots, waking on notifications) run at its
    # end; an agent's conversation (a subagent's, a workflow agent's) has none of those.
    chat_turn: bool = True


class ModelReply(BaseModel):
    """The outcome of one model-call step."""

    error: str | None = None
    cancelled: bool = False
    tool_calls: list[ToolCall] = Field(default_factory=list)
    # The model's text when it answered without asking for tools: the run's answer.
    answer: str | None = None


class ToolDone(BaseModel):
    """The outcome of one tool-call step."""

    wrote: bool = False  # it changed a file
    cancel_requested: bool = False  # the run was asked to stop, by the step's end


class TurnOutcome(BaseModel):
    status: TurnStatus = TurnStatus.SUCCEEDED
    error: str | None = None
    # The model's last reply, when the loop ended on an answer.
    answer: str | None = None


@dataclass(frozen=True)
class RunEnd:
    """How a run's loop ended, as its last step knows it: what its kind's `finish` would
    otherwise read back."""

    status: TurnStatus
    answer: str | None
    """The model's final reply when the loop ended on one (not read back when given)."""
    usage: TokenUsage
    """The turn's model calls, added up."""
    tool_calls: int
    """Tool results of the turn, the ones given at its end included."""
    run: AgentRun
    """The run's final record, read in the commit that ended it (with what `ended_in` stored)."""


class RunSteps(Protocol):
    """What a kind of run adds to the first and last steps of its loop (a subagent's worktree,
    its announcements and its result), so it costs no durable steps of its own. Each part runs
    again if its step does after a crash, so each is safe to repeat."""

    async def prepare(self, run: AgentRun) -> str | None:
        """Before the run is marked running: the error that stops it, if any."""
        ...

    async def started(self, run_id: str) -> None:
        """Once the run is marked running (not when `prepare` failed)."""
        ...

    def ended_in(self, conn: Connection, run: AgentRun, answer: str | None) -> None:
        """In the commit that ends the run (`run`, its record read there): what the kind can
        store at once, with nothing more to read or run (its result, from the loop's `answer`)."""
        ...

    async def finish(self, run_id: str, end: RunEnd | None) -> None:
        """Once the run's end is recorded and announced; `end` is None when the run ended
        without its loop's last step (it broke), so nothing of it is known here."""
        ...


@DBOS.workflow(name="boocode.turn")
async def run_turn(run_id: str) -> str:
    """Run one turn to its end and return its final status."""
    return (await drive(run_id)).status.value


async def drive(run_id: str, steps: RunSteps | None = None) -> TurnOutcome:
    """The agent loop of a stored run, from its first step to its recorded end.

    Called from a workflow body: a chat turn's, a subagent's (`boocode.subagents.runner`), a
    workflow agent's (`boocode.workflows.engine`), the last two with their kind's `steps`.
    """
    # The run must end recorded, whatever broke: a step's error is recorded, so a replay
    # takes the same way out.
    try:
        plan = await _begin_turn(run_id, steps)
    except Exception:
        log.exception("run %s could not begin", run_id)
        return await _end_broken(run_id, steps)
    if plan.error is not None:
        outcome = TurnOutcome(status=TurnStatus.FAILED, error=plan.error)
    elif plan.cancelled:
        outcome = TurnOutcome(status=TurnStatus.CANCELLED)
    else:
        try:
            outcome = await _converse(plan)
        except Exception:
            log.exception("run %s (turn %s of chat %s) failed", run_id, plan.turn, plan.chat_id)
            outcome = TurnOutcome(status=TurnStatus.FAILED, error=INTERNAL_ERROR)
    try:
        await _end_turn(plan, outcome, steps)
    except Exception:
        log.exception("run %s (turn %s of chat %s) could not end", run_id, plan.turn, plan.chat_id)
        return await _end_broken(run_id, steps)
    return outcome


async def _converse(plan: TurnPlan) -> TurnOutcome:
    """Model calls and tool phases until the model answers without asking for tools."""
    fix = autofix.CheckVerdict()
    limit = plan.max_tool_iterations
    for iteration in range(limit + 1):
        reply = await _llm_step(plan, iteration)
        if reply.error:
            return TurnOutcome(status=TurnStatus.FAILED, error=reply.error)
        if reply.cancelled:
            return TurnOutcome(status=TurnStatus.CANCELLED)
        if not reply.tool_calls:
            return TurnOutcome(answer=reply.answer)
        done: list[ToolDone] = []
        for batch in _batches(reply.tool_calls):
            # Steps get their ids when called, so a concurrent batch replays in the same order.
            steps = [_tool_step(plan, call, refuse=iteration == limit) for call in batch]
            done += await asyncio.gather(*steps)
        if any(step.cancel_requested for step in done):  # read in the steps: none of its own
            return TurnOutcome(status=TurnStatus.CANCELLED)
        wrote = any(step.wrote for step in done)
        if iteration == limit:
            return TurnOutcome(
                status=TurnStatus.FAILED, error=f"stopped after {limit} tool iterations"
            )
        if wrote:  # before the next model call, so the model always gets to fix
            fix = await _autofix_step(plan, iteration, fix)
            if fix.cancelled:
                return TurnOutcome(status=TurnStatus.CANCELLED)
            if fix.gave_up:
                return TurnOutcome(status=TurnStatus.FAILED, error=fix.error)
    return TurnOutcome()


def _batches(calls: list[ToolCall]) -> list[list[ToolCall]]:
    """The calls in order, consecutive run-tool calls (spawning subagents, reading their
    results) in one batch that runs at once; every other call alone, after the one before."""
    run_tools = runtime.current().run_tools
    batches: list[list[ToolCall]] = []
    for call in calls:
        together = call.name in run_tools
        if together and batches and batches[-1][0].name in run_tools:
            batches[-1].append(call)
        else:
            batches.append([call])
    return batches


async def start_turn(run_id: str, *, stored_now: bool = False) -> None:
    """Start a stored turn: here if this process runs turns, else on the durable queue.

    The workflow id is the run id, so starting a run twice (a retry, start-up reconciliation
    racing a live start) still gives one workflow. A turn woken from a step of another run
    starts as a run of its own. `stored_now`: see `start_fresh`.
    """

    async def start() -> None:
        with SetWorkflowID(run_id):
            if runtime.current().process_turns:
                await start_fresh(run_id, run_turn, stored_now=stored_now)
                return
            queue = await DBOS.retrieve_queue_async(TURN_QUEUE)
            if queue is None:
                raise RuntimeError(f"the {TURN_QUEUE} queue is not registered")
            await queue.enqueue_async(run_turn, run_id)

    await outside_any_run(start)


def start_soon(run_id: str) -> None:
    """Start a stored turn without waiting for DBOS to take it: the caller (a POST) answers as
    soon as the run is committed. A start that fails ends the run failed, so the chat is not
    left waiting on a turn nobody runs; a crash before it starts leaves a queued run that
    start-up reconciliation starts."""
    task = asyncio.create_task(_start_or_fail(run_id))
    _starting.add(task)
    task.add_done_callback(_starting.discard)


async def _start_or_fail(run_id: str) -> None:
    try:
        await start_turn(run_id, stored_now=True)
    except Exception:
        log.exception("turn %s could not be started", run_id)
        rt = runtime.current()
        run = await runs.get(rt.db, run_id)

        def failed(conn: Connection) -> TurnEndFrame:
            runs.transition_in(conn, run_id, TurnStatus.FAILED, error=INTERNAL_ERROR)
            return TurnEndFrame(
                chat_id=run.chat_id,
                turn=run.turn_number,
                status=TurnStatus.FAILED,
                error=INTERNAL_ERROR,
            )

        await rt.events.publish_with(run.chat_id, failed)


# Starts in flight; held here so none is collected before it ends.
_starting: set[asyncio.Task[None]] = set()


async def start_fresh(
    run_id: str,
    workflow: Callable[..., Coroutine[Any, Any, str]],
    *args: str | None,
    stored_now: bool = False,
    record: AgentRun | None = None,
) -> None:
    """Start `workflow(run_id, *args)` for a run stored and never started, in the caller's
    SetWorkflowID. If DBOS has it already (a second start), it is not marked fresh, and its
    steps look for what an earlier execution stored. A run this process has just stored
    (`stored_now`) is fresh whatever DBOS says: no earlier process can have run a step of it;
    its `record`, as stored, spares its first step reading it back."""
    if stored_now or await DBOS.get_workflow_status_async(run_id) is None:
        _fresh_runs.add(run_id)
        if stored_now and record is not None:
            _stored_records[run_id] = record
    await DBOS.start_workflow_async(workflow, run_id, *args)


@DBOS.step(name="boocode.turn.begin")
async def _begin_turn(run_id: str, steps: RunSteps | None = None) -> TurnPlan:
    rt = runtime.current()
    run = _stored_records.pop(run_id, None) or await runs.get(rt.db, run_id)
    error = await steps.prepare(run) if steps is not None else None

    def write(conn: Connection) -> TurnStartFrame | None:  # running, and said so, in one commit
        before = runs.transition_in(conn, run_id, TurnStatus.RUNNING, executor_id=rt.executor_id)
        if before is TurnStatus.RUNNING:  # the step ran before a crash: said so already
            return None
        return TurnStartFrame(chat_id=run.chat_id, turn=run.turn_number, task_id=run_id)

    await rt.events.publish_with(run.chat_id, write)
    if steps is not None and error is None:
        await steps.started(run_id)
    return TurnPlan(
        run_id=run_id,
        chat_id=run.chat_id,
        turn=run.turn_number,
        max_tool_iterations=rt.settings.max_tool_iterations,
        cancelled=run.cancel_requested or _cancel_requested(run_id),
        error=error,
        chat_turn=RunKind(run.kind) is RunKind.TURN,
    )


@DBOS.step(name="boocode.turn.llm")
async def _llm_step(plan: TurnPlan, iteration: int) -> ModelReply:
    rt = runtime.current()
    chat_id, turn = plan.chat_id, plan.turn
    step_key = f"t{turn}-llm{iteration}"
    if (done := await _stored_earlier(plan, step_key)) is not None:
        return _model_reply(done)
    if _cancel_requested(plan.run_id):
        return ModelReply(cancelled=True)
    chat = await _chat_of(plan)
    for hook in rt.model_call_hooks:  # appends what arrived since (a subagent's notification)
        await hook(chat_id, turn)
    workspace = Path(chat.workspace)
    # An agent conversation (a workflow agent) may ask for its own model name and effort.
    model = rt.model(workspace, chat.model, chat.effort) if chat.depth else rt.model(workspace)
    request = await cache.build_model_request(rt, chat, model, turn, _histories.get(plan.run_id))
    if request.history is not None:
        _histories[plan.run_id] = request.history
    messages, tools = request.messages, request.tools
    async with rt.tracer.span(
        chat_id=chat_id,
        turn=turn,
        kind="llm",
        name=model.name,
        input=model_call_input(messages, tools, iteration, request.attachments),
        session_id=plan.run_id,
        step_key=step_key,
    ) as span:
        attempts = rt.settings.model_stream_attempts
        for attempt in range(1, attempts + 1):
            # A fresh publisher: its first delta tells clients to drop a failed attempt's text.
            deltas = DeltaPublisher(rt.events, chat_id, turn)
            call = asyncio.ensure_future(model.complete(messages, tools, deltas))
            try:
                cancelled = await _await_unless_cancelled(call, plan.run_id)
                await deltas.flush()
                break
            except ProviderError as exc:
                await deltas.flush()
                if exc.kind in RETRYABLE_KINDS and attempt < attempts:
                    log.warning("model call failed (%s), attempt %d of %d", exc, attempt, attempts)
                    await asyncio.sleep(_RETRY_BACKOFF_S * 2 ** (attempt - 1))
                    continue
                span.outcome, span.error = "error", str(exc)
                return ModelReply(error=str(exc))
        if cancelled:
            span.outcome = "cancelled"
            partial = deltas.text
            if partial:
                await _save_message(
                    chat_id, turn, step_key, role="assistant", content=partial, model=model.name
                )
            return ModelReply(cancelled=True)
        response = call.result()
        span.usage = response.usage
        span.output = response.content
        span.extra = model_call_output(response)
    await cache.record_model_call(
        rt.db, request, response.usage, step_key=step_key, trace_id=span.trace_id
    )
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
    return _model_reply(row)


@DBOS.step(name="boocode.turn.tool")
async def _tool_step(plan: TurnPlan, call: ToolCall, refuse: bool = False) -> ToolDone:
    """Run one tool call and store its result; says whether it wrote a file, and whether the
    run was asked to stop by then.

    A call that must not run (the turn was cancelled, or reached its tool-iteration limit) still
    gets a result, so every tool call in the conversation is answered.
    """
    wrote = await _run_tool_call(plan, call, refuse)
    return ToolDone(wrote=wrote, cancel_requested=_cancel_requested(plan.run_id))


async def _run_tool_call(plan: TurnPlan, call: ToolCall, refuse: bool) -> bool:
    """The body of a tool step: True if the call wrote a file."""
    rt = runtime.current()
    chat_id, turn = plan.chat_id, plan.turn
    step_key = f"t{turn}-tool-{call.id}"
    if (done := await _stored_earlier(plan, step_key)) is not None:
        return done.tool_name in WRITE_TOOLS and not done.is_error
    commands = CommandRecords(rt.db, plan.run_id, f"{plan.run_id}/{step_key}")
    # First, even for a call refused now: a command a dead process left running is killed.
    # (A run this process started has no earlier attempt to leave one.)
    leftover = Leftover() if plan.run_id in _fresh_runs else await commands.leftover()
    refusal = None
    if refuse:
        refusal = ToolResult(
            content="not run: the turn reached its tool-iteration limit", is_error=True
        )
    if _cancel_requested(plan.run_id) and leftover.result is None:
        refusal = cancelled_result(
            CANCELLED_AFTER_A_CRASH if leftover.interrupted else CANCELLED_BEFORE_RUNNING
        )
    if refusal is not None:
        await _answer_tool_call(plan, step_key, call, refusal)
        return False
    chat = await _chat_of(plan)
    spawned: list[int] = []

    async def on_process_start(pid: int) -> None:
        spawned.append(pid)
        await commands.started(pid)

    async with rt.tracer.span(
        chat_id=chat_id,
        turn=turn,
        kind="tool",
        name=call.name,
        input=_parse_arguments(call.arguments),
        session_id=plan.run_id,
        step_key=step_key,
    ) as span:
        execution = asyncio.ensure_future(
            _execute(plan, chat, call, on_process_start, done=leftover.result)
        )
        if await _await_unless_cancelled(execution, plan.run_id):
            # Cancelling the execution killed the command's whole process group.
            result = cancelled_result(CANCELLED_WHILE_RUNNING)
            span.outcome = "cancelled"
        else:
            result = execution.result()
            if spawned:  # first, so that a crash from here on never runs the command again
                await commands.finished(result)
            if result.is_error:
                span.outcome = "timeout" if result.timed_out else "error"
        if leftover.interrupted:
            result = result.model_copy(update={"content": RERUN_NOTE + result.content})
        span.output = result.content
        span.error = result.content if result.is_error else None
        span.extra = dict(result.metadata)
    await _answer_tool_call(plan, step_key, call, result)
    return call.name in WRITE_TOOLS and not result.is_error


async def _execute(
    plan: TurnPlan,
    chat: Chat,
    call: ToolCall,
    on_process_start: ProcessObserver,
    *,
    done: ToolResult | None = None,
) -> ToolResult:
    """Run a call with the workspace's tools, or with a run tool (spawn_subagent and the like);
    a tool the chat is not offered is refused. `done`: the result of a command that ended
    before a crash stopped its step, given again instead of running it twice."""
    if done is not None:
        return done
    rt = runtime.current()
    if chat.tools is not None and call.name not in chat.tools:
        return ToolResult(
            content=f"tool {call.name} is not available here; the tools are: "
            + ", ".join(chat.tools),
            is_error=True,
        )
    run_tool = rt.run_tools.get(call.name)
    if run_tool is not None and run_tool.offered(chat):
        context = RunContext(run_id=plan.run_id, chat=chat, turn=plan.turn, call_id=call.id)
        return await run_tool(context, call.arguments)
    registry = rt.tools(Path(chat.workspace), on_process_start=on_process_start)
    return await registry.execute(call.name, call.arguments)


async def _answer_tool_call(
    plan: TurnPlan, step_key: str, call: ToolCall, result: ToolResult
) -> None:
    """Store a tool call's result; if that fails, store a short error in its place.

    Every tool call must have an answer, or every later request of the chat is invalid.
    """
    try:
        await _save_message(
            plan.chat_id,
            plan.turn,
            step_key,
            role="tool",
            content=result.content,
            tool_call_id=call.id,
            tool_name=call.name,
            is_error=result.is_error,
            cancelled=result.cancelled,
            file_change=None if result.is_error else result.file_change,
        )
    except Exception as exc:
        log.exception("could not store the result of %s", call.name)
        await _save_message(
            plan.chat_id,
            plan.turn,
            step_key,
            role="tool",
            content=f"the result of {call.name} could not be stored: {type(exc).__name__}",
            tool_call_id=call.id,
            tool_name=call.name,
            is_error=True,
        )


@DBOS.step(name="boocode.turn.autofix")
async def _autofix_step(
    plan: TurnPlan, iteration: int, previous: autofix.CheckVerdict
) -> autofix.CheckVerdict:
    """Run the project's check after a write; its errors are appended for the next model call."""
    chat_id, turn = plan.chat_id, plan.turn
    step_key = f"t{turn}-autofix{iteration}"
    check = asyncio.ensure_future(
        autofix.check_after_write(
            await _chat_of(plan), previous, task_id=plan.run_id, turn=turn, step_key=step_key
        )
    )
    if await _await_unless_cancelled(check, plan.run_id):
        return previous.model_copy(update={"cancelled": True})
    verdict = check.result()
    # Appended, never rewritten: the requests before it stay a cacheable prefix.
    if verdict.message and await _stored_earlier(plan, step_key) is None:
        await _save_message(
            chat_id,
            turn,
            step_key,
            role="user",
            content=verdict.message,
            tool_name=autofix.AUTOFIX_MESSAGE,
        )
    return verdict


@DBOS.step(name="boocode.turn.end")
async def _end_turn(plan: TurnPlan, outcome: TurnOutcome, steps: RunSteps | None = None) -> None:
    rt = runtime.current()
    usage, tool_calls = await _answer_unanswered(plan, outcome)
    final: list[AgentRun] = []

    def ended(conn: Connection) -> list[ErrorFrame | TurnEndFrame]:  # the record and its end
        final.clear()  # a transaction tried again (SQLite's lock) starts over
        forget_run(conn, plan.run_id)
        frames = _record_end(conn, plan, outcome, usage)
        if steps is not None:
            final.append(runs.read_in(conn, plan.run_id))
            steps.ended_in(conn, final[0], outcome.answer)
        return frames

    await rt.events.publish_all_with(plan.chat_id, ended)
    hooks = [*rt.turn_end_hooks, *(rt.chat_turn_end_hooks if plan.chat_turn else ())]
    for hook in hooks:
        await hook(plan.chat_id, plan.turn)
    end = None
    if final:
        end = RunEnd(outcome.status, outcome.answer, usage, tool_calls, final[0])
    await _finish(plan.run_id, steps, end)


@DBOS.step(
    name="boocode.turn.end_broken",
    retries_allowed=True,
    interval_seconds=0.5,
    max_attempts=5,
    backoff_rate=2.0,
)
async def _end_broken(run_id: str, steps: RunSteps | None = None) -> TurnOutcome:
    """The end of a run whose first or last step broke: only what the chat needs to go on,
    tried again while storage recovers; what still fails is left to the recovery sweep."""
    outcome = await end_run(run_id, TurnStatus.FAILED, INTERNAL_ERROR)
    await _finish(run_id, steps, None)
    return outcome


async def end_run(run_id: str, status: TurnStatus, error: str | None) -> TurnOutcome:
    """End a run its own loop did not: every tool call answered, the record final, the end
    announced; return how it ended. For a run whose first or last step broke, and for
    recovery (a run whose workflow ended before its record did). A run that ended is left
    as it is."""
    rt = runtime.current()
    run = await runs.get(rt.db, run_id)
    if TurnStatus(run.status) in FINAL:
        return TurnOutcome(status=TurnStatus(run.status), error=run.error)
    plan = TurnPlan(run_id=run_id, chat_id=run.chat_id, turn=run.turn_number, max_tool_iterations=0)
    outcome = TurnOutcome(status=status, error=error)
    usage, _ = await _answer_unanswered(plan, outcome)
    await rt.events.publish_all_with(
        plan.chat_id, lambda conn: _record_end(conn, plan, outcome, usage)
    )
    return outcome


def _record_end(
    conn: Connection, plan: TurnPlan, outcome: TurnOutcome, usage: TokenUsage
) -> list[ErrorFrame | TurnEndFrame]:
    """The run's final status, in the caller's commit, and the frames that say so: the error,
    if any, then `turn_end` (the chat's old frames dropped in the same commit). None when the
    run had ended so already: its end was recorded and said before a crash stopped the step."""
    before = runs.transition_in(conn, plan.run_id, outcome.status, error=outcome.error)
    if before is outcome.status:
        return []
    conn.execute(_CHAT_UPDATED, {"updated": plan.chat_id, "updated_at": datetime.now(UTC)})
    prune_in(conn, plan.chat_id)
    end = TurnEndFrame(
        chat_id=plan.chat_id,
        turn=plan.turn,
        status=outcome.status,
        usage=usage,
        error=outcome.error,
    )
    if outcome.error:
        return [ErrorFrame(chat_id=plan.chat_id, message=outcome.error, turn=plan.turn), end]
    return [end]


async def _finish(run_id: str, steps: RunSteps | None, end: RunEnd | None) -> None:
    """The kind's own end (a subagent's result and report), then what this process kept."""
    if steps is not None:
        await steps.finish(run_id, end)
    runtime.current().cancels.forget(run_id)
    forget(run_id)


async def _answer_unanswered(plan: TurnPlan, outcome: TurnOutcome) -> tuple[TokenUsage, int]:
    """Give every tool call of the turn still without a result one, whatever ended the turn;
    return the tokens of the turn's model calls, added up, and its tool results counted."""
    parameters = {"turn_chat": plan.chat_id, "turn": plan.turn}
    rows = await runtime.current().db.read(
        lambda session: session.execute(_TURN_REPLIES, parameters).all()
    )
    answered = {row.tool_call_id for row in rows if row.role == "tool"}
    results = sum(row.role == "tool" for row in rows)
    usage = TokenUsage()
    for row in rows:
        if row.role == "assistant" and row.usage:
            usage = usage + TokenUsage.model_validate(row.usage)
        for call in map(ToolCall.model_validate, row.tool_calls or []):
            if call.id not in answered:
                reason = f"not run: the turn ended ({outcome.status.value})"
                await _answer_tool_call(
                    plan,
                    f"t{plan.turn}-tool-{call.id}",
                    call,
                    ToolResult(content=reason, is_error=True),
                )
                results += 1
    return usage, results


# The model's replies and the tool results of a turn, on the chat's current branch (other
# branches have turns of the same number). Built once: it runs at the end of every turn.
_TURN_REPLIES = select(Message.role, Message.tool_calls, Message.tool_call_id, Message.usage).where(
    Message.chat_id == bindparam("turn_chat"),
    Message.turn_number == bindparam("turn"),
    Message.branch_id
    == select(Chat.branch_id).where(Chat.id == bindparam("turn_chat")).scalar_subquery(),
    Message.role.in_(["assistant", "tool"]),
)


async def request_cancel(run_id: str) -> bool:
    """Ask an active run to stop; True when there was one to stop.

    The request is stored first, so it holds even if no live process runs the turn: the
    next step of the run, in whichever process resumes it, reads it.
    """
    rt = runtime.current()
    if not await runs.request_cancel(rt.db, run_id):
        return False
    rt.cancels.event(run_id).set()
    return True


def _cancel_requested(run_id: str) -> bool:
    return runtime.current().cancels.event(run_id).is_set()


async def _await_unless_cancelled(call: asyncio.Future[Any], run_id: str) -> bool:
    """Wait for a model call or a tool; True (and the call stopped) if the turn was cancelled."""
    event = runtime.current().cancels.event(run_id)
    if not call.done():
        waiter = asyncio.ensure_future(event.wait())
        await asyncio.wait({call, waiter}, return_when="FIRST_COMPLETED")
        waiter.cancel()
        if not call.done():
            call.cancel()
            await asyncio.gather(call, return_exceptions=True)
            return True
    call.result()
    return False


def _model_reply(row: Message) -> ModelReply:
    calls = [ToolCall.model_validate(call) for call in row.tool_calls or []]
    answer = row.content if not calls and isinstance(row.content, str) else None
    return ModelReply(tool_calls=calls, answer=answer)


def _parse_arguments(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


async def _chat(chat_id: str) -> Chat:
    chat = await runtime.current().db.read(lambda session: session.get(Chat, chat_id))
    if chat is None:
        raise LookupError(f"chat {chat_id} does not exist")
    return chat


# The chat of each run going on in this process, read at its first step: what a turn uses of it
# (workspace, model, tools, branch) does not change while the turn runs.
_run_chats: dict[str, Chat] = {}
# The conversation each run going on here sent in its last model call: the next reads only
# what was stored since.
_histories: dict[str, cache.History] = {}
# Runs this process started itself: none of their steps ran before, so no step has to look for
# a message an earlier execution stored (a run resumed after a crash is not among them).
_fresh_runs: set[str] = set()
# The records of runs this process has just stored and started, until their first step: a
# cancel request since is in `rt.cancels` too.
_stored_records: dict[str, AgentRun] = {}


async def _chat_of(plan: TurnPlan) -> Chat:
    chat = _run_chats.get(plan.run_id)
    if chat is None:
        chat = _run_chats[plan.run_id] = await _chat(plan.chat_id)
    return chat


async def _stored_earlier(plan: TurnPlan, step_key: str) -> Message | None:
    """The message a step stored before its process died, when the step runs again."""
    if plan.run_id in _fresh_runs:
        return None
    return await _message_by_step_key(plan.chat_id, step_key)


def forget(run_id: str) -> None:
    """Drop what this process kept for a run (it ended, or ended before its loop began)."""
    _run_chats.pop(run_id, None)
    _histories.pop(run_id, None)
    _fresh_runs.discard(run_id)
    _stored_records.pop(run_id, None)


async def _message_by_step_key(chat_id: str, step_key: str) -> Message | None:
    query = select(Message).where(Message.chat_id == chat_id, Message.step_key == step_key)
    return await runtime.current().db.read(
        lambda session: session.execute(query).scalar_one_or_none()
    )


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
    cancelled: bool = False,
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
        "cancelled": cancelled,
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
_CHAT_UPDATED = update(Chat).where(Chat.id == bindparam("updated"))
