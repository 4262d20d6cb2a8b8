"""Saving the snapshot at turn boundaries: after every tool phase and when a turn ends."""

from __future__ import annotations

import logging

from boocode.agent.runtime import Runtime
from boocode.sessions import snapshot_store

log = logging.getLogger(__name__)


def install(rt: Runtime) -> None:
    """Register the snapshot saves with the turn loop of this process."""

    async def at_boundary(chat_id: str, turn: int) -> None:
        await _save(rt, chat_id)

    rt.turn_end_hooks.append(at_boundary)
    rt.tool_phase_hooks.append(at_boundary)


async def _save(rt: Runtime, chat_id: str) -> None:
    # A snapshot is a cache of the stored chat: failing to save it must not fail the turn.
    try:
        await snapshot_store.save(rt.db, chat_id)
    except Exception:
        log.exception("could not save the snapshot of chat %s", chat_id)
