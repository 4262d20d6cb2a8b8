"""The command sandbox of the server's workspace and of a chat's: confined or not, network,
environment."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request

from boocode.agent import service
from boocode.config import Settings
from boocode.contracts.chats import ErrorBody
from boocode.contracts.sandbox import SandboxStatus
from boocode.sandbox import sandbox_for

router = APIRouter(tags=["sandbox"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}


@router.get("/api/sandbox")
async def get_sandbox(request: Request) -> SandboxStatus:
    """Whether commands run inside bubblewrap, and if not, why; the web page's header mark."""
    settings: Settings = request.app.state.settings
    sandbox = await asyncio.to_thread(sandbox_for, settings, settings.workspace)
    return sandbox.status()


@router.get("/api/chats/{chat_id}/sandbox", responses=_NOT_FOUND)
async def get_chat_sandbox(chat_id: str, request: Request) -> SandboxStatus:
    """The sandbox the chat's commands run in: its workspace's, which that workspace's own
    `[sandbox]` table may have narrowed; the header mark while the chat is open."""
    chat = await service.get_chat(chat_id)
    settings: Settings = request.app.state.settings
    sandbox = await asyncio.to_thread(sandbox_for, settings, Path(chat.workspace))
    return sandbox.status()
