"""The event bus across processes: local delivery plus PostgreSQL LISTEN/NOTIFY.

A frame published here reaches this process's subscribers at once, and every other process
listening on the same database through a notification. A notification carries the frame itself,
or only `{chat_id, seq}` when the frame is too big for NOTIFY (8000 bytes); the receiver then
reads the frame from the `events` table, where the event log stored it before publishing.
Notifications from this process are ignored (its subscribers already have the frame), and so
are frames older than the newest one delivered for that chat. When the listening connection is
lost it is re-opened, and frames missed meanwhile are read back from the `events` table for the
chats someone is watching.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

import asyncpg

from boocode.contracts.base import FrameBase
from boocode.contracts.frames import frame_adapter
from boocode.events.bus import LocalBus, Subscription

log = logging.getLogger(__name__)

CHANNEL = "boocode_events"
# NOTIFY payloads must stay under 8000 bytes; bigger frames travel by reference.
MAX_INLINE_BYTES = 7000
_RECONNECT_MIN_S = 0.2
_RECONNECT_MAX_S = 5.0


class PostgresBus(LocalBus):
    def __init__(self, url: str, *, channel: str = CHANNEL) -> None:
        super().__init__()
        self.dsn = _asyncpg_dsn(url)
        self.channel = channel
        self.origin = uuid.uuid4().hex
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._fetches: set[asyncio.Task[None]] = set()
        # The newest seq delivered per watched chat: where to resume after a lost connection.
        self._delivered: dict[str, int] = {}
        # Notifications held back while missed frames are read, so that order is kept.
        self._held: list[str] | None = None

    async def start(self) -> None:
        self._pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=4)
        await self._listen()
        self._supervisor = asyncio.create_task(self._keep_listening(), name="pg-bus-listener")

    async def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        for task in list(self._fetches):
            task.cancel()
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()
        if self._pool is not None:
            await self._pool.close()
        await super().stop()

    async def publish(self, frame: FrameBase) -> None:
        self.deliver(frame)
        try:
            assert self._pool is not None, "PostgresBus.start() was not awaited"
            async with self._pool.acquire() as conn:
                await conn.execute("SELECT pg_notify($1, $2)", self.channel, self._payload(frame))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # The frame is stored; other processes fill the hole from the event log.
            log.warning("could not notify other processes of frame %s: %s", frame.seq, exc)

    def deliver(self, frame: FrameBase) -> None:
        if frame.chat_id in self._subscribers:
            self._delivered[frame.chat_id] = max(self._delivered.get(frame.chat_id, 0), frame.seq)
        super().deliver(frame)

    def unsubscribe(self, sub: Subscription) -> None:
        super().unsubscribe(sub)
        if sub.chat_id not in self._subscribers:
            self._delivered.pop(sub.chat_id, None)

    def _payload(self, frame: FrameBase) -> str:
        inline = json.dumps({"origin": self.origin, "frame": frame.model_dump(mode="json")})
        if len(inline.encode()) <= MAX_INLINE_BYTES:
            return inline
        return json.dumps({"origin": self.origin, "chat_id": frame.chat_id, "seq": frame.seq})

    async def _listen(self) -> None:
        conn = await asyncpg.connect(self.dsn)
        await conn.add_listener(self.channel, self._on_notification)
        conn.add_termination_listener(lambda _conn: self._lost.set())
        self._listener = conn
        self._lost.clear()

    async def _keep_listening(self) -> None:
        """Re-open the listening connection whenever it drops, then catch up on missed frames."""
        while True:
            await self._lost.wait()
            log.warning("lost the PostgreSQL event listener; reconnecting")
            self._held = []
            delay = _RECONNECT_MIN_S
            while True:
                try:
                    await self._listen()
                    break
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("event listener reconnect failed: %s", exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, _RECONNECT_MAX_S)
            for chat_id, seq in list(self._delivered.items()):
                await self._deliver_stored(chat_id, after_seq=seq)
            held, self._held = self._held, None
            for payload in held:
                self._receive(payload)

    def _on_notification(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        if self._held is not None:
            self._held.append(payload)
        else:
            self._receive(payload)

    def _receive(self, payload: str) -> None:
        try:
            message = json.loads(payload)
            if message.get("origin") == self.origin:
                return
            if "frame" in message:
                chat_id, seq = message["frame"]["chat_id"], int(message["frame"]["seq"])
            else:
                chat_id, seq = message["chat_id"], int(message["seq"])
            if chat_id not in self._subscribers:
                return
            if seq <= self._delivered.get(chat_id, 0):
                return  # already delivered (read back after a reconnect, or overtaken)
            if "frame" in message:
                self.deliver(frame_adapter.validate_python(message["frame"]))
            else:
                self._spawn(self._deliver_stored(chat_id, after_seq=seq - 1, upto=seq))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring a malformed event notification: %s", exc)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._fetches.add(task)
        task.add_done_callback(self._fetches.discard)

    async def _deliver_stored(
        self, chat_id: str, *, after_seq: int, upto: int | None = None
    ) -> None:
        """Read frames of a chat from the `events` table and deliver them in seq order."""
        assert self._pool is not None
        query = "SELECT payload FROM events WHERE chat_id = $1 AND seq > $2"
        args: list[Any] = [chat_id, after_seq]
        if upto is not None:
            query += " AND seq <= $3"
            args.append(upto)
        try:
            async with self._pool.acquire() as conn:
                rows = await conn.fetch(query + " ORDER BY seq", *args)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("could not read frames of chat %s: %s", chat_id, exc)
            return
        for row in rows:
            payload = row["payload"]
            self.deliver(frame_adapter.validate_python(_json(payload)))


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _asyncpg_dsn(url: str) -> str:
    """asyncpg speaks plain `postgresql://` URLs, not SQLAlchemy's `postgresql+asyncpg://`."""
    for prefix in ("postgresql+asyncpg://", "postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url
