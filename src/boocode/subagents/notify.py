"""How an ended subagent reaches its parent conversation.

Its notification is a message appended to the parent chat, never inserted earlier: the prompt
prefix the provider cached stays byte-identical. It is delivered at the first safe point: the
next model call of a running parent turn (before the request is built), or, when the parent is
idle, as the message that opens a new turn (waking it). Both take the due notifications with a
guarded UPDATE in the same commit as the message, so each is delivered once.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, insert, select

from boocode.agent import turn as turns
from boocode.agent.history import to_message_out
from boocode.agent.runtime import Runtime
from boocode.contracts.frames import MessageFrame
from boocode.contracts.runs import RunKind
from boocode.contracts.subagents import SUBAGENT_NOTIFICATION, SubagentResult
from boocode.contracts.workflows import WorkflowResult
from boocode.db.tables import AgentRun, Chat, Message
from boocode.runs import store as runs
from boocode.subagents.store import elapsed_s, take_pending

log = logging.getLogger(__name__)

NOTIFICATION = SUBAGENT_NOTIFICATION

# The parent's context gets this much of an answer; subagent_result gives all of it.
ANSWER_LIMIT = 20_000


class _NothingDue(Exception):
    """Raised inside a wake's transaction to roll it back: no notification was due."""


def notification_text(done: list[AgentRun]) -> str:
    """What the parent's model reads: one block per ended subagent or workflow run."""
    blocks = []
    for run in done:
        if run.kind == RunKind.WORKFLOW.value:
            blocks.append(_workflow_block(run))
            continue
        result = SubagentResult.model_validate(run.result) if run.result else SubagentResult()
        head = (
            f'[subagent {run.status}] task_id={run.id} label="{run.label}" ({elapsed_s(run):.1f} s)'
        )
        lines = [head]
        if run.error:
            lines.append(f"error: {run.error}")
        if result.worktree is not None:
            tree = result.worktree
            lines.append(
                f"worktree: kept at {tree.path}, branch {tree.branch}\n{tree.diff_stat}"
                if tree.kept
                else "worktree: no changes, removed"
            )
        answer = _capped(result.answer, f"subagent_result task_id={run.id}")
        lines.append(f"answer:\n{answer}" if answer else "answer: (none)")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _workflow_block(run: AgentRun) -> str:
    """A workflow run started by the chat's agent (run_workflow) ended: its result or error."""
    result = WorkflowResult.model_validate(run.result) if run.result else WorkflowResult()
    lines = [f'[workflow {run.status}] run_id={run.id} name="{run.label}" ({elapsed_s(run):.1f} s)']
    if run.error:
        lines.append(f"error: {run.error}")
    value = json.dumps(result.value, ensure_ascii=False, indent=1)
    lines.append(f"result:\n{_capped(value, f'GET /api/workflow-runs/{run.id}')}")
    return "\n".join(lines)


def _capped(text: str, whole: str) -> str:
    if len(text) <= ANSWER_LIMIT:
        return text
    rest = len(text) - ANSWER_LIMIT
    return text[:ANSWER_LIMIT] + f"\n[… {rest} more characters: {whole} gives all of it]"


def _append_notification(
    conn: Connection, chat_id: str, branch_id: int, turn: int, created_at: datetime
) -> MessageFrame | None:
    done = take_pending(conn, chat_id)
    if not done:
        return None
    values = {
        "chat_id": chat_id,
        "branch_id": branch_id,
        "turn_number": turn,
        "role": "user",
        "content": notification_text(done),
        "tool_name": NOTIFICATION,
        "is_error": False,
        "step_key": f"notice-{done[0].id}",
        "created_at": created_at,
    }
    row = Message(**values)
    row.id = conn.execute(_INSERT_MESSAGE, values).scalar_one()
    return MessageFrame(chat_id=chat_id, message=to_message_out(row))


async def deliver_due(rt: Runtime, chat_id: str, turn: int) -> None:
    """A model-call hook: append the notifications that arrived since the last call."""

    def write(conn: Connection) -> MessageFrame | None:
        branch = conn.execute(_CHAT_BRANCH, {"notice_chat": chat_id}).scalar_one()
        return _append_notification(conn, chat_id, branch, turn, datetime.now(UTC))

    if await _any_due(rt, chat_id):
        await rt.events.publish_with(chat_id, write)


async def wake_if_due(rt: Runtime, chat_id: str) -> str | None:
    """Open a turn on the due notifications of an idle user chat; the new run's id, if any.

    A chat with a running turn is left to it: that turn's next model call, or its end (which
    calls this again), delivers them.
    """
    if not rt.settings.subagent_wake_parent:
        return None
    chat = await rt.db.read(lambda session: session.get(Chat, chat_id))
    if chat is None or chat.parent_chat_id is not None:
        return None

    def announce(conn: Connection, new: runs.NewTurn) -> MessageFrame:
        frame = _append_notification(conn, chat_id, new.branch_id, new.turn, new.created_at)
        if frame is None:
            raise _NothingDue
        return frame

    try:
        new = await runs.open_turn(
            rt.events,
            chat_id=chat_id,
            branch_id=chat.branch_id,
            run_id=f"turn-{uuid.uuid4().hex}",
            executor_id=rt.executor_id,
            announce=announce,
        )
    except (_NothingDue, runs.TurnInProgress):
        return None
    log.info("woke chat %s with turn %s", chat_id, new.turn)
    await turns.start_turn(new.run_id, stored_now=True)
    return new.run_id


async def wake_after_turn(rt: Runtime, chat_id: str, turn: int) -> None:
    """A turn-end hook: notifications that came after the turn's last model call wake it."""
    if await _any_due(rt, chat_id):
        await wake_if_due(rt, chat_id)


async def _any_due(rt: Runtime, chat_id: str) -> bool:
    return await rt.db.read(
        lambda session: session.execute(_ANY_DUE, {"due_chat": chat_id}).first() is not None
    )


# Built once: constructing a statement costs more than SQLite takes to run it.
_ANY_DUE = (
    select(AgentRun.id)
    .where(
        AgentRun.parent_chat_id == bindparam("due_chat"),
        AgentRun.result.is_not(None),
        AgentRun.delivered_at.is_(None),
    )
    .limit(1)
)
_CHAT_BRANCH = select(Chat.branch_id).where(Chat.id == bindparam("notice_chat"))
_INSERT_MESSAGE = insert(Message).returning(Message.id)
