"""Saving the snapshot when a turn ends. Mid-turn, readers fold what happened since into the
stored one (`snapshot_store.current`): a save per tool phase would cost every step a write.

An agent's conversation (a subagent's, a workflow agent's) is not saved: it is short, nobody
restores it, and a client that opens it gets its snapshot folded from its rows.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from boocode.agent.runtime import Runtime
from boocode.db.tables import Chat
from boocode.sessions import snapshot_store

log = logging.getLogger(__name__)

# Whether a chat is an agent's conversation, by id: it never changes, so it is read once.
_AGENT_CONVERSATION_CACHE = 4096


def install(rt: Runtime) -> None:
    """Register the snapshot save with the turn loop of this process."""
    agent_conversation: dict[str, bool] = {}

    async def at_turn_end(chat_id: str, turn: int) -> None:
        if chat_id not in agent_conversation:
            if len(agent_conversation) >= _AGENT_CONVERSATION_CACHE:
                agent_conversation.clear()
            agent_conversation[chat_id] = await _is_agent_conversation(rt, chat_id)
        if not agent_conversation[chat_id]:
            await _save(rt, chat_id)

    rt.turn_end_hooks.append(at_turn_end)


async def _save(rt: Runtime, chat_id: str) -> None:
    # A snapshot is a cache of the stored chat: failing to save it must not fail the turn.
    try:
        await snapshot_store.save(rt.db, chat_id)
    except Exception:
        log.exception("could not save the snapshot of chat %s", chat_id)


async def _is_agent_conversation(rt: Runtime, chat_id: str) -> bool:
    async with rt.db.session() as session:
        parent = await session.execute(select(Chat.parent_chat_id).where(Chat.id == chat_id))
    return parent.scalar_one_or_none() is not None
