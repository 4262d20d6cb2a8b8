"""The WebSocket hub: `/ws/chats/{id}` streams a chat's frames, in seq order, without gaps.

The first frame is a `snapshot` (or, with `?after_seq=N`, exactly the frames after N when the
event log still has them). Then live frames follow. The subscription is opened before the
snapshot is read, so nothing published in between is lost; frames already covered are skipped,
and a hole in the live stream (a notification lost or overtaken) is filled from the event log.
Both happen before the handshake completes: what the client causes once it is connected (a
message posted at once) reaches it as frames after the snapshot, never folded into it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from boocode.agent import runtime, service
from boocode.agent.runtime import Runtime
from boocode.contracts.base import FrameBase
from boocode.contracts.frames import SnapshotFrame
from boocode.events.bus import Subscription
from boocode.sessions.snapshot import build_snapshot_frame

log = logging.getLogger(__name__)

router = APIRouter()

WS_NOT_FOUND = 4404
WS_GOING_AWAY = 1001


class _EncodedFrames:
    """Each frame encoded once for all its watchers; `(chat_id, seq)` names a frame uniquely."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._texts: OrderedDict[tuple[str, int], str] = OrderedDict()

    def text(self, frame: FrameBase) -> str:
        key = (frame.chat_id, frame.seq)
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = frame.model_dump_json()
            if len(self._texts) > self._size:
                self._texts.popitem(last=False)
        return text


_encoded = _EncodedFrames()


@router.websocket("/ws/chats/{chat_id}")
async def chat_socket(websocket: WebSocket, chat_id: str, after_seq: int | None = None) -> None:
    rt = runtime.current()
    try:
        await service.get_chat(chat_id)
    except service.ChatNotFound as exc:
        await websocket.accept()
        await websocket.close(WS_NOT_FOUND, str(exc))
        return
    stream = _ChatStream(rt, websocket, chat_id)
    # The first frames are read before the handshake ends: whatever the client does once it is
    # connected (a message it posts at once) comes to it as frames, not folded into them.
    first = await stream.first_frames(after_seq)
    await websocket.accept()
    pump = asyncio.create_task(stream.run(first))
    try:
        await _until_client_leaves(websocket, pump)
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await pump
        stream.close()


async def _until_client_leaves(websocket: WebSocket, pump: asyncio.Task[None]) -> None:
    """Read (and ignore) what the client sends until it goes away or the pump stops."""
    receiver = asyncio.ensure_future(websocket.receive())
    try:
        while True:
            await asyncio.wait({receiver, pump}, return_when=asyncio.FIRST_COMPLETED)
            if pump.done():
                return
            if receiver.result()["type"] == "websocket.disconnect":
                return
            receiver = asyncio.ensure_future(websocket.receive())
    finally:
        receiver.cancel()


class _ChatStream:
    """Sends one chat's frames to one client; `last_seq` is the newest frame it has."""

    def __init__(self, rt: Runtime, websocket: WebSocket, chat_id: str) -> None:
        self.rt = rt
        self.websocket = websocket
        self.chat_id = chat_id
        self.last_seq = 0
        self.subscription: Subscription = rt.bus.subscribe(chat_id)

    async def run(self, first: list[FrameBase] | SnapshotFrame) -> None:
        try:
            if isinstance(first, SnapshotFrame):
                await self._send_snapshot(first)
            else:
                for missed in first:
                    await self._send(missed)
            while True:
                frame = await self.subscription.get()
                if frame is None:  # the bus stopped: the server is shutting down
                    await self.websocket.close(WS_GOING_AWAY, "server shutting down")
                    return
                if self.subscription.overflowed:
                    await self._resubscribe()
                    continue
                await self._forward(frame)
        except WebSocketDisconnect:
            return

    def close(self) -> None:
        self.subscription.close()

    async def first_frames(self, after_seq: int | None) -> list[FrameBase] | SnapshotFrame:
        """The frames after `after_seq` when the event log still has them all, else a snapshot;
        read once the subscription is open, so nothing published meanwhile is lost."""
        if after_seq is not None and after_seq >= 0:
            chat = await service.get_chat(self.chat_id)
            if after_seq <= chat.last_seq:
                missed = await self.rt.events.frames_after(self.chat_id, after_seq)
                if missed is not None:
                    self.last_seq = after_seq
                    return list(missed)
        return await build_snapshot_frame(self.chat_id)

    async def _forward(self, frame: FrameBase) -> None:
        if frame.seq <= self.last_seq:
            return  # already covered by the snapshot or a gap fill
        if frame.seq > self.last_seq + 1:
            await self._fill_gap()
            if frame.seq <= self.last_seq:
                return
        await self._send(frame)

    async def _fill_gap(self) -> None:
        missed = await self.rt.events.frames_after(self.chat_id, self.last_seq)
        if missed is None:
            await self._send_snapshot()
            return
        for frame in missed:
            await self._send(frame)

    async def _resubscribe(self) -> None:
        # A client this far behind lost frames from its queue: start again from a snapshot.
        self.subscription.close()
        self.subscription = self.rt.bus.subscribe(self.chat_id)
        await self._send_snapshot()

    async def _send_snapshot(self, snapshot: SnapshotFrame | None = None) -> None:
        if snapshot is None:
            snapshot = await build_snapshot_frame(self.chat_id)
        self.last_seq = snapshot.seq
        await self.websocket.send_text(snapshot.model_dump_json())

    async def _send(self, frame: FrameBase) -> None:
        if self.websocket.application_state is WebSocketState.DISCONNECTED:
            raise WebSocketDisconnect()
        await self.websocket.send_text(_encoded.text(frame))
        self.last_seq = frame.seq
