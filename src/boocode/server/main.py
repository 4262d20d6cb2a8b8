"""`boocode serve`: check the address, run the app under uvicorn, print the URL once it listens.

The port is bound here, before the app is built, so a busy port is refused with one clear line
and the access URL printed later always leads to this server.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import sys
from collections.abc import Callable

import uvicorn

from boocode.config import Settings
from boocode.sandbox import sandbox_for, start_notice
from boocode.server.auth import load_token, token_weakness

EXIT_REFUSED = 2


def describe_model(settings: Settings) -> str:
    from boocode.agent.runtime import model_for

    model = model_for(settings, settings.workspace)
    if model.is_demo:
        return f"{model.label}; set DEEPSEEK_API_KEY or BOOCODE_API_KEY to use a real model"
    return model.label


def serve(settings: Settings, *, process_turns: bool = True) -> int:
    if not is_loopback(settings.host) and (weakness := token_weakness(settings.token)):
        return _refuse(
            f"refusing to bind {settings.host}: {weakness}. Anyone who can reach this address "
            "could drive the agent: set BOOCODE_TOKEN to a long random secret (for example "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`) and put the "
            "server behind TLS, or bind 127.0.0.1."
        )
    try:
        listener = listening_socket(settings.host, settings.port)
    except OSError as exc:
        return _refuse(f"cannot listen on {settings.host}:{settings.port}: {_bind_error(exc)}")

    from boocode.runs import executor
    from boocode.server.app import create_app

    # Refused here, in one line, before anything says it is running.
    lease = executor.claim(settings, "serve")
    try:
        asyncio.run(_check_storage(settings))
    except BaseException:
        lease.release()
        listener.close()
        raise
    app = create_app(settings, process_turns=process_turns, lease=lease)
    port = int(listener.getsockname()[1])
    server = _AnnouncingServer(
        uvicorn.Config(
            app,
            log_level="warning",
            ws_ping_interval=20,
            ws_ping_timeout=20,
            # Frames are small JSON; compressing each costs more CPU than it saves bytes.
            ws_per_message_deflate=False,
        ),
        announce=lambda: _announce(settings, port, process_turns=process_turns),
    )
    server.run(sockets=[listener])
    return 0


async def _check_storage(settings: Settings) -> None:
    from boocode.db.preflight import open_database

    db = await open_database(settings)
    await db.dispose()


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port, as uvicorn would bind it; raises OSError when it can't."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class _AnnouncingServer(uvicorn.Server):
    """A uvicorn server that says so once the app has started and the socket accepts."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[], None]) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._announce()


def _announce(settings: Settings, port: int, *, process_turns: bool) -> None:
    print(f"BooCode is running. Open {access_url(settings, load_token(settings), port)}")
    print(f"Workspace: {settings.workspace}")
    print(f"Model: {describe_model(settings)}")
    print(start_notice(sandbox_for(settings, settings.workspace)))
    if not process_turns:
        print("API only: turns run in `boocode worker` processes.")
    sys.stdout.flush()


def access_url(settings: Settings, token: str, port: int | None = None) -> str:
    host = settings.host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"  # the wildcard is not an address a browser can open
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port or settings.port}/?token={token}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind_error(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "the address is already in use (another server?); choose another with --port"
    if exc.errno == errno.EACCES:
        return "permission denied (ports below 1024 need privileges); choose another with --port"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    return exc.strerror or str(exc)


def _refuse(reason: str) -> int:
    print(f"boocode serve: {reason}", file=sys.stderr)
    return EXIT_REFUSED
