"""The event log: assigns each frame its per-chat `seq`, stores it, then publishes it."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from boocode.contracts.base import FrameBase
from boocode.contracts.frames import Frame, frame_adapter
from boocode.db.engine import Database
from boocode.db.tables import Chat, Event
from boocode.events.bus import EventBus

F = TypeVar("F", bound=FrameBase)

# Frames kept per chat for reconnecting clients; older ones are replaced by a snapshot.
RETAINED_FRAMES = 5_000


# Built once: constructing a statement costs more than SQLite takes to run it.
_NEXT_SEQ = (
    update(Chat)
    .where(Chat.id == bindparam("frame_chat_id"))
    .values(last_seq=Chat.last_seq + 1)
    .returning(Chat.last_seq)
)
_INSERT_EVENT = insert(Event)


def _append(conn: Connection, frame: F | None) -> F | None:
    return None if frame is None else _stored(conn, frame)


def _stored(conn: Connection, frame: F) -> F:
    """`frame` under the chat's next seq, stored in the caller's transaction."""
    seq = conn.execute(_NEXT_SEQ, {"frame_chat_id": frame.chat_id}).scalar_one()
    frame = frame.model_copy(update={"seq": seq})
    conn.execute(
        _INSERT_EVENT,
        {
            "chat_id": frame.chat_id,
            "seq": seq,
            "type": getattr(frame, "type", "frame"),
            "payload": frame.model_dump(mode="json"),
            "created_at": datetime.now(UTC),
        },
    )
    return frame


class EventLog:
    def __init__(self, db: Database, bus: EventBus) -> None:
        self.db = db
        self.bus = bus
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def publish(self, frame: F) -> F:
        """Store the frame under the chat's next seq and hand it to the bus, in seq order."""
        published = await self.publish_with(frame.chat_id, lambda _conn: frame)
        assert published is not None
        return published

    async def publish_with(self, chat_id: str, write: Callable[[Connection], F | None]) -> F | None:
        """Run `write` (other rows, then the frame to publish) in the frame's own transaction.

        A trace row and the frame announcing it cost one commit, not two. When `write` returns
        None there is nothing to announce and no seq is used.
        """
        async with self._locks[chat_id]:
            frame = await self.db.transact(lambda conn: _append(conn, write(conn)))
            if frame is not None:
                await self.bus.publish(frame)
            return frame

    async def publish_all_with(
        self, chat_id: str, write: Callable[[Connection], Sequence[F]]
    ) -> list[F]:
        """`publish_with` for several frames of one chat (none, one, more), stored in one
        commit under consecutive seqs and published in that order."""
        async with self._locks[chat_id]:
            frames = await self.db.transact(
                lambda conn: [_stored(conn, frame) for frame in write(conn)]
            )
            for frame in frames:
                await self.bus.publish(frame)
            return frames

    async def frames_after(self, chat_id: str, after_seq: int) -> list[Frame] | None:
        """Frames with seq > after_seq, or None when some of them are no longer kept."""
        async with self.db.session() as session:
            last = (
                await session.execute(select(Chat.last_seq).where(Chat.id == chat_id))
            ).scalar_one()
            rows = (
                await session.execute(
                    select(Event.seq, Event.payload)
                    .where(Event.chat_id == chat_id, Event.seq > after_seq)
                    .order_by(Event.seq)
                )
            ).all()
        # Frames published between the two reads only add rows past `last`; what must hold is
        # an unbroken run from after_seq + 1 that reaches at least `last`.
        seqs = [row.seq for row in rows]
        if seqs != list(range(after_seq + 1, after_seq + 1 + len(seqs))):
            return None
        if after_seq + len(seqs) < last:
            return None
        return [frame_adapter.validate_python(row.payload) for row in rows]

    async def prune(self, chat_id: str) -> None:
        await self.db.transact(lambda conn: prune_in(conn, chat_id))


def prune_in(conn: Connection, chat_id: str) -> None:
    """Drop the chat's frames older than the last `RETAINED_FRAMES`, in the caller's
    transaction (the one of the frame that ends a turn, say)."""
    last = conn.execute(select(Chat.last_seq).where(Chat.id == chat_id)).scalar_one()
    conn.execute(delete(Event).where(Event.chat_id == chat_id, Event.seq <= last - RETAINED_FRAMES))
