"""`boocode serve`: print the access URL, then run the app under uvicorn."""

from __future__ import annotations

import asyncio
import ipaddress
import sys

import uvicorn

from boocode.agent.runtime import model_for
from boocode.config import Settings
from boocode.db.preflight import open_database
from boocode.runs import executor
from boocode.sandbox import sandbox_for, start_notice
from boocode.server.app import create_app
from boocode.server.auth import load_token

EXIT_REFUSED = 2


def describe_model(settings: Settings) -> str:
    model = model_for(settings, settings.workspace)
    if model.is_demo:
        return f"{model.label}; set DEEPSEEK_API_KEY or BOOCODE_API_KEY to use a real model"
    return model.label


def serve(settings: Settings, *, process_turns: bool = True) -> int:
    if not is_loopback(settings.host) and not settings.token:
        print(
            f"boocode: refusing to bind {settings.host} without BOOCODE_TOKEN: anyone who can "
            "reach this address could drive the agent. Set BOOCODE_TOKEN to a long random "
            "secret (and put the server behind TLS), or bind 127.0.0.1.",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    # Refused here, in one line, before anything says it is running.
    lease = executor.claim(settings, "serve")
    try:
        asyncio.run(_check_storage(settings))
    except BaseException:
        lease.release()
        raise
    app = create_app(settings, process_turns=process_turns, lease=lease)
    print(f"BooCode is running. Open {access_url(settings, load_token(settings))}", flush=True)
    print(f"Workspace: {settings.workspace}", flush=True)
    print(f"Model: {describe_model(settings)}", flush=True)
    print(start_notice(sandbox_for(settings, settings.workspace)), flush=True)
    if not process_turns:
        print("API only: turns run in `boocode worker` processes.", flush=True)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        ws_ping_interval=20,
        ws_ping_timeout=20,
    )
    return 0


async def _check_storage(settings: Settings) -> None:
    db = await open_database(settings)
    await db.dispose()


def access_url(settings: Settings, token: str) -> str:
    host = settings.host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"  # the wildcard is not an address a browser can open
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}/?token={token}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
