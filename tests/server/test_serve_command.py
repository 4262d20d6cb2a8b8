"""`boocode serve` at start-up: the port, the announcement, and binding beyond loopback."""

from __future__ import annotations

import re
import secrets
import socket
import time
from pathlib import Path

import httpx
import pytest

from support.live_server import LiveServer
from support.processes import boocode_env, run_boocode

STRONG_TOKEN = secrets.token_urlsafe(32)


def test_a_busy_port_is_refused_before_anything_is_announced(
    tmp_path: Path, workspace: Path
) -> None:
    with socket.socket() as other_server:
        other_server.bind(("127.0.0.1", 0))
        other_server.listen()
        port = other_server.getsockname()[1]

        result = run_boocode(
            "serve", "--port", str(port), env=boocode_env(tmp_path / "data", workspace)
        )

    assert result.returncode == 2
    assert result.stderr == (
        f"boocode serve: cannot listen on 127.0.0.1:{port}: the address is already in use "
        "(another server?); choose another with --port\n"
    )
    assert result.stdout == ""


def test_the_url_is_printed_once_the_server_answers(tmp_path: Path) -> None:
    server = LiveServer.start(tmp_path, wait=False)
    try:
        deadline = time.monotonic() + 40
        while "BooCode is running" not in server.log:
            assert server.process.poll() is None, server.log
            assert time.monotonic() < deadline, server.log
            time.sleep(0.02)
        url = re.search(r"Open (\S+)", server.log)

        # One try, no retry: the announcement comes after the socket accepts.
        answer = httpx.get(f"{server.url}/healthz", timeout=10)

        assert answer.status_code == 200
        assert url and url.group(1) == f"{server.url}/?token={server.token}"
        assert server.log.count("BooCode is running") == 1
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "BOOCODE_TOKEN is not set"),
        ("x", "BOOCODE_TOKEN has 1 character, fewer than 32"),
        ("ab" * 20, "BOOCODE_TOKEN is too predictable"),
    ],
)
def test_binding_beyond_loopback_needs_a_strong_token(
    tmp_path: Path, workspace: Path, token: str | None, reason: str
) -> None:
    env = boocode_env(tmp_path / "data", workspace)
    env.pop("BOOCODE_TOKEN", None)
    if token is not None:
        env["BOOCODE_TOKEN"] = token

    result = run_boocode("serve", "--host", "0.0.0.0", "--port", "0", env=env)

    assert result.returncode == 2
    assert result.stderr.startswith(f"boocode serve: refusing to bind 0.0.0.0: {reason}")
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "data" / "token").exists()


def test_a_strong_token_may_bind_every_address(tmp_path: Path) -> None:
    server = LiveServer.start(tmp_path, args=["--host", "0.0.0.0"], token=STRONG_TOKEN)
    try:
        with server.client() as http:
            assert http.get("/api/chats").status_code == 200
        assert f"Open {server.url}/?token={STRONG_TOKEN}" in server.log
    finally:
        server.stop()
