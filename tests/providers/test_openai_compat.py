import asyncio
import json
import pickle
import socket
import time
from typing import Any

import pytest

from boocode.providers import ModelResponse, OpenAICompatModel, ProviderError, ToolCall, Usage
from support.fake_model import FAKE_MODEL_NAME, FakeModelServer, Reply

USER = [{"role": "user", "content": "hi"}]
WRITE_FILE_TOOL = {
    "type": "function",
    "function": {
        "name": "write_file",
        "description": "Write a file.",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
            "required": ["path", "content"],
        },
    },
}


class DeltaRecorder:
    def __init__(self) -> None:
        self.deltas: list[tuple[str, str]] = []

    async def __call__(self, kind: str, text: str) -> None:
        self.deltas.append((kind, text))

    def joined(self, kind: str) -> str:
        return "".join(text for delta_kind, text in self.deltas if delta_kind == kind)


async def test_streamed_text_arrives_as_ordered_deltas(
    fake_model: FakeModelServer, model: OpenAICompatModel
) -> None:
    fake_model.script([Reply.text("The quick brown fox jumps.")])
    recorder = DeltaRecorder()

    response = await model.complete(USER, [], recorder)

    assert recorder.deltas == [
        ("text", "The "),
        ("text", "quick "),
        ("text", "brown "),
        ("text", "fox "),
        ("text", "jumps."),
    ]
    assert response.content == "The quick brown fox jumps."
    assert response.finish_reason == "stop"
    assert response.model == FAKE_MODEL_NAME
    assert response.to_message() == {"role": "assistant", "content": "The quick brown fox jumps."}


async def test_reasoning_is_kept_apart_from_the_answer(
    fake_model: FakeModelServer, model: OpenAICompatModel
) -> None:
    fake_model.script([Reply.text("Use a set.", reasoning="Dedupe means set semantics.")])
    recorder = DeltaRecorder()

    response = await model.complete(USER, [], recorder)

    assert response.reasoning == "Dedupe means set semantics."
    assert response.content == "Use a set."
    assert recorder.joined("reasoning") == response.reasoning
    assert recorder.joined("text") == response.content
    assert [kind for kind, _ in recorder.deltas] == ["reasoning"] * 4 + ["text"] * 3
    assert "reasoning_content" not in response.to_message()
    assert response.to_message(include_reasoning=True)["reasoning_content"] == response.reasoning


async def test_events_of_unexpected_shapes_are_skipped(
    fake_model: FakeModelServer, model: OpenAICompatModel
) -> None:
    fake_model.script([Reply.odd("Only this answer counts.")])
    recorder = DeltaRecorder()

    response = await model.complete(USER, [], recorder)

    assert response.content == "Only this answer counts."
    assert recorder.joined("text") == response.content
    assert recorder.joined("reasoning") == ""
    assert response.tool_calls == []
    assert response.finish_reason == "stop"
    assert response.usage.prompt_tokens > 0


async def test_two_tool_calls_are_assembled_from_split_argument_chunks(
    fake_model: FakeModelServer, model: OpenAICompatModel
) -> None:
    write = {"path": "hello.py", "content": "print('hello')\n"}
    fake_model.script(
        [
            Reply.tool_calls(
                [("write_file", write, "call_a"), ("write_file", {"path": "b.txt", "content": ""})],
                text="Writing two files.",
            )
        ]
    )

    response = await model.complete(USER, [WRITE_FILE_TOOL])

    assert response.tool_calls == [
        ToolCall(id="call_a", name="write_file", arguments=json.dumps(write)),
        ToolCall(id="call_1_1", name="write_file", arguments='{"path": "b.txt", "content": ""}'),
    ]
    assert response.finish_reason == "tool_calls"
    assert response.to_message() == {
        "role": "assistant",
        "content": "Writing two files.",
        "tool_calls": [
            {
                "id": "call_a",
                "type": "function",
                "function": {"name": "write_file", "arguments": json.dumps(write)},
            },
            {
                "id": "call_1_1",
                "type": "function",
                "function": {"name": "write_file", "arguments": '{"path": "b.txt", "content": ""}'},
            },
        ],
    }
    assert fake_model.requests[0]["tools"] == [WRITE_FILE_TOOL]
    assert ModelResponse.model_validate_json(response.model_dump_json()) == response


async def test_messages_are_sent_unchanged_and_tools_only_when_given(
    fake_model: FakeModelServer, model: OpenAICompatModel
) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are BooCode."},
        {"role": "user", "content": [{"type": "text", "text": "héllo"}]},
        {
            "content": "",
            "role": "assistant",
            "tool_calls": [
                {
                    "type": "function",
                    "id": "call_1",
                    "function": {"arguments": '{"path": "."}', "name": "list_files"},
                }
            ],
        },
        {"tool_call_id": "call_1", "role": "tool", "content": "a.py\nb.py"},
    ]

    await model.complete(messages, [])

    sent = fake_model.requests[0]
    assert sent["messages"] == messages
    assert [list(message) for message in sent["messages"]] == [list(m) for m in messages]
    assert "tools" not in sent
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert (
        json.dumps(messages, separators=(",", ":"), ensure_ascii=False).encode()
        in (fake_model.raw_requests[0])
    )


async def test_streamed_deepseek_usage_is_normalised(
    fake_model: FakeModelServer, model: OpenAICompatModel
) -> None:
    usage = {
        "prompt_tokens": 900,
        "completion_tokens": 40,
        "total_tokens": 940,
        "prompt_cache_hit_tokens": 768,
        "prompt_cache_miss_tokens": 132,
        "completion_tokens_details": {"reasoning_tokens": 25},
    }
    fake_model.script([Reply.text("ok", reasoning="hmm", usage=usage)])

    response = await model.complete(USER, [])

    assert response.usage == Usage(
        prompt_tokens=900,
        completion_tokens=40,
        cache_hit_tokens=768,
        cache_miss_tokens=132,
        reasoning_tokens=25,
    )


async def test_non_streaming_mode_returns_the_same_response(fake_model: FakeModelServer) -> None:
    fake_model.script(
        [Reply.tool_calls([("write_file", {"path": "x", "content": "y"})], reasoning="plan")]
    )
    model = OpenAICompatModel(fake_model.base_url, fake_model.api_key, "m", stream=False)
    recorder = DeltaRecorder()

    response = await model.complete(USER, [WRITE_FILE_TOOL], recorder)
    await model.aclose()

    assert fake_model.requests[0]["stream"] is False
    assert response.reasoning == "plan"
    assert response.tool_calls == [
        ToolCall(id="call_1_0", name="write_file", arguments='{"path": "x", "content": "y"}')
    ]
    assert response.usage.prompt_tokens > 0
    assert recorder.deltas == [("reasoning", "plan")]


async def test_a_turn_cancelled_mid_stream_stops_at_once(
    fake_model: FakeModelServer, model: OpenAICompatModel
) -> None:
    fake_model.script([Reply.text("one two three", chunk_delay_s=5)])
    recorder = DeltaRecorder()
    task = asyncio.create_task(model.complete(USER, [], recorder))
    while not fake_model.requests:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=1)
    assert recorder.deltas == []


async def test_a_server_error_is_retried(
    fake_model: FakeModelServer, model: OpenAICompatModel
) -> None:
    fake_model.script([Reply.error(500, "overloaded"), Reply.text("recovered")])

    response = await model.complete(USER, [])

    assert response.content == "recovered"
    assert len(fake_model.requests) == 2


async def test_a_server_error_that_persists_is_a_server_error(fake_model: FakeModelServer) -> None:
    fake_model.script([Reply.error(503, "down for maintenance")])
    model = OpenAICompatModel(fake_model.base_url, fake_model.api_key, "m", max_retries=0)

    with pytest.raises(ProviderError) as caught:
        await model.complete(USER, [])
    await model.aclose()

    assert caught.value.kind == "server"
    assert caught.value.status_code == 503
    assert str(caught.value) == (
        f"The model endpoint {fake_model.base_url} failed (503): down for maintenance"
    )


async def test_rate_limit_after_retries_is_a_rate_limit_error(
    fake_model: FakeModelServer, model: OpenAICompatModel
) -> None:
    fake_model.script([Reply.error(429, "slow down")] * 3)

    with pytest.raises(ProviderError) as caught:
        await model.complete(USER, [])

    assert caught.value.kind == "rate_limit"
    assert "slow down" in str(caught.value)
    assert len(fake_model.requests) == 3


async def test_a_wrong_api_key_is_an_auth_error_with_a_clear_message(
    fake_model: FakeModelServer,
) -> None:
    model = OpenAICompatModel(fake_model.base_url, "wrong-key", "m")

    with pytest.raises(ProviderError) as caught:
        await model.complete(USER, [])
    await model.aclose()

    assert caught.value.kind == "auth"
    assert str(caught.value) == (
        f"The model endpoint {fake_model.base_url} rejected the API key (401). "
        "Check BOOCODE_API_KEY (or DEEPSEEK_API_KEY)."
    )
    assert len(fake_model.requests) == 1


async def test_a_rejected_request_quotes_the_endpoint(
    fake_model: FakeModelServer, model: OpenAICompatModel
) -> None:
    fake_model.script([Reply.error(400, "Model Not Exist")])

    with pytest.raises(ProviderError) as caught:
        await model.complete(USER, [])

    assert caught.value.kind == "bad_request"
    assert str(caught.value) == (
        f"The model endpoint {fake_model.base_url} rejected the request for model "
        "'fake-model' (400): Model Not Exist"
    )


async def test_an_unreachable_endpoint_fails_fast() -> None:
    endpoint = f"http://127.0.0.1:{_unused_port()}/v1"
    model = OpenAICompatModel(endpoint, "key", "m", max_retries=0, timeout_s=2)
    started = time.monotonic()

    with pytest.raises(ProviderError) as caught:
        await model.complete(USER, [])
    await model.aclose()

    assert caught.value.kind == "unreachable"
    assert str(caught.value) == (f"Cannot reach the model endpoint {endpoint}: connection refused.")
    assert time.monotonic() - started < 2


async def test_a_slow_endpoint_times_out(fake_model: FakeModelServer) -> None:
    fake_model.script([Reply.text("too late", delay_s=2)])
    model = OpenAICompatModel(
        fake_model.base_url, fake_model.api_key, "m", max_retries=0, timeout_s=0.2
    )

    with pytest.raises(ProviderError) as caught:
        await model.complete(USER, [])
    await model.aclose()

    assert caught.value.kind == "timeout"
    assert str(caught.value) == f"The model endpoint {fake_model.base_url} did not answer in time."


def test_provider_errors_survive_pickling() -> None:
    error = ProviderError("rate_limit", "slow down", 429)

    copy = pickle.loads(pickle.dumps(error))

    assert (copy.kind, str(copy), copy.status_code) == ("rate_limit", "slow down", 429)


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
