"""Saving the snapshot when a turn ends. Mid-turn, readers fold what happened since into the
stored one (`snapshot_store.current`): a save per tool phase would cost every step a write.

An agent's conversation (a subagent's, a workflow agent's) is not saved: it is short, nobody
restores it, and a client that opens it gets its snapshot folded from its rows.
"""

from __future__ import annotations

import logging

from boocode.agent.runtime import Runtime
from boocode.sessions import snapshot_store

log = logging.getLogger(__name__)


def install(rt: Runtime) -> None:
    """Register the snapshot save with the turn loop of this process: at the end of a turn of a
    user's chat (an agent's conversation is not saved)."""

    async def at_turn_end(chat_id: str, turn: int) -> None:
        await _save(rt, chat_id)

    rt.chat_turn_end_hooks.append(at_turn_end)


async def _save(rt: Runtime, chat_id: str) -> None:
    # A snapshot is a cache of the stored chat: failing to save it must not fail the turn.
    try:
        await snapshot_store.save(rt.db, chat_id)
    except Exception:
        log.exception("could not save the snapshot of chat %s", chat_id)
