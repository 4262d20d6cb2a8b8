"""The session timeline: every turn of a branch, with its prompt, tools, tokens and outcome."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select

from boocode.contracts.chats import TurnStatus
from boocode.contracts.sessions import Timeline, TimelineTurn
from boocode.contracts.usage import TokenUsage
from boocode.db.engine import Database
from boocode.db.tables import FileWrite, Message
from boocode.sessions import branches
from boocode.sessions.branches import BranchNotFound, as_naive


async def timeline(db: Database, chat_id: str, branch_id: int | None = None) -> Timeline:
    """The turns of `branch_id` (default: the current branch) and the list of branches."""
    chat = await branches.chat_row(db, chat_id)
    branch = chat.branch_id if branch_id is None else branch_id
    if not await branches.branch_exists(db, chat, branch):
        raise BranchNotFound(chat_id, branch)
    tasks = await branches.turn_tasks(db, chat_id)
    async with db.session() as session:
        rows = (
            await session.execute(
                select(
                    Message.id,
                    Message.turn_number,
                    Message.role,
                    Message.usage,
                    Message.is_error,
                    Message.cancelled,
                    Message.created_at,
                )
                .where(Message.chat_id == chat_id, Message.branch_id == branch)
                .order_by(Message.id)
            )
        ).all()
        prompts: dict[int, Any] = {
            row.id: row
            for row in (
                await session.execute(
                    select(Message.id, Message.content, Message.attachments).where(
                        Message.chat_id == chat_id,
                        Message.branch_id == branch,
                        Message.role == "user",
                    )
                )
            ).all()
        }
        written = (
            await session.execute(
                select(FileWrite.turn_number, FileWrite.path)
                .where(FileWrite.chat_id == chat_id, FileWrite.branch_id == branch)
                .order_by(FileWrite.id)
            )
        ).all()
    files: defaultdict[int, list[str]] = defaultdict(list)
    for turn_number, path in written:
        if path not in files[turn_number]:
            files[turn_number].append(path)
    turns: dict[int, TimelineTurn] = {}
    for row in rows:
        entry = turns.get(row.turn_number)
        if entry is None:
            entry = turns[row.turn_number] = TimelineTurn(
                turn=row.turn_number,
                prompt=_prompt(prompts.get(row.id)),
                first_message_id=row.id,
                tool_calls=0,
                tool_errors=0,
                usage=TokenUsage(),
                tokens=0,
                started_at=row.created_at,
                files=files.get(row.turn_number, []),
            )
            task = tasks.get((row.turn_number, as_naive(row.created_at)))
            if task is not None:
                entry.status = TurnStatus(task.status)
                entry.error = task.error
                if task.started_at and task.finished_at:
                    elapsed = as_naive(task.finished_at) - as_naive(task.started_at)
                    entry.duration_ms = round(elapsed.total_seconds() * 1000, 1)
        if row.role == "tool":
            entry.tool_calls += 1
            # A call stopped by a cancel did not fail.
            entry.tool_errors += int(row.is_error and not row.cancelled)
        elif row.role == "assistant" and row.usage:
            entry.usage = entry.usage + TokenUsage.model_validate(row.usage)
            entry.tokens = entry.usage.total_tokens
    return Timeline(
        chat_id=chat_id,
        branch_id=branch,
        current_branch_id=chat.branch_id,
        turns=list(turns.values()),
        branches=await branches.list_branches(db, chat),
    )


def _prompt(row: Any) -> str:
    return "" if row is None else branches.prompt_excerpt(row.content, row.attachments)
