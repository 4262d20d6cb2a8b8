"""Background subagents of a chat: list, one with its transcript, cancel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from boocode.agent import runtime, service
from boocode.contracts.chats import ErrorBody
from boocode.contracts.subagents import SubagentCancelResult, SubagentDetail, SubagentList
from boocode.subagents import service as subagents

router = APIRouter(tags=["subagents"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}


@router.get("/api/chats/{chat_id}/subagents", responses=_NOT_FOUND)
async def list_subagents(chat_id: str) -> SubagentList:
    """The subagents the chat spawned, oldest first, running and ended."""
    await service.get_chat(chat_id)
    return await subagents.list_of_chat(runtime.current(), chat_id)


@router.get("/api/subagents/{task_id}", responses=_NOT_FOUND)
async def get_subagent(task_id: str) -> SubagentDetail:
    """A subagent with its transcript; watch it live on `/ws/chats/{conversation_id}`."""
    return await subagents.detail(runtime.current(), task_id)


@router.post("/api/subagents/{task_id}/cancel", responses=_NOT_FOUND)
async def cancel_subagent(task_id: str) -> SubagentCancelResult:
    return await subagents.cancel(runtime.current(), task_id)
