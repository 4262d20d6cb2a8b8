"""Session routes: the stored snapshot, the timeline, restore and branches, touched files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query, Response, status

from boocode.agent import runtime
from boocode.contracts.base import INT32_MAX
from boocode.contracts.chats import ErrorBody
from boocode.contracts.sessions import (
    BranchSwitch,
    CheckoutRequest,
    RestoreRequest,
    SessionSnapshot,
    Timeline,
    TouchedFiles,
)
from boocode.sessions import branches, files, restore, snapshot_store, timeline

router = APIRouter(tags=["sessions"])

_ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}
_SWITCH_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
}


@asynccontextmanager
async def _user_errors() -> AsyncIterator[None]:
    """Errors of the sessions services a user can cause, as 404 / 422."""
    try:
        yield
    except branches.BranchNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except restore.TurnOutOfRange as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from None


@router.get("/api/chats/{chat_id}/snapshot", responses=_ERRORS)
async def get_snapshot(chat_id: str) -> SessionSnapshot:
    """The chat's snapshot: the one stored when a turn last ended, brought up to what has
    happened since (a turn in progress included)."""
    db = runtime.current().db
    await branches.chat_row(db, chat_id)
    stored = await snapshot_store.load(db, chat_id)
    if stored is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"chat {chat_id} has no stored snapshot yet; one is saved when a turn ends",
        )
    return await snapshot_store.current(db, chat_id, stored)


@router.delete(
    "/api/chats/{chat_id}/snapshot", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS
)
async def delete_snapshot(chat_id: str) -> Response:
    """Forget the stored snapshot; the chat is untouched and the next turn saves a new one."""
    db = runtime.current().db
    await branches.chat_row(db, chat_id)
    await snapshot_store.delete(db, chat_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/chats/{chat_id}/timeline", responses=_ERRORS)
async def get_timeline(
    chat_id: str, branch_id: Annotated[int | None, Query(ge=0, le=INT32_MAX)] = None
) -> Timeline:
    """Every turn of the current branch (or `branch_id`), and the chat's branches."""
    async with _user_errors():
        return await timeline.timeline(runtime.current().db, chat_id, branch_id)


@router.post("/api/chats/{chat_id}/restore", responses=_SWITCH_ERRORS)
async def restore_to_turn(chat_id: str, body: RestoreRequest) -> BranchSwitch:
    """Continue from the state after `turn`; later turns stay on the branch left behind."""
    async with _user_errors():
        return await restore.restore(chat_id, body)


@router.post("/api/chats/{chat_id}/branches/{branch_id}/checkout", responses=_SWITCH_ERRORS)
async def checkout_branch(
    chat_id: str,
    branch_id: Annotated[int, Path(ge=0, le=INT32_MAX)],
    body: Annotated[CheckoutRequest | None, Body()] = None,
) -> BranchSwitch:
    """Return to a kept branch, optionally putting the agent's files back to its state."""
    async with _user_errors():
        return await restore.checkout(chat_id, branch_id, body or CheckoutRequest())


@router.get("/api/chats/{chat_id}/files", responses=_ERRORS)
async def get_touched_files(
    chat_id: str, turn: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None
) -> TouchedFiles:
    """The coder pane: files the agent wrote in this chat (or in `turn`), each with its net diff."""
    return await files.touched_files(runtime.current().db, chat_id, turn)
