"""A chat model behind any OpenAI-compatible endpoint: DeepSeek, OpenAI, vLLM, Ollama, ..."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import openai
from openai.types.chat import ChatCompletion

from boocode.providers.errors import ProviderError
from boocode.providers.types import DeltaKind, DeltaSink, ModelResponse, ToolCall
from boocode.providers.usage import Usage

_DETAIL_LIMIT = 200
_COMPLETIONS_PATH = "/chat/completions"


class OpenAICompatModel:
    """Streams chat completions through the `openai` SDK, which also does the retrying.

    The SDK retries 408/409/429/5xx and connection errors `max_retries` times with exponential
    backoff (honouring `Retry-After`); whatever still fails becomes a `ProviderError`.

    The body goes through the client's `post`, below `chat.completions.create`: `create` walks
    the whole history through its typed transform on every call (about 200 ms of CPU at 800
    messages), while the messages are already plain JSON-ready dicts. Streamed chunks are taken
    as the JSON the SDK decoded, not built into typed objects (a dozen per chunk). Client,
    retries, streaming, server-sent events and error types are the SDK's all the same.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        *,
        max_retries: int = 3,
        timeout_s: float = 120,
        idle_timeout_s: float = 120,
        stream: bool = True,
        reasoning_effort: str | None = None,
    ) -> None:
        self.name = model
        self.reasoning_effort = reasoning_effort
        self.is_demo = False
        self.base_url = base_url.rstrip("/")
        self.label = f"{model} via {urlsplit(self.base_url).netloc or self.base_url}"
        self._stream = stream
        self._idle_timeout_s = idle_timeout_s
        self._client = openai.AsyncOpenAI(
            base_url=self.base_url, api_key=api_key, max_retries=max_retries, timeout=timeout_s
        )

    async def complete(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        on_delta: DeltaSink | None = None,
    ) -> ModelResponse:
        try:
            if self._stream:
                return await self._complete_streamed(messages, tools, on_delta)
            return await self._complete_whole(messages, tools, on_delta)
        except openai.APIError as err:
            raise _provider_error(err, self.base_url, self.name) from err
        except ValueError as err:  # a body or an event that is not the JSON it should be
            raise ProviderError(
                "malformed",
                f"The model endpoint {self.base_url} sent a reply that is not valid JSON: "
                f"{_one_line(str(err))}",
            ) from err

    async def aclose(self) -> None:
        await self._client.close()

    async def _complete_streamed(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        on_delta: DeltaSink | None,
    ) -> ModelResponse:
        stream = await self._client.post(
            _COMPLETIONS_PATH,
            body=_request_body(
                self.name, messages, tools, stream=True, effort=self.reasoning_effort
            ),
            cast_to=ChatCompletion,
            stream=True,
            # `object`: each chunk as decoded JSON, untouched.
            stream_cls=openai.AsyncStream[object],
        )
        accumulator = _StreamAccumulator()
        loop = asyncio.get_running_loop()
        chunks = aiter(stream)
        async with stream:
            # Keep-alives are not progress: only text, reasoning or tool calls move this on.
            deadline = loop.time() + self._idle_timeout_s
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        chunk = await anext(chunks)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise ProviderError(
                        "stalled",
                        f"The model endpoint {self.base_url} sent no text or tool call for "
                        f"{self._idle_timeout_s:g} s.",
                    ) from None
                progress = accumulator.progress
                for kind, piece in accumulator.add(chunk):
                    if on_delta is not None:
                        await on_delta(kind, piece)
                if accumulator.progress != progress:
                    deadline = loop.time() + self._idle_timeout_s
        if accumulator.finish_reason is None:
            raise ProviderError(
                "incomplete",
                f"The model endpoint {self.base_url} ended its answer without a finish reason "
                "(the stream was cut).",
            )
        return accumulator.response(default_model=self.name)

    async def _complete_whole(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        on_delta: DeltaSink | None,
    ) -> ModelResponse:
        completion = await self._client.post(
            _COMPLETIONS_PATH,
            body=_request_body(
                self.name, messages, tools, stream=False, effort=self.reasoning_effort
            ),
            cast_to=ChatCompletion,
        )
        response = _response_from_completion(completion, default_model=self.name)
        if on_delta is not None:
            if response.reasoning:
                await on_delta("reasoning", response.reasoning)
            if response.content:
                await on_delta("text", response.content)
        return response


def _request_body(
    model: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    *,
    stream: bool,
    effort: str | None = None,
) -> dict[str, Any]:
    # The messages are passed through untouched so the prompt prefix stays byte-stable.
    body: dict[str, Any] = {"model": model, "messages": messages, "stream": stream}
    if tools:
        body["tools"] = tools
    if effort is not None:
        body["reasoning_effort"] = effort
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


@dataclass
class _PartialToolCall:
    id: str = ""
    name: str = ""
    argument_pieces: list[str] = field(default_factory=list)


class _StreamAccumulator:
    """Assembles streamed chunks: text, reasoning, tool calls by index, usage from the last."""

    def __init__(self) -> None:
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._tool_calls: dict[int, _PartialToolCall] = {}
        self._usage = Usage()
        self.finish_reason: str | None = None
        # Counts the chunks that carried something: an idle stream does not move it.
        self.progress = 0
        self._model = ""

    def add(self, chunk: object) -> list[tuple[DeltaKind, str]]:
        """Take one chunk (decoded JSON) in; return the text and reasoning pieces it carried,
        in order. Fields of the wrong shape are skipped, as the SDK's own objects would."""
        if not isinstance(chunk, dict):
            return []
        if isinstance(model := chunk.get("model"), str) and model:
            self._model = model
        if isinstance(usage := chunk.get("usage"), dict):
            self._usage = Usage.from_openai(usage)
        deltas: list[tuple[DeltaKind, str]] = []
        for choice in _dicts(chunk.get("choices")):
            if choice.get("index", 0) != 0:
                continue
            if isinstance(finish := choice.get("finish_reason"), str) and finish:
                self.finish_reason = finish
                self.progress += 1
            delta = choice.get("delta")
            if not isinstance(delta, dict):
                continue
            content = _text(delta.get("content"))
            calls = _dicts(delta.get("tool_calls"))
            if content or calls:
                self.progress += 1
            reasoning = _reasoning_text(delta)
            if reasoning:
                self.progress += 1
                self._reasoning.append(reasoning)
                deltas.append(("reasoning", reasoning))
            if content:
                self._content.append(content)
                deltas.append(("text", content))
            for call_delta in calls:
                index = call_delta.get("index")
                partial = self._tool_calls.setdefault(
                    index if isinstance(index, int) else 0, _PartialToolCall()
                )
                if call_id := _text(call_delta.get("id")):
                    partial.id = call_id
                function = call_delta.get("function")
                if isinstance(function, dict):
                    if name := _text(function.get("name")):
                        partial.name = name
                    if arguments := _text(function.get("arguments")):
                        partial.argument_pieces.append(arguments)
        return deltas

    def response(self, *, default_model: str) -> ModelResponse:
        tool_calls = [
            ToolCall(
                id=partial.id or f"call_{index}",
                name=partial.name,
                arguments="".join(partial.argument_pieces),
            )
            for index, partial in sorted(self._tool_calls.items())
        ]
        return ModelResponse(
            content="".join(self._content),
            reasoning="".join(self._reasoning),
            tool_calls=tool_calls,
            usage=self._usage,
            finish_reason=self.finish_reason,
            model=self._model or default_model,
        )


def _response_from_completion(completion: ChatCompletion, *, default_model: str) -> ModelResponse:
    usage = Usage.from_openai(completion.usage)
    model = completion.model or default_model
    if not completion.choices:
        return ModelResponse(usage=usage, model=model)
    choice = completion.choices[0]
    message = choice.message
    tool_calls = []
    for call in message.tool_calls or []:
        function = getattr(call, "function", None)
        if function is not None:
            tool_calls.append(
                ToolCall(id=call.id, name=function.name, arguments=function.arguments)
            )
    return ModelResponse(
        content=message.content or "",
        reasoning=_reasoning_text(message),
        tool_calls=tool_calls,
        usage=usage,
        finish_reason=choice.finish_reason,
        model=model,
    )


def _reasoning_text(delta_or_message: object) -> str:
    # DeepSeek and vLLM send `reasoning_content`, OpenRouter `reasoning`; the SDK keeps both as
    # undeclared extra fields of its objects.
    for attribute in ("reasoning_content", "reasoning"):
        if isinstance(delta_or_message, dict):
            value = delta_or_message.get(attribute)
        else:
            value = getattr(delta_or_message, attribute, None)
        if isinstance(value, str) and value:
            return value
    return ""


def _dicts(value: object) -> list[dict[str, Any]]:
    """The objects of a JSON array; anything else is none."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _provider_error(err: openai.APIError, endpoint: str, model: str) -> ProviderError:
    where = f"The model endpoint {endpoint}"
    if isinstance(err, openai.APITimeoutError):
        return ProviderError("timeout", f"{where} did not answer in time.")
    if isinstance(err, openai.APIConnectionError):
        return ProviderError(
            "unreachable", f"Cannot reach the model endpoint {endpoint}: {_connection_reason(err)}."
        )
    if not isinstance(err, openai.APIStatusError):
        return ProviderError("server", f"{where} reported an error: {_detail(err)}")
    status = err.status_code
    detail = _detail(err)
    if status == 401:
        message = (
            f"{where} rejected the API key (401). Check BOOCODE_API_KEY (or DEEPSEEK_API_KEY)."
        )
        return ProviderError("auth", message, status)
    if status == 403:
        return ProviderError("auth", f"{where} refused access (403): {detail}", status)
    if status == 429:
        message = f"{where} is rate-limiting requests (429) and retries did not help: {detail}"
        return ProviderError("rate_limit", message, status)
    if status == 408:
        return ProviderError("timeout", f"{where} timed out the request (408).", status)
    if status >= 500:
        return ProviderError("server", f"{where} failed ({status}): {detail}", status)
    message = f"{where} rejected the request for model {model!r} ({status}): {detail}"
    return ProviderError("bad_request", message, status)


def _detail(err: openai.APIError) -> str:
    body = err.body
    text = err.message
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        text = body["message"]
    elif isinstance(body, str) and body:
        text = body
    return _one_line(text)


def _connection_reason(err: openai.APIConnectionError) -> str:
    chain: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    if any(isinstance(exc, ConnectionRefusedError) for exc in chain):
        return "connection refused"
    if any(isinstance(exc, socket.gaierror) for exc in chain):
        return "host name not found"
    return _one_line(str(chain[-1])) or "connection failed"


def _one_line(text: str) -> str:
    collapsed = " ".join(text.split())
    if len(collapsed) > _DETAIL_LIMIT:
        return collapsed[: _DETAIL_LIMIT - 1] + "…"
    return collapsed
