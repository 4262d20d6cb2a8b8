"""The `snapshot` frame: a chat as it stands, including a turn in progress.

It is built from the stored snapshot (status, pending tool calls, tokens, touched files),
advanced by whatever happened since it was saved, plus the branch's messages for display.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import select

from boocode.agent import runtime, service
from boocode.agent.history import load_messages, to_message_out
from boocode.contracts.chats import TurnStatus
from boocode.contracts.frames import SnapshotFrame, TurnState
from boocode.db.tables import Chat, Event
from boocode.sessions import snapshot_store


async def build_snapshot_frame(chat_id: str) -> SnapshotFrame:
    """Read the chat, its snapshot and the turn in progress; `seq` is the last frame covered."""
    rt = runtime.current()
    chat = await service.get_chat(chat_id)
    async with rt.db.session() as session:
        last_seq = (
            await session.execute(select(Chat.last_seq).where(Chat.id == chat_id))
        ).scalar_one()
    session_state = await snapshot_store.current(
        rt.db, chat_id, await snapshot_store.load(rt.db, chat_id)
    )
    rows = await load_messages(rt.db, chat_id, session_state.branch_id)
    turn = None
    if session_state.task_id is not None:
        text, reasoning = await _streamed_since_last_message(chat_id, session_state.turn, last_seq)
        turn = TurnState(
            turn=session_state.turn,
            task_id=session_state.task_id,
            status=TurnStatus(session_state.status.value),
            text=text,
            reasoning=reasoning,
        )
    return SnapshotFrame(
        chat_id=chat_id,
        seq=last_seq,
        chat=service.chat_out(chat),
        messages=[to_message_out(row) for row in rows],
        turn=turn,
        usage=session_state.usage,
        session=session_state,
    )


async def _streamed_since_last_message(chat_id: str, turn: int, up_to: int) -> tuple[str, str]:
    """The text and reasoning streamed in this turn after its last stored message."""
    async with runtime.current().db.session() as session:
        rows = (
            await session.execute(
                select(Event.type, Event.payload)
                .where(
                    Event.chat_id == chat_id,
                    Event.seq <= up_to,
                    Event.type.in_(["message", "message_delta", "reasoning_delta"]),
                )
                .order_by(Event.seq.desc())
                .limit(2_000)
            )
        ).all()
    streamed: dict[str, list[str]] = {"message_delta": [], "reasoning_delta": []}
    complete: set[str] = set()
    for kind_value, stored in rows:
        kind, payload = str(kind_value), cast(dict[str, Any], stored)
        if kind == "message" or payload.get("turn") != turn:
            break
        if kind in complete:
            continue
        streamed[kind].append(payload["text"])
        if payload.get("restart"):
            # Anything older belongs to an attempt that was lost in a crash.
            complete.add(kind)
    text, reasoning = streamed["message_delta"], streamed["reasoning_delta"]
    return "".join(reversed(text)), "".join(reversed(reasoning))
