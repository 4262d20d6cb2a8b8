"""Chats, their messages, and cancelling a turn; plus the unauthenticated health check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response, status

from boocode import __version__
from boocode.agent import runtime, service
from boocode.chats import listing, manage
from boocode.contracts.chats import (
    CancelResult,
    ChatCreate,
    ChatOut,
    ChatPage,
    ChatQuery,
    ChatUpdate,
    ErrorBody,
    Health,
    MessageCreate,
    MessageOut,
    ServerInfo,
    TurnAccepted,
)

router = APIRouter()

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}
_INVALID: dict[str, Any] = {"model": ErrorBody}


@router.get("/healthz", tags=["health"])
async def healthz() -> Health:
    return Health()


@router.get("/api/info", tags=["health"])
async def server_info() -> ServerInfo:
    rt = runtime.current()
    workspace = rt.settings.workspace.resolve()
    model = rt.model(workspace).name
    is_demo = model == "demo"
    return ServerInfo(
        version=__version__,
        workspace=str(workspace),
        model=model,
        model_label=service.DEMO_LABEL if is_demo else model,
        is_demo=is_demo,
    )


@router.post(
    "/api/chats", status_code=status.HTTP_201_CREATED, tags=["chats"], response_model=ChatOut
)
async def create_chat(body: Annotated[ChatCreate | None, Body()] = None) -> ChatOut:
    return await service.create_chat(title=body.title if body else None)


@router.get("/api/chats", tags=["chats"], responses={422: {"model": ErrorBody}})
async def list_chats(params: Annotated[ChatQuery, Query()]) -> ChatPage:
    """Most recently active first, a page at a time; `q` searches titles."""
    return await listing.list_chats(runtime.current().db, params)


@router.get("/api/chats/{chat_id}", tags=["chats"], responses=_NOT_FOUND)
async def get_chat(chat_id: str) -> ChatOut:
    return service.chat_out(await service.get_chat(chat_id))


@router.patch("/api/chats/{chat_id}", tags=["chats"], responses=_NOT_FOUND)
async def update_chat(chat_id: str, body: ChatUpdate) -> ChatOut:
    """Rename (`title`), archive or unarchive (`archived`) a chat."""
    return await manage.update_chat(runtime.current().db, chat_id, body)


@router.delete(
    "/api/chats/{chat_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["chats"],
    responses={**_NOT_FOUND, 409: {"model": ErrorBody}},
)
async def delete_chat(chat_id: str) -> Response:
    """Stop the chat's running turn, subagents and workflow runs, then delete the chat with
    all its data."""
    await manage.delete_chat(runtime.current(), chat_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


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


@router.post("/api/chats/{chat_id}/cancel", tags=["chats"], responses={**_NOT_FOUND, 422: _INVALID})
async def cancel_turn(chat_id: str, subagents: bool = False) -> CancelResult:
    """Stop the running turn; `?subagents=true` stops the chat's subagents too."""
    return await service.cancel(chat_id, subagents=subagents)
