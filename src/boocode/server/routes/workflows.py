"""Workflow runs: the catalog, start a run in a chat, watch it, stop it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, status

from boocode.agent import runtime, service
from boocode.contracts.chats import ErrorBody
from boocode.contracts.workflows import (
    WorkflowCancelResult,
    WorkflowCatalog,
    WorkflowInfo,
    WorkflowRunDetail,
    WorkflowRunList,
    WorkflowStart,
)
from boocode.workflows import discovery
from boocode.workflows import service as workflows

router = APIRouter(tags=["workflows"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}


@router.get("/api/workflows")
async def list_workflows() -> WorkflowCatalog:
    """The workflows of the server's workspace, the user's own and the built-in catalog."""
    rt = runtime.current()
    return WorkflowCatalog(
        workflows=[
            WorkflowInfo(
                name=entry.name,
                description=entry.meta.description if entry.meta else None,
                when_to_use=entry.meta.when_to_use if entry.meta else None,
                source=entry.source.value,
                path=str(entry.path),
                error=entry.error,
            )
            for entry in discovery.discover(rt.settings.workspace, Path.home())
        ]
    )


@router.post(
    "/api/chats/{chat_id}/workflows",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**_NOT_FOUND, 422: {"model": ErrorBody}},
)
async def start_workflow(chat_id: str, body: WorkflowStart) -> WorkflowRunDetail:
    """Check the script, then start the run; its end is reported to the chat."""
    chat = await service.get_chat(chat_id)
    return await workflows.start(runtime.current(), chat, body, home=Path.home())


@router.get("/api/chats/{chat_id}/workflows", responses=_NOT_FOUND)
async def list_runs(chat_id: str) -> WorkflowRunList:
    await service.get_chat(chat_id)
    return await workflows.list_of_chat(runtime.current(), chat_id)


@router.get("/api/workflow-runs/{run_id}", responses=_NOT_FOUND)
async def get_run(run_id: str) -> WorkflowRunDetail:
    """The run with its agents (cached ones marked) and its log."""
    return await workflows.detail(runtime.current(), run_id)


@router.post("/api/workflow-runs/{run_id}/cancel", responses=_NOT_FOUND)
async def cancel_run(run_id: str) -> WorkflowCancelResult:
    """Stop the run: its script is killed, its running agents cancelled."""
    return WorkflowCancelResult(
        run_id=run_id, cancelled=await workflows.cancel(runtime.current(), run_id)
    )
