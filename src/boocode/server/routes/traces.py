"""Trace routes: a chat's model and tool calls, a page at a time, and one call in full."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status

from boocode.agent import runtime
from boocode.contracts.base import INT64_MAX
from boocode.contracts.chats import ErrorBody
from boocode.contracts.traces import TraceOut, TracePage, TraceQuery
from boocode.traces import query

router = APIRouter(tags=["traces"])

_ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}, 422: {"model": ErrorBody}}


@router.get("/api/chats/{chat_id}/traces", responses=_ERRORS)
async def list_traces(chat_id: str, params: Annotated[TraceQuery, Query()]) -> TracePage:
    """Newest first; `?cursor=` takes the `next_cursor` of the page before. Filters combine."""
    try:
        return await query.list_traces(runtime.current().db, chat_id, params)
    except query.ChatNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None


@router.get("/api/chats/{chat_id}/traces/{trace_id}", responses=_ERRORS)
async def get_trace(chat_id: str, trace_id: Annotated[int, Path(ge=1, le=INT64_MAX)]) -> TraceOut:
    """One call with its input, output and error in full."""
    try:
        return await query.get_trace(runtime.current().db, chat_id, trace_id)
    except (query.ChatNotFound, query.TraceNotFound) as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
