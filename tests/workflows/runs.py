"""Starting a workflow run over HTTP and waiting for it to end, as the engine tests do."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from support.live_server import LiveServer

ENDED = ("succeeded", "failed", "cancelled")


def start(server: LiveServer, chat_id: str, timeout: float = 10, **body: Any) -> Any:
    """`POST /api/chats/{id}/workflows` with `body`; the response, whatever its status."""
    with server.client() as http:
        return http.post(f"/api/chats/{chat_id}/workflows", json=body, timeout=timeout)


def ended(server: LiveServer, run_id: str, timeout: float = 60) -> dict[str, Any]:
    """The run's detail once it has ended."""
    deadline = time.monotonic() + timeout
    with server.client() as http:
        while time.monotonic() < deadline:
            run = http.get(f"/api/workflow-runs/{run_id}").json()
            if run["status"] in ENDED:
                return dict(run)
            time.sleep(0.1)
    raise AssertionError(f"workflow run {run_id} did not end: {run}")


def messages_when(
    server: LiveServer,
    chat_id: str,
    last_is: Callable[[dict[str, Any]], bool],
    timeout: float = 60,
) -> list[dict[str, Any]]:
    """The chat's messages once its last one is what `last_is` looks for."""
    deadline = time.monotonic() + timeout
    with server.client() as http:
        while True:
            messages: list[dict[str, Any]] = http.get(f"/api/chats/{chat_id}/messages").json()
            if last_is(messages[-1]):
                return messages
            assert time.monotonic() < deadline, messages[-1]
            time.sleep(0.2)
