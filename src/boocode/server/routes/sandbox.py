"""The command sandbox of the server's workspace: confined or not, network, environment."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request

from boocode.config import Settings
from boocode.contracts.sandbox import SandboxStatus
from boocode.sandbox import sandbox_for

router = APIRouter(tags=["sandbox"])


@router.get("/api/sandbox")
async def get_sandbox(request: Request) -> SandboxStatus:
    """Whether commands run inside bubblewrap, and if not, why; the web page's header mark."""
    settings: Settings = request.app.state.settings
    sandbox = await asyncio.to_thread(sandbox_for, settings, settings.workspace)
    return sandbox.status()
