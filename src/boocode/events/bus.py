"""The event bus: delivers published frames to subscribers of a chat.

In-process by default; `PostgresBus` adds LISTEN/NOTIFY so that frames published by one process
reach subscribers in another.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Protocol

from boocode.contracts.base import FrameBase


class Subscription:
    """A chat's frames as they are published, in a bounded queue."""

    def __init__(self, bus: LocalBus, chat_id: str, maxsize: int = 10_000) -> None:
        self.chat_id = chat_id
        self.queue: asyncio.Queue[FrameBase | None] = asyncio.Queue(maxsize)
        self.overflowed = False
        self._bus = bus

    def put(self, frame: FrameBase) -> None:
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            # A subscriber this far behind resynchronises from the event log.
            self.overflowed = True

    async def get(self) -> FrameBase | None:
        return await self.queue.get()

    def drain(self) -> list[FrameBase]:
        """The frames queued now, without waiting for more."""
        frames = []
        while not self.queue.empty():
            frame = self.queue.get_nowait()
            if frame is None:
                break
            frames.append(frame)
        return frames

    async def __aiter__(self) -> AsyncIterator[FrameBase]:
        while (frame := await self.queue.get()) is not None:
            yield frame

    def close(self) -> None:
        self._bus.unsubscribe(self)
        self.queue.put_nowait(None) if not self.queue.full() else None


class EventBus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, frame: FrameBase) -> None: ...

    def subscribe(self, chat_id: str) -> Subscription: ...


class LocalBus:
    """Delivers frames to subscribers in this process."""

    def __init__(self) -> None:
        self._subscribers: defaultdict[str, set[Subscription]] = defaultdict(set)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        for subs in list(self._subscribers.values()):
            for sub in list(subs):
                sub.close()

    async def publish(self, frame: FrameBase) -> None:
        self.deliver(frame)

    def deliver(self, frame: FrameBase) -> None:
        for sub in tuple(self._subscribers.get(frame.chat_id, ())):
            sub.put(frame)

    def subscribe(self, chat_id: str) -> Subscription:
        sub = Subscription(self, chat_id)
        self._subscribers[chat_id].add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subscribers.get(sub.chat_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subscribers[sub.chat_id]
