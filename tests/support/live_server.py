"""A real `boocode serve` process for tests that speak HTTP and WebSocket to it.

    server = LiveServer.start(tmp_dir, env={"BOOCODE_DEMO_DELAY_S": "0.02"})
    with server.client() as http:
        chat = http.post("/api/chats").json()
    async with server.ws(chat["id"]) as ws:
        snapshot = await next_frame(ws)
    server.stop()

Each server is a subprocess (DBOS is one per process), with its own data dir, workspace and a
fixed token. Two session-scoped fixtures are defined here; a test package uses them by importing
them into its conftest.py (`from support.live_server import live_server, fake_live_server`):

- `live_server`: the offline demo model (a turn takes about a second);
- `fake_live_server`: the scripted fake model (`fake_model_server.script([...])` before a turn).

`fake_server_each_engine` (module-scoped) is `fake_live_server` on SQLite, then a server with the
fake model on PostgreSQL, for API tests that must pass on both engines.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from support.fake_model import FakeModelServer
from support.postgres import fresh_database
from support.processes import execute_database, processes_with

TOKEN = "test-token-0123456789"
_STARTUP_TIMEOUT_S = 40.0
# A demo turn then takes about a second: streamed visibly, yet quick enough for a fast suite.
DEMO_DELAY_S = "0.01"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_workspace(root: Path) -> Path:
    workspace = root / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "README.md").write_text("# Sample project\nA tiny project for tests.\n")
    (workspace / "app.py").write_text("print('hello')\n")
    return workspace


@dataclass
class LiveServer:
    url: str
    token: str
    data_dir: Path
    workspace: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def start(
        cls,
        root: Path,
        *,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        command: str = "serve",
        token: str | None = TOKEN,
        wait: bool = True,
    ) -> LiveServer:
        """Run `boocode <command>` on a free loopback port with a fresh data dir under `root`."""
        root.mkdir(parents=True, exist_ok=True)
        port = free_port()
        data_dir = root / "data"
        workspace = make_workspace(root)
        full_env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("BOOCODE_") and key != "DEEPSEEK_API_KEY"
        }
        full_env.update(
            BOOCODE_DATA_DIR=str(data_dir),
            BOOCODE_WORKSPACE=str(workspace),
            BOOCODE_HOST="127.0.0.1",
            BOOCODE_PORT=str(port),
            PYTHONUNBUFFERED="1",
        )
        if token is not None:
            full_env["BOOCODE_TOKEN"] = token
        full_env.update(env or {})
        log_path = root / f"{command}-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "boocode.cli", command, *(args or [])],
                env=full_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=workspace,
            )
        server = cls(
            url=f"http://127.0.0.1:{port}",
            token=token or "",
            data_dir=data_dir,
            workspace=workspace,
            process=process,
            log_path=log_path,
            env=full_env,
        )
        if wait:
            server.wait_ready()
        return server

    def wait_ready(self) -> None:
        deadline = time.monotonic() + _STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"boocode exited with {self.process.returncode}:\n{self.log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"boocode did not answer /healthz in time:\n{self.log}")

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def ws_url(self) -> str:
        return "ws" + self.url[len("http") :]

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def client(self, **kwargs: Any) -> httpx.Client:
        """An HTTP client that sends the access token."""
        return httpx.Client(base_url=self.url, headers=self.headers(), timeout=10, **kwargs)

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers=self.headers(), timeout=10, **kwargs)

    def ws(
        self,
        chat_id: str,
        after_seq: int | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> websockets.asyncio.client.connect:
        """`async with server.ws(chat_id) as ws:` — the chat's WebSocket, token in the header."""
        query = "" if after_seq is None else f"?after_seq={after_seq}"
        return websockets.connect(
            f"{self.ws_url}/ws/chats/{chat_id}{query}",
            additional_headers=self.headers() if headers is None else headers,
            max_size=None,
            max_queue=None,  # a test reads at its own pace; never stall the close handshake
        )

    def new_chat(self) -> dict[str, Any]:
        with self.client() as http:
            response = http.post("/api/chats")
            response.raise_for_status()
            return dict(response.json())

    def query(self, sql: str, *params: Any, dbos: bool = False) -> list[tuple[Any, ...]]:
        """Rows read straight from the server's database; `dbos`: from DBOS's own tables (a
        sibling SQLite file, or the `dbos` schema on PostgreSQL). Parameters are `?`."""
        url = self.env.get("BOOCODE_DATABASE_URL")
        if url:
            import psycopg

            with psycopg.connect(url) as conn:
                if dbos:
                    conn.execute("SET search_path TO dbos")
                return conn.execute(sql.replace("?", "%s"), params).fetchall()  # type: ignore[arg-type]
        conn = sqlite3.connect(self.data_dir / ("dbos.sqlite" if dbos else "boocode.sqlite"))
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def execute(self, sql: str, *params: Any) -> None:
        """Change the server's database behind its back (what a crash leaves, a fault), in one
        commit. Parameters are `?`."""
        execute_database(self.env, sql, *params)

    def children(self, marker: str) -> list[int]:
        """The server's live child processes whose command line contains `marker`."""
        return [pid for pid in processes_with(marker) if _parent_of(pid) == self.process.pid]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        return None


async def next_frame(ws: ClientConnection, timeout: float = 15.0) -> dict[str, Any]:
    """The next frame, parsed; fails the test instead of hanging."""
    raw = await asyncio.wait_for(ws.recv(), timeout)
    return dict(json.loads(raw))


async def frames_until(
    ws: ClientConnection,
    stop: Callable[[dict[str, Any]], bool],
    timeout: float = 30.0,
) -> list[dict[str, Any]]:
    """Frames up to and including the first for which `stop(frame)` is true."""
    frames: list[dict[str, Any]] = []

    async def collect() -> None:
        while True:
            frame = json.loads(await ws.recv())
            frames.append(frame)
            if stop(frame):
                return

    await asyncio.wait_for(collect(), timeout)
    return frames


def turn_ended(frame: dict[str, Any]) -> bool:
    return frame.get("type") == "turn_end"


def fake_model_env(fake_model_server: FakeModelServer) -> dict[str, str]:
    """What points a `boocode serve` at the scripted fake model."""
    return {
        "BOOCODE_BASE_URL": fake_model_server.base_url,
        "BOOCODE_API_KEY": fake_model_server.api_key,
        "BOOCODE_MODEL": "fake-model",
    }


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`boocode serve` on SQLite with the offline demo model."""
    server = LiveServer.start(
        tmp_path_factory.mktemp("live-demo"), env={"BOOCODE_DEMO_DELAY_S": DEMO_DELAY_S}
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_live_server(
    tmp_path_factory: pytest.TempPathFactory, fake_model_server: FakeModelServer
) -> Iterator[LiveServer]:
    """`boocode serve` on SQLite, its model the scripted fake model server."""
    server = LiveServer.start(
        tmp_path_factory.mktemp("live-fake"), env=fake_model_env(fake_model_server)
    )
    yield server
    server.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fake_server_each_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """`boocode serve` with the scripted fake model, on SQLite and then on PostgreSQL."""
    if request.param == "sqlite":
        yield request.getfixturevalue("fake_live_server")
        return
    fake: FakeModelServer = request.getfixturevalue("fake_model_server")
    # A database of its own: runs other tests left on a shared one are not its to recover.
    with fresh_database() as postgres_url:
        server = LiveServer.start(
            tmp_path_factory.mktemp("live-fake-pg"),
            env={**fake_model_env(fake), "BOOCODE_DATABASE_URL": postgres_url},
        )
        yield server
        server.stop()
