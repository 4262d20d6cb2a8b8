"""Errors a user can cause, mapped to a 4xx in the one error shape, `ErrorBody`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute

from boocode.agent import service


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(service.ChatNotFound, _not_found)
    app.add_exception_handler(service.TurnInProgress, _conflict)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)


async def _not_found(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


async def _conflict(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=409)


async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_describe(error) for error in exc.errors()]
    return JSONResponse({"detail": "; ".join(problems), "errors": problems}, status_code=422)


async def _http_error(request: Request, exc: Exception) -> Response:
    """A 405 names every method of the path in `Allow`, not only those of the first route."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        methods = allowed_methods(request.app.routes, request.url.path)
        exc = StarletteHTTPException(405, str(exc.detail), headers={"Allow": ", ".join(methods)})
    return await http_exception_handler(request, exc)


def allowed_methods(routes: list[BaseRoute], path: str) -> list[str]:
    methods: set[str] = set()
    for route in routes:
        pattern = getattr(route, "path_regex", None)
        route_methods = getattr(route, "methods", None)
        if pattern is not None and route_methods and pattern.match(path):
            methods |= set(route_methods)
    return sorted(methods)


def _describe(error: dict[str, object]) -> str:
    """`body.content: String should have at least 1 character` — where, then what."""
    location = [str(part) for part in error.get("loc", ()) if part != "body"]  # type: ignore[attr-defined]
    where = ".".join(location) or "body"
    return f"{where}: {error.get('msg', 'invalid value')}"
