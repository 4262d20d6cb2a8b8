"""Prompt-cache figures of a chat: per model call, per turn and in total."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from boocode.agent import runtime
from boocode.cache import ChatNotFound, cache_stats
from boocode.contracts.cache import CacheStats
from boocode.contracts.chats import ErrorBody

router = APIRouter(tags=["cache"])


@router.get("/api/chats/{chat_id}/cache-stats", responses={404: {"model": ErrorBody}})
async def get_cache_stats(chat_id: str) -> CacheStats:
    """Each call's segments with the cached share laid over them (an estimate), why a cache
    broke, each turn's hit rate, and for the chat the hit rate, tokens from cache and money saved.
    """
    rt = runtime.current()
    try:
        return await cache_stats(rt.db, rt.settings, chat_id)
    except ChatNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
