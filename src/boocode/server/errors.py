"""Errors a user can cause, mapped to a 4xx in the one error shape, `ErrorBody`."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Scope

from boocode.agent import service
from boocode.attachments import AttachmentError
from boocode.chats.manage import RunsDidNotStop
from boocode.runs.store import TurnInProgress
from boocode.subagents.store import SubagentNotFound
from boocode.workflows.service import WorkflowRefused
from boocode.workflows.store import WorkflowRunNotFound

log = logging.getLogger(__name__)

_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(service.ChatNotFound, _not_found)
    app.add_exception_handler(TurnInProgress, _conflict)
    app.add_exception_handler(RunsDidNotStop, _conflict)
    app.add_exception_handler(service.SubagentConversation, _conflict)
    app.add_exception_handler(SubagentNotFound, _not_found)
    app.add_exception_handler(WorkflowRunNotFound, _not_found)
    app.add_exception_handler(WorkflowRefused, _unprocessable)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(SQLAlchemyError, _storage_failed)
    app.add_exception_handler(Exception, _internal)
    app.add_exception_handler(AttachmentError, _attachment_refused)
    app.add_exception_handler(StarletteHTTPException, _http_error)


async def _not_found(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


async def _conflict(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=409)


async def _unprocessable(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


async def _storage_failed(_request: Request, exc: Exception) -> JSONResponse:
    log.error("storage error: %s", exc)
    detail = "storage is unavailable; try again shortly (the server log has the cause)"
    return JSONResponse({"detail": detail}, status_code=503)


async def _internal(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error", exc_info=exc)
    return JSONResponse({"detail": "internal error; the server log has the cause"}, status_code=500)


async def _attachment_refused(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AttachmentError)
    return JSONResponse({"detail": str(exc)}, status_code=exc.status_code)


async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_describe(error) for error in exc.errors()]
    return JSONResponse({"detail": "; ".join(problems), "errors": problems}, status_code=422)


async def _http_error(request: Request, exc: Exception) -> Response:
    """A 405 names every method of the path in `Allow`, not only those of the first route."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405 and (methods := allowed_methods(request.app.routes, request.scope)):
        exc = StarletteHTTPException(405, str(exc.detail), headers={"Allow": ", ".join(methods)})
    return await http_exception_handler(request, exc)


def allowed_methods(routes: list[BaseRoute], scope: Scope) -> list[str]:
    """The methods some API route answers at this path (the web client's files aside)."""
    api_routes = [route for route in routes if not isinstance(route, Mount)]
    return [
        method
        for method in _METHODS
        if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in api_routes)
    ]


def _describe(error: dict[str, object]) -> str:
    """`body.content: String should have at least 1 character` — where, then what."""
    location = [str(part) for part in error.get("loc", ()) if part != "body"]  # type: ignore[attr-defined]
    where = ".".join(location) or "body"
    what = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{where}: {what}"
