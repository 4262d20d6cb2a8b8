"""Errors a user can cause, mapped to a 4xx with a clear `{"detail": …}` body."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from boocode.agent import service
from boocode.chats.manage import TurnDidNotStop
from boocode.runs.store import TurnInProgress

log = logging.getLogger(__name__)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(service.ChatNotFound, _not_found)
    app.add_exception_handler(TurnInProgress, _conflict)
    app.add_exception_handler(TurnDidNotStop, _conflict)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(SQLAlchemyError, _storage_failed)
    app.add_exception_handler(Exception, _internal)


async def _not_found(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


async def _conflict(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=409)


async def _storage_failed(_request: Request, exc: Exception) -> JSONResponse:
    log.error("storage error: %s", exc)
    detail = "storage is unavailable; try again shortly (the server log has the cause)"
    return JSONResponse({"detail": detail}, status_code=503)


async def _internal(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error", exc_info=exc)
    return JSONResponse({"detail": "internal error; the server log has the cause"}, status_code=500)


async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_describe(error) for error in exc.errors()]
    return JSONResponse({"detail": "; ".join(problems), "errors": problems}, status_code=422)


def _describe(error: dict[str, object]) -> str:
    """`body.content: String should have at least 1 character` — where, then what."""
    location = [str(part) for part in error.get("loc", ()) if part != "body"]  # type: ignore[attr-defined]
    where = ".".join(location) or "body"
    return f"{where}: {error.get('msg', 'invalid value')}"
