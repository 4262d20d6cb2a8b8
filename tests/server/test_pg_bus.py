"""PostgresBus: frames cross processes through LISTEN/NOTIFY on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from boocode.contracts.frames import ErrorFrame, MessageDeltaFrame
from boocode.db.engine import Database
from boocode.db.tables import Chat
from boocode.events.bus import Subscription
from boocode.events.log import EventLog
from boocode.events.pg_bus import MAX_INLINE_BYTES, PostgresBus


class Node:
    """One process's view: its own bus and event log on the shared database."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)
        self.bus = PostgresBus(url)
        self.events = EventLog(self.db, self.bus)

    async def start(self) -> None:
        await self.bus.start()

    async def stop(self) -> None:
        await self.bus.stop()
        await self.db.dispose()


@pytest.fixture
async def nodes(postgres_url: str) -> AsyncIterator[tuple[Node, Node, str]]:
    url = postgres_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    a, b = Node(url), Node(url)
    await a.db.upgrade()
    chat_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    async with a.db.session() as session, session.begin():
        session.add(
            Chat(id=chat_id, title="t", created_at=now, updated_at=now, workspace="/", model="m")
        )
    await a.start()
    await b.start()
    yield a, b, chat_id
    await a.stop()
    await b.stop()


async def take(sub: Subscription, count: int) -> list:
    return [await asyncio.wait_for(sub.get(), 5) for _ in range(count)]


async def test_a_frame_published_in_one_process_reaches_the_other(nodes) -> None:
    a, b, chat_id = nodes
    local, remote = a.bus.subscribe(chat_id), b.bus.subscribe(chat_id)
    for word in ("one ", "two ", "three"):
        await a.events.publish(MessageDeltaFrame(chat_id=chat_id, turn=1, text=word))
    got_remote = await take(remote, 3)
    got_local = await take(local, 3)
    assert [f.text for f in got_remote] == ["one ", "two ", "three"]
    assert [f.seq for f in got_remote] == [f.seq for f in got_local] == [1, 2, 3]
    await asyncio.sleep(0.2)
    assert local.queue.empty(), "a process must not receive its own frames twice"


async def test_a_frame_too_big_for_notify_is_read_from_the_event_log(nodes) -> None:
    a, b, chat_id = nodes
    remote = b.bus.subscribe(chat_id)
    big = "x" * (MAX_INLINE_BYTES * 3)
    await a.events.publish(ErrorFrame(chat_id=chat_id, message=big))
    (frame,) = await take(remote, 1)
    assert isinstance(frame, ErrorFrame) and frame.message == big and frame.seq == 1


async def test_the_listener_reconnects_and_catches_up(nodes, postgres_url: str) -> None:
    a, b, chat_id = nodes
    remote = b.bus.subscribe(chat_id)
    await a.events.publish(MessageDeltaFrame(chat_id=chat_id, turn=1, text="before"))
    await take(remote, 1)
    conn = await asyncpg.connect(postgres_url)
    try:
        pid = b.bus._listener.get_server_pid()  # the listening connection of process b
        await conn.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()
    await a.events.publish(MessageDeltaFrame(chat_id=chat_id, turn=1, text="while away"))
    await a.events.publish(MessageDeltaFrame(chat_id=chat_id, turn=1, text="after"))
    frames = await take(remote, 2)
    assert [f.text for f in frames] == ["while away", "after"]
    assert [f.seq for f in frames] == [2, 3]
