"""A chat's branches, derived from the rows that carry a `branch_id`.

A restore copies the turns it keeps into a new branch, each copy keeping its original
`created_at`; a turn's task is found by (turn number, time of its user message), so a copied
turn still finds the task that ran it, and the newest copied turn is where a branch forked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from boocode.agent.service import ChatNotFound
from boocode.contracts.sessions import BranchOut
from boocode.db.engine import Database
from boocode.db.tables import AgentRun, Chat, FileWrite, Message

PROMPT_EXCERPT_CHARS = 160


class BranchNotFound(LookupError):
    def __init__(self, chat_id: str, branch_id: int) -> None:
        super().__init__(f"chat {chat_id} has no branch {branch_id}")


@dataclass(frozen=True)
class TurnTask:
    id: str
    branch_id: int
    status: str
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None


TaskKey = tuple[int, datetime]


async def chat_row(db: Database, chat_id: str) -> Chat:
    async with db.session() as session:
        chat = await session.get(Chat, chat_id)
    if chat is None:
        raise ChatNotFound(chat_id)
    return chat


async def turn_tasks(db: Database, chat_id: str) -> dict[TaskKey, TurnTask]:
    """Every turn task of the chat, keyed by (turn, created_at) as its user message is."""
    async with db.session() as session:
        rows = await session.execute(
            select(
                AgentRun.id,
                AgentRun.branch_id,
                AgentRun.turn_number,
                AgentRun.created_at,
                AgentRun.status,
                AgentRun.error,
                AgentRun.started_at,
                AgentRun.finished_at,
            ).where(AgentRun.chat_id == chat_id, AgentRun.kind == "turn")
        )
        return {
            (row.turn_number, as_naive(row.created_at)): TurnTask(
                row.id, row.branch_id, row.status, row.error, row.started_at, row.finished_at
            )
            for row in rows
        }


async def list_branches(db: Database, chat: Chat) -> list[BranchOut]:
    """Each branch with its size, fork point and last prompt; the current one included."""
    tasks = await turn_tasks(db, chat.id)
    async with db.session() as session:
        prompts = (
            await session.execute(
                select(Message.branch_id, Message.turn_number, Message.created_at, Message.content)
                .where(Message.chat_id == chat.id, Message.role == "user")
                .order_by(Message.branch_id, Message.id)
            )
        ).all()
        updated = dict(
            (
                await session.execute(
                    select(Message.branch_id, func.max(Message.created_at))
                    .where(Message.chat_id == chat.id)
                    .group_by(Message.branch_id)
                )
            ).all()
        )
    branches: dict[int, BranchOut] = {}
    for row in prompts:
        branch = branches.setdefault(
            row.branch_id,
            BranchOut(
                id=row.branch_id,
                current=row.branch_id == chat.branch_id,
                turns=0,
                updated_at=updated.get(row.branch_id),
            ),
        )
        branch.turns = max(branch.turns, row.turn_number)
        branch.last_prompt = prompt_excerpt(row.content)
        origin = tasks.get((row.turn_number, as_naive(row.created_at)))
        if origin is not None and origin.branch_id != row.branch_id:
            branch.forked_at_turn = max(branch.forked_at_turn or 0, row.turn_number)
    if chat.branch_id not in branches:
        branches[chat.branch_id] = BranchOut(id=chat.branch_id, current=True, turns=0)
    return [branches[key] for key in sorted(branches)]


async def last_turn(db: Database, chat_id: str, branch_id: int) -> int:
    async with db.session() as session:
        last = (
            await session.execute(
                select(func.max(Message.turn_number)).where(
                    Message.chat_id == chat_id, Message.branch_id == branch_id
                )
            )
        ).scalar()
    return int(last or 0)


async def branch_exists(db: Database, chat: Chat, branch_id: int) -> bool:
    if branch_id == chat.branch_id:
        return True
    async with db.session() as session:
        found = (
            await session.execute(
                select(Message.id)
                .where(Message.chat_id == chat.id, Message.branch_id == branch_id)
                .limit(1)
            )
        ).first()
    return found is not None


async def next_branch_id(db: Database, chat: Chat) -> int:
    """One past every branch id any row of the chat uses."""
    highest = chat.branch_id
    async with db.session() as session:
        for table in (Message, FileWrite, AgentRun):
            found = (
                await session.execute(
                    select(func.max(table.branch_id)).where(table.chat_id == chat.id)
                )
            ).scalar()
            highest = max(highest, int(found or 0))
    return highest + 1


def prompt_excerpt(content: Any) -> str:
    """The text of a user message (text parts of a multi-part one), cut to an excerpt."""
    if isinstance(content, list):
        text = " ".join(part.get("text", "") for part in content if isinstance(part, dict)).strip()
        if any(isinstance(p, dict) and p.get("type") == "image_url" for p in content):
            text = f"{text} [image]".strip()
    else:
        text = str(content or "")
    text = " ".join(text.split())
    if len(text) > PROMPT_EXCERPT_CHARS:
        return text[: PROMPT_EXCERPT_CHARS - 1] + "…"
    return text


def as_naive(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes, PostgreSQL aware ones; compare them alike.
    return moment.replace(tzinfo=None) if moment.tzinfo else moment
