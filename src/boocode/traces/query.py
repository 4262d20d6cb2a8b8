"""Reading traces: newest first, a page at a time, by keyset on the trace id."""

from __future__ import annotations

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from boocode.contracts.traces import TraceOut, TracePage, TraceQuery
from boocode.db.engine import Database
from boocode.db.tables import AgentRun, Chat, Message, ToolTrace
from boocode.traces.view import trace_out


class ChatNotFound(LookupError):
    def __init__(self, chat_id: str) -> None:
        super().__init__(f"chat {chat_id} does not exist")


class TraceNotFound(LookupError):
    def __init__(self, chat_id: str, trace_id: int) -> None:
        super().__init__(f"chat {chat_id} has no trace {trace_id}")


async def list_traces(db: Database, chat_id: str, query: TraceQuery) -> TracePage:
    """One page of a chat's traces matching the filters; each filter has its own index."""
    stmt = select(ToolTrace).where(ToolTrace.chat_id == chat_id)
    if query.cursor is not None:
        stmt = stmt.where(ToolTrace.id < int(query.cursor))
    if query.turn is not None:
        stmt = stmt.where(ToolTrace.turn_number == query.turn)
    if query.branch is not None:
        stmt = stmt.where(
            or_(
                ToolTrace.branch_id == query.branch,
                ToolTrace.session_id.in_(_runs_of_branch(chat_id, query.branch)),
            )
        )
    if query.kind is not None:
        stmt = stmt.where(ToolTrace.kind == query.kind.value)
    if query.tool_name is not None:
        stmt = stmt.where(ToolTrace.tool_name == query.tool_name)
    if query.outcome is not None:
        stmt = stmt.where(ToolTrace.outcome == query.outcome.value)
    # One row past the page says whether another page follows.
    stmt = stmt.order_by(ToolTrace.id.desc()).limit(query.limit + 1)
    async with db.session() as session:
        rows = list((await session.execute(stmt)).scalars())
        if not rows and not await _chat_exists(session, chat_id):
            raise ChatNotFound(chat_id)
    page = rows[: query.limit]
    more = len(rows) > query.limit
    return TracePage(
        items=[trace_out(row) for row in page],
        next_cursor=str(page[-1].id) if more else None,
    )


async def get_trace(db: Database, chat_id: str, trace_id: int) -> TraceOut:
    """One trace with its input, output and error in full."""
    async with db.session() as session:
        row = (
            await session.execute(
                select(ToolTrace).where(ToolTrace.chat_id == chat_id, ToolTrace.id == trace_id)
            )
        ).scalar_one_or_none()
        if row is None:
            if not await _chat_exists(session, chat_id):
                raise ChatNotFound(chat_id)
            raise TraceNotFound(chat_id, trace_id)
    return trace_out(row, full=True)


def _runs_of_branch(chat_id: str, branch: int) -> Select[str]:
    """The runs whose turns make up a branch: those run on it, and those of the turns a restore
    copied into it (a copied turn keeps its user message's time, which names its run)."""
    return (
        select(AgentRun.id)
        .join(
            Message,
            and_(
                Message.chat_id == AgentRun.chat_id,
                Message.turn_number == AgentRun.turn_number,
                Message.created_at == AgentRun.created_at,
            ),
        )
        .where(AgentRun.chat_id == chat_id, Message.branch_id == branch, Message.role == "user")
    )


async def _chat_exists(session: AsyncSession, chat_id: str) -> bool:
    return bool((await session.execute(select(exists().where(Chat.id == chat_id)))).scalar())
