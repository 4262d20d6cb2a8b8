"""The FastAPI app: the engine's lifespan, access control, the API routers, the web client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match, Mount
from starlette.types import Scope

from boocode import __version__, engine
from boocode.config import Settings
from boocode.runs.executor import ExecutorLease
from boocode.server.auth import AccessControl, load_token
from boocode.server.errors import install_error_handlers
from boocode.server.openapi import install_openapi
from boocode.server.routes import ROUTERS

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
_API_PREFIXES = ("/api/", "/ws/")


def create_app(
    settings: Settings, *, process_turns: bool = True, lease: ExecutorLease | None = None
) -> FastAPI:
    """The whole server; the engine starts with the app and stops with it.

    `lease` is the executor id `serve` claimed before saying it runs; without one the app
    claims its own when it starts.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = await engine.start(settings, role="serve", process_turns=process_turns, lease=lease)
        app.state.runtime = rt
        try:
            yield
        finally:
            await engine.stop(rt)

    app = FastAPI(
        title="BooCode",
        version=__version__,
        description=(
            "A self-hosted AI coding-agent server. Every `/api` and `/ws` call needs the access "
            "token as `Authorization: Bearer <token>` (or the cookie the web page gets)."
        ),
        lifespan=lifespan,
    )
    install_error_handlers(app)
    install_openapi(app)
    for router in ROUTERS:
        app.include_router(router)
    app.router.routes.append(_WebMount("/", StaticFiles(directory=WEB_DIR, html=True), name="web"))
    app.add_middleware(
        AccessControl,
        token=load_token(settings),
        wrong_token_page=(WEB_DIR / "index.html").read_bytes(),
    )
    app.state.settings = settings
    return app


class _WebMount(Mount):
    """The web client's files, everywhere but the API: an API path with the wrong method
    gets the API's 405, and an unknown one its 404, not the file server's answer."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if str(scope.get("path", "")).startswith(_API_PREFIXES):
            return Match.NONE, {}
        return super().matches(scope)
