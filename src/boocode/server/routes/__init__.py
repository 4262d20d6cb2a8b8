"""Every APIRouter the app serves; a feature adds its router to `ROUTERS`."""

from __future__ import annotations

from fastapi import APIRouter

from boocode.server.routes.attachments import router as attachments_router
from boocode.server.routes.autofix import router as autofix_router
from boocode.server.routes.cache import router as cache_router
from boocode.server.routes.chats import router as chats_router
from boocode.server.routes.sandbox import router as sandbox_router
from boocode.server.routes.sessions import router as sessions_router
from boocode.server.routes.subagents import router as subagents_router
from boocode.server.routes.traces import router as traces_router
from boocode.server.routes.workflows import router as workflows_router
from boocode.server.ws import router as ws_router

ROUTERS: list[APIRouter] = [
    chats_router,
    ws_router,
    sessions_router,
    traces_router,
    autofix_router,
    sandbox_router,
    attachments_router,
    cache_router,
    subagents_router,
    workflows_router,
]
