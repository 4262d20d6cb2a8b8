"""The scripted model every orchestrator in a comparison talks to, in a process of its own.

    with PeerModel() as model:            # starts `python bench/peer_model.py`
        client = AsyncOpenAI(base_url=model.base_url, api_key=model.api_key)
        before = model.model_time()
        ...                               # a turn whose prompt is `script(steps=3, chars=200)`
        spent_in_model = model.model_time() - before

It is the test suite's fake model (tests/support/fake_model.py), told what to answer by the
request alone, so any number of clients and chats can share it: the last user message carries
`steps=N chars=M delay=S`; while the messages after it hold fewer than N tool results the reply
is one `list_files` call, else a streamed text answer of M characters; every reply waits S
seconds first. Its own process keeps its CPU out of the client's; `GET /bench/model-time` tells
the seconds spent answering (request received to last byte sent), so a client can subtract them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.fake_model import FakeModelServer, Reply

API_KEY = "bench-key"
MODEL = "fake-model"
_SCRIPT = re.compile(r"steps=(\d+) chars=(\d+) delay=([\d.]+)")
_ANSWER = "the quick brown fox jumps over the lazy dog while the model streams its answer "


def script(*, steps: int = 0, chars: int = 20, delay_s: float = 0.0) -> str:
    """The prompt that asks the peer model for `steps` tool calls, then `chars` of text."""
    return f"bench steps={steps} chars={chars} delay={delay_s}"


def answer_text(chars: int) -> str:
    return (_ANSWER * (chars // len(_ANSWER) + 1))[:chars]


def reply_to(body: dict[str, Any]) -> Reply:
    messages = body.get("messages") or []
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    prompt = messages[last_user].get("content") if last_user >= 0 else ""
    if isinstance(prompt, list):
        prompt = " ".join(part.get("text", "") for part in prompt if isinstance(part, dict))
    found = _SCRIPT.search(prompt or "")
    steps, chars, delay = (int(found[1]), int(found[2]), float(found[3])) if found else (0, 20, 0)
    done = sum(1 for m in messages[last_user + 1 :] if m.get("role") == "tool")
    if done < steps:
        return Reply.tool_calls([("list_files", {"path": "."})], delay_s=delay)
    return Reply.text(answer_text(chars), delay_s=delay)


class _TimedApp:
    """ASGI wrapper adding up the time from each request's start to its last byte sent."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seconds = 0.0
        self.calls = 0
        self._lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/bench/model-time":
            with self._lock:
                payload = json.dumps({"seconds": self.seconds, "calls": self.calls}).encode()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": payload})
            return
        started = time.perf_counter()

        async def timed_send(message: dict[str, Any]) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                with self._lock:
                    self.seconds += time.perf_counter() - started
                    self.calls += 1

        await self.app(scope, receive, timed_send)


class PeerModel:
    """Runs this file as a child process; a context manager."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        self.port = 0
        self.api_key = API_KEY
        self._http = httpx.Client(timeout=10)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def model_time(self) -> float:
        """Seconds the model has spent answering so far, over all clients."""
        response = self._http.get(f"http://127.0.0.1:{self.port}/bench/model-time")
        return float(response.json()["seconds"])

    def __enter__(self) -> PeerModel:
        self.process = subprocess.Popen(
            [sys.executable, __file__], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._http.close()
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)


def _serve() -> None:
    server = FakeModelServer(api_key=API_KEY, record=False)
    server.responder = reply_to
    server.app = _TimedApp(server.app)  # type: ignore[assignment]
    server.start()
    print(server.port, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    _serve()
