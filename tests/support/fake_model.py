"""A scripted OpenAI-compatible chat endpoint, served over real HTTP on 127.0.0.1.

    with FakeModelServer() as server:
        server.script([Reply.tool_calls([("list_files", {"path": "."})]), Reply.text("done")])
        model = OpenAICompatModel(server.base_url, server.api_key, "fake-model")
        ...
        assert server.requests[0]["messages"] == expected

Replies are taken from the script in order; when it is empty, `server.responder(request)` is
asked if set, else a default text reply is sent. Every request body is recorded, parsed in
`requests` and byte for byte in `raw_requests`. Streaming replies use DeepSeek's chunk shapes:
`reasoning_content` deltas, tool-call arguments split over several chunks, usage with
`prompt_cache_hit_tokens` / `prompt_cache_miss_tokens` in the final chunk, then `[DONE]`.

It has a prefix cache, as DeepSeek's and OpenAI's: each request's prompt is laid out as a
provider does (the system message, the tool schemas, then the other messages, each as compact
JSON; kept in `prompts`), and the longest byte-identical prefix it shares with any earlier
prompt is reported as `prompt_cache_hit_tokens` (4 bytes a token, like `prompt_tokens`).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

DEFAULT_TEXT = "(fake model: script exhausted)"
FAKE_MODEL_NAME = "fake-model"
_CREATED = 1_700_000_000
_STARTUP_TIMEOUT_S = 10.0

ToolCallSpec = tuple[str, dict[str, Any] | str] | tuple[str, dict[str, Any] | str, str]


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Build it with `Reply.text`, `Reply.tool_calls` or `Reply.error`."""

    content: str = ""
    reasoning: str | None = None
    calls: tuple[ToolCallSpec, ...] = ()
    usage: dict[str, Any] | None = None
    status: int = 200
    error_message: str = ""
    retry_after_s: float | None = None
    delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    # A broken stream: "cut" ends without a finish reason, "stall" sends only keep-alives for
    # `delay_s`-independent `stall_s` seconds, "malformed" sends an event that is not JSON,
    # "odd" mixes in events of unexpected shapes (nulls, wrong types, other choices).
    fault: str | None = None
    stall_s: float = 0.0

    @classmethod
    def cut(cls, content: str) -> Reply:
        """Streams `content`, then ends the stream without a finish reason or usage."""
        return cls(content=content, fault="cut")

    @classmethod
    def stalled(cls, seconds: float, content: str = "") -> Reply:
        """Streams `content`, then only keep-alives (comments and empty deltas) for `seconds`."""
        return cls(content=content, fault="stall", stall_s=seconds)

    @classmethod
    def odd(cls, content: str) -> Reply:
        """Streams `content` with events of unexpected shapes between its chunks."""
        return cls(content=content, fault="odd")

    @classmethod
    def malformed(cls) -> Reply:
        """A stream whose first event is not JSON."""
        return cls(fault="malformed")

    @classmethod
    def text(
        cls,
        content: str,
        *,
        reasoning: str | None = None,
        usage: dict[str, Any] | None = None,
        delay_s: float = 0.0,
        chunk_delay_s: float = 0.0,
    ) -> Reply:
        """A text answer; `usage` (any OpenAI/DeepSeek usage dict) replaces the computed one."""
        return cls(
            content=content,
            reasoning=reasoning,
            usage=usage,
            delay_s=delay_s,
            chunk_delay_s=chunk_delay_s,
        )

    @classmethod
    def tool_calls(
        cls,
        calls: Iterable[ToolCallSpec],
        *,
        text: str = "",
        reasoning: str | None = None,
        usage: dict[str, Any] | None = None,
        delay_s: float = 0.0,
        chunk_delay_s: float = 0.0,
    ) -> Reply:
        """Tool calls as `(name, arguments)` or `(name, arguments, id)`.

        Arguments given as a dict are JSON-encoded; a str is sent as is (to test bad JSON).
        """
        return cls(
            content=text,
            reasoning=reasoning,
            calls=tuple(calls),
            usage=usage,
            delay_s=delay_s,
            chunk_delay_s=chunk_delay_s,
        )

    @classmethod
    def error(
        cls,
        status: int = 500,
        message: str = "fake model: scripted error",
        *,
        retry_after_s: float | None = 0.01,
        delay_s: float = 0.0,
    ) -> Reply:
        """An OpenAI-style error body with this HTTP status.

        `retry_after_s` is sent as `retry-after-ms`, which the SDK honours, so retried errors
        keep tests fast; None leaves the SDK to its own backoff.
        """
        return cls(
            status=status, error_message=message, retry_after_s=retry_after_s, delay_s=delay_s
        )


class FakeModelServer:
    """Serves `/v1/chat/completions` from a uvicorn thread; thread-safe; a context manager."""

    def __init__(self, *, api_key: str = "test-key", record: bool = True) -> None:
        self.api_key = api_key
        # A long benchmark turns this off: every body kept would grow without bound.
        self.record = record
        self._received = 0
        self.responder: Callable[[dict[str, Any]], Reply] | None = None
        self.port = 0
        self._lock = threading.Lock()
        self._script: deque[Reply] = deque()
        self._requests: list[Any] = []
        self._raw_requests: list[bytes] = []
        self._prompts: list[bytes] = []
        self._closing = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat_completions, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[Any]:
        """Parsed JSON bodies of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def raw_requests(self) -> list[bytes]:
        with self._lock:
            return list(self._raw_requests)

    @property
    def prompts(self) -> list[bytes]:
        """Each request's prompt as the prefix cache sees it, oldest first."""
        with self._lock:
            return list(self._prompts)

    def script(self, replies: Iterable[Reply]) -> None:
        """Replace the queue of replies."""
        with self._lock:
            self._script = deque(replies)

    def reset(self) -> None:
        """Forget the script, the responder and the recorded requests."""
        with self._lock:
            self._script.clear()
            self._requests.clear()
            self._raw_requests.clear()
            self._prompts.clear()
            self._received = 0
            self.responder = None

    def start(self) -> FakeModelServer:
        # IPPROTO_TCP named, so asyncio turns Nagle's algorithm off on every connection (it
        # checks the protocol): with it on, each reply's body waited 40 ms for the client's
        # delayed ACK of its headers.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, lifespan="off", log_level="warning", access_log=False, loop="asyncio"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"fake-model-{self.port}"
        )
        thread.daemon = True
        self._closing.clear()
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + _STARTUP_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake model server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._closing.set()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FakeModelServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def _models(self, request: Request) -> Response:
        model = {"id": FAKE_MODEL_NAME, "object": "model", "created": _CREATED, "owned_by": "fake"}
        return JSONResponse({"object": "list", "data": [model]})

    async def _chat_completions(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        with self._lock:
            if self.record:
                self._raw_requests.append(raw)
                self._requests.append(body)
            self._received += 1
            number = self._received
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error_response(
                Reply.error(401, "Incorrect API key provided.", retry_after_s=None),
                code="invalid_api_key",
            )
        if not isinstance(body, dict):
            return _error_response(Reply.error(400, "The request body is not a JSON object."))
        prompt = self._cached_prompt(body)
        reply = self._next_reply(body)
        await self._sleep(reply.delay_s)
        if reply.status != 200:
            return _error_response(reply)
        if body.get("stream"):
            chunks = self._stream(_chunks(reply, body, number, prompt), reply)
            return StreamingResponse(chunks, media_type="text/event-stream")
        return JSONResponse(_completion(reply, body, number, prompt))

    def _cached_prompt(self, body: dict[str, Any]) -> _Prompt:
        text = render_prompt(body)
        with self._lock:
            earlier = list(self._prompts)
            self._prompts.append(text)
        hit = max((common_prefix_length(text, old) for old in earlier), default=0)
        return _Prompt(size=len(text), cached=hit)

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            scripted = self._script.popleft() if self._script else None
            responder = self.responder
        if scripted is not None:
            return scripted
        if responder is not None:
            return responder(body)
        return Reply.text(DEFAULT_TEXT)

    async def _stream(self, chunks: list[dict[str, Any]], reply: Reply) -> AsyncIterator[str]:
        if reply.fault == "malformed":
            yield "data: {this is not json\n\n"
            return
        if reply.fault in ("cut", "stall"):
            # Everything but the finish chunk and the usage chunk.
            chunks = chunks[:-2]
        for index, chunk in enumerate(chunks):
            if index:
                await self._sleep(reply.chunk_delay_s)
            if reply.fault == "odd":
                for odd in _odd_events(chunk):
                    yield f"data: {json.dumps(odd)}\n\n"
            yield f"data: {json.dumps(chunk)}\n\n"
        if reply.fault == "stall":
            deadline = time.monotonic() + reply.stall_s
            keep_alive = {**chunks[0], "choices": [{**chunks[0]["choices"][0], "delta": {}}]}
            while time.monotonic() < deadline and not self._closing.is_set():
                yield ": keep-alive\n\n"
                yield f"data: {json.dumps(keep_alive)}\n\n"
                await self._sleep(0.1)
            return
        yield "data: [DONE]\n\n"

    async def _sleep(self, seconds: float) -> None:
        # In small steps, so stopping the server never waits on a long scripted delay.
        deadline = time.monotonic() + seconds
        while not self._closing.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining, 0.05))


@dataclass(frozen=True)
class _Prompt:
    size: int
    cached: int


def render_prompt(body: dict[str, Any]) -> bytes:
    """The prompt as a provider lays it out: system message, tool schemas, other messages."""
    messages = body.get("messages") or []
    head = messages[:1] if messages and messages[0].get("role") == "system" else []
    parts = [*head, body.get("tools") or [], *messages[len(head) :]]
    return "".join(
        json.dumps(part, ensure_ascii=False, separators=(",", ":")) for part in parts
    ).encode()


def common_prefix_length(a: bytes, b: bytes) -> int:
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _error_response(reply: Reply, *, code: str | None = None) -> JSONResponse:
    kind = "server_error" if reply.status >= 500 else "invalid_request_error"
    error = {"message": reply.error_message, "type": kind, "param": None, "code": code}
    headers = {}
    if reply.retry_after_s is not None:
        headers["retry-after-ms"] = str(int(reply.retry_after_s * 1000) or 1)
    return JSONResponse({"error": error}, status_code=reply.status, headers=headers)


def _tool_calls(reply: Reply, number: int) -> list[dict[str, Any]]:
    calls = []
    for index, spec in enumerate(reply.calls):
        name, arguments = spec[0], spec[1]
        call_id = spec[2] if len(spec) == 3 else f"call_{number}_{index}"
        text = arguments if isinstance(arguments, str) else json.dumps(arguments)
        calls.append(
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": text}}
        )
    return calls


def _usage(reply: Reply, request: _Prompt, calls: list[dict[str, Any]]) -> dict[str, Any]:
    if reply.usage is not None:
        return reply.usage
    prompt = request.size // 4
    cached = request.cached // 4
    reasoning = len(reply.reasoning or "") // 4
    arguments = "".join(call["function"]["arguments"] for call in calls)
    completion = (len(reply.content) + len(arguments)) // 4 + reasoning
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_cache_hit_tokens": cached,
        "prompt_cache_miss_tokens": prompt - cached,
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }


def _finish_reason(reply: Reply) -> str:
    return "tool_calls" if reply.calls else "stop"


def _envelope(body: dict[str, Any], number: int, kind: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-fake-{number}",
        "object": kind,
        "created": _CREATED,
        "model": body.get("model") or FAKE_MODEL_NAME,
        "system_fingerprint": "fp_fake",
    }


def _completion(
    reply: Reply, body: dict[str, Any], number: int, request: _Prompt
) -> dict[str, Any]:
    calls = _tool_calls(reply, number)
    message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
    if reply.reasoning is not None:
        message["reasoning_content"] = reply.reasoning
    if calls:
        message["tool_calls"] = calls
    finish_reason = _finish_reason(reply)
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
    return {
        **_envelope(body, number, "chat.completion"),
        "choices": [choice],
        "usage": _usage(reply, request, calls),
    }


def _chunks(
    reply: Reply, body: dict[str, Any], number: int, request: _Prompt
) -> list[dict[str, Any]]:
    envelope = _envelope(body, number, "chat.completion.chunk")

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return {**envelope, "choices": [choice]}

    calls = _tool_calls(reply, number)
    chunks = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"reasoning_content": piece}) for piece in _words(reply.reasoning or "")]
    chunks += [chunk({"content": piece}) for piece in _words(reply.content)]
    for index, call in enumerate(calls):
        function = call["function"]
        head = {"index": index, "id": call["id"], "type": "function"}
        chunks.append(chunk({"tool_calls": [{**head, "function": {"name": function["name"]}}]}))
        chunks += [
            chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            for piece in _thirds(function["arguments"])
        ]
    chunks.append(chunk({}, _finish_reason(reply)))
    chunks.append({**envelope, "choices": [], "usage": _usage(reply, request, calls)})
    return chunks


def _odd_events(chunk: dict[str, Any]) -> list[Any]:
    """Events a sloppy endpoint might send; none of them carries text, a call or a finish."""
    envelope = {key: value for key, value in chunk.items() if key != "choices"}
    choice = {"index": 0, "logprobs": None, "finish_reason": None}
    return [
        [],
        "a string",
        {**envelope, "choices": None, "usage": None},
        {**envelope, "choices": "not a list", "model": 7},
        {**envelope, "choices": [None, 3, {**choice, "delta": None}]},
        {**envelope, "choices": [{**choice, "delta": {"content": None, "tool_calls": None}}]},
        {**envelope, "choices": [{**choice, "delta": {"content": 5, "tool_calls": [None, 1]}}]},
        {**envelope, "choices": [{**choice, "index": 1, "delta": {"content": "other choice"}}]},
        {**envelope, "choices": [{**choice, "delta": {"reasoning_content": ["not", "text"]}}]},
    ]


def _words(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)


def _thirds(text: str) -> list[str]:
    size = max(len(text) // 3, 1)
    return [text[start : start + size] for start in range(0, len(text), size)]
