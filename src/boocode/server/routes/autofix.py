"""A chat's auto-fix: which check runs after the agent writes, and the chat's on/off switch."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from boocode.autofix import service
from boocode.contracts.autofix import AutofixState, AutofixUpdate
from boocode.contracts.chats import ErrorBody

router = APIRouter(tags=["autofix"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}


@router.get("/api/chats/{chat_id}/autofix", responses=_NOT_FOUND)
async def get_autofix(chat_id: str) -> AutofixState:
    """The configured or detected command, whether it runs for this chat, why, and recent runs."""
    return await service.autofix_state(chat_id)


@router.put("/api/chats/{chat_id}/autofix", responses={**_NOT_FOUND, 422: {"model": ErrorBody}})
async def put_autofix(chat_id: str, body: AutofixUpdate) -> AutofixState:
    """Switch auto-fix on (`true`) or off (`false`) for this chat; `null` follows the project."""
    return await service.set_chat_autofix(chat_id, body.enabled)
