"""Streamed model text as delta frames: the first piece at once, the rest in batches."""

from __future__ import annotations

import time

from boocode.contracts.frames import MessageDeltaFrame, ReasoningDeltaFrame
from boocode.events.log import EventLog

# After the first frame of a kind, streamed text is published in batches at most this far apart.
DELTA_INTERVAL_S = 0.04

_FRAME_TYPES = (("reasoning", ReasoningDeltaFrame), ("text", MessageDeltaFrame))


class DeltaPublisher:
    """The `on_delta` sink of one model call.

    The first piece of each kind is published as soon as it arrives, so the user sees the answer
    start without waiting for a batch window; later pieces are gathered and published at most
    every `DELTA_INTERVAL_S`, so a fast stream costs a few frames, not one per token.
    """

    def __init__(self, events: EventLog, chat_id: str, turn: int) -> None:
        self.events = events
        self.chat_id = chat_id
        self.turn = turn
        self.text = ""
        self._pending = {"text": "", "reasoning": ""}
        # A model call re-run after a crash streams from the start again: its first delta
        # tells clients to drop what the lost attempt had streamed.
        self._restart = {"text": True, "reasoning": True}
        self._last_flush = time.monotonic()

    async def __call__(self, kind: str, text: str) -> None:
        self._pending[kind] += text
        if kind == "text":
            self.text += text
        first = self._restart[kind]
        if first or time.monotonic() - self._last_flush >= DELTA_INTERVAL_S:
            await self.flush()

    async def flush(self) -> None:
        """Publish whatever is pending (the call's end, or an error, calls this too)."""
        self._last_flush = time.monotonic()
        for kind, frame_type in _FRAME_TYPES:
            if text := self._pending[kind]:
                self._pending[kind] = ""
                restart, self._restart[kind] = self._restart[kind], False
                await self.events.publish(
                    frame_type(chat_id=self.chat_id, turn=self.turn, text=text, restart=restart)
                )
