"""Chats, their messages, and cancelling a turn; plus the unauthenticated health check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, status

from boocode.agent import service
from boocode.contracts.chats import (
    CancelResult,
    ChatCreate,
    ChatOut,
    ErrorBody,
    Health,
    MessageCreate,
    MessageOut,
    TurnAccepted,
)

router = APIRouter()

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}


@router.get("/healthz", tags=["health"])
async def healthz() -> Health:
    return Health()


@router.post(
    "/api/chats", status_code=status.HTTP_201_CREATED, tags=["chats"], response_model=ChatOut
)
async def create_chat(body: Annotated[ChatCreate | None, Body()] = None) -> ChatOut:
    return await service.create_chat(title=body.title if body else None)


@router.get("/api/chats", tags=["chats"])
async def list_chats() -> list[ChatOut]:
    return await service.list_chats()


@router.get("/api/chats/{chat_id}", tags=["chats"], responses=_NOT_FOUND)
async def get_chat(chat_id: str) -> ChatOut:
    return service.chat_out(await service.get_chat(chat_id))


@router.post(
    "/api/chats/{chat_id}/messages",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["chats"],
    responses={**_NOT_FOUND, 409: {"model": ErrorBody}, 413: {"model": ErrorBody}},
)
async def post_message(chat_id: str, body: MessageCreate) -> TurnAccepted:
    """Store the message and start a durable turn; watch it on `/ws/chats/{chat_id}`."""
    return await service.post_message(chat_id, body)


@router.get("/api/chats/{chat_id}/messages", tags=["chats"], responses=_NOT_FOUND)
async def list_messages(chat_id: str) -> list[MessageOut]:
    return await service.messages(chat_id)


@router.post("/api/chats/{chat_id}/cancel", tags=["chats"], responses=_NOT_FOUND)
async def cancel_turn(chat_id: str) -> CancelResult:
    return await service.cancel(chat_id)
