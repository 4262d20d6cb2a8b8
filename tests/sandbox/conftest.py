"""Servers whose commands must run inside bubblewrap, and the attacks' shared helpers."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.browser import browser, page
from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer, fake_model_env, frames_until, turn_ended
from support.processes import run_boocode
from support.sandbox import require_bubblewrap

__all__ = ["browser", "page"]

SENTINEL = "SENTINEL: outside the workspace\n"
# Names a deny-list lets through, and the names it was built for; each value is unique.
SERVER_SECRETS = {
    name: f"leak-{name.lower()}-{secrets.token_hex(6)}"
    for name in (
        "GITHUB_TOKEN",
        "DATABASE_URL",
        "PGPASSWORD",
        "AWS_SECRET_ACCESS_KEY",
        "MY_APIKEY",
        "NPM_CONFIG__AUTH",
        "SSH_AUTH_SOCK",
        "PATH_SECRET",
        "HOME_PASSWORD",
        "LC_SECRET",
        "LANG_TOKEN",
        "TERM_CREDENTIALS",
    )
}


NO_USERNS = (
    "bwrap: No permissions to create a new namespace, likely because the kernel does not "
    "allow non-privileged user namespaces."
)


def broken_bwrap(directory: Path) -> Path:
    """A `bwrap` that fails the way it does on a kernel without unprivileged user namespaces."""
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / "bwrap-without-userns"
    program.write_text(f"#!/bin/sh\necho '{NO_USERNS}' >&2\nexit 1\n")
    program.chmod(0o755)
    return program


@pytest.fixture(scope="session")
def unsandboxed_server(
    tmp_path_factory: pytest.TempPathFactory, fake_model_server: FakeModelServer
) -> Iterator[LiveServer]:
    """`boocode serve` in auto mode on a machine where bubblewrap cannot run."""
    root = tmp_path_factory.mktemp("sandbox-auto")
    program = broken_bwrap(root / "bin")
    server = LiveServer.start(
        root, env={**fake_model_env(fake_model_server), "BOOCODE_SANDBOX_BWRAP": str(program)}
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def confined_server(
    tmp_path_factory: pytest.TempPathFactory, fake_model_server: FakeModelServer
) -> Iterator[LiveServer]:
    """`boocode serve` with `BOOCODE_SANDBOX_MODE=required`, secrets in its environment, and a
    directory `outside/` beside its workspace holding `secret.txt`."""
    require_bubblewrap()
    root = tmp_path_factory.mktemp("sandbox-live")
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SENTINEL)
    server = LiveServer.start(
        root,
        env={
            **fake_model_env(fake_model_server),
            **SERVER_SECRETS,
            "BOOCODE_SANDBOX_MODE": "required",
        },
    )
    yield server
    server.stop()
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == SENTINEL


@pytest.fixture(scope="session")
def required_chat(unsandboxed_server: LiveServer, fake_model_server: FakeModelServer) -> str:
    """A chat of `unsandboxed_server`'s data dir whose workspace's own table says
    `mode = "required"`: started by `boocode run` in that workspace, as a user would."""
    other = unsandboxed_server.workspace.parent / "required-project"
    (other / ".boocode").mkdir(parents=True)
    (other / ".boocode" / "config.toml").write_text('[sandbox]\nmode = "required"\n')
    fake_model_server.reset()
    fake_model_server.script([Reply.text("noted")])
    env = {**unsandboxed_server.env, "BOOCODE_WORKSPACE": str(other)}
    result = run_boocode("run", "hello", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return str(json.loads(result.stdout.splitlines()[0])["chat_id"])


def outside_of(server: LiveServer) -> Path:
    return server.workspace.parent / "outside"


def server_secrets(server: LiveServer) -> list[str]:
    """Every value a command must never see: the planted ones, the token, the model key."""
    return [*SERVER_SECRETS.values(), server.token, server.env["BOOCODE_API_KEY"]]


async def run_turn(
    server: LiveServer, fake_model: FakeModelServer, calls: list[tuple[str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """One turn in a new chat: the model makes `calls` in one step, then answers; returns the
    tool messages in call order, as the REST API stores them."""
    fake_model.reset()
    fake_model.script([Reply.tool_calls(calls), Reply.text("done")])
    chat = server.new_chat()
    async with server.ws(chat["id"]) as ws:
        async with server.async_client() as http:
            response = await http.post(f"/api/chats/{chat['id']}/messages", json={"content": "try"})
            assert response.status_code == 202, response.text
        await frames_until(ws, turn_ended, timeout=90)
    async with server.async_client() as http:
        messages = (await http.get(f"/api/chats/{chat['id']}/messages")).json()
    return [m for m in messages if m["role"] == "tool"]
