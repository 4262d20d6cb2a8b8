"""OpenTelemetry export: the same calls as GenAI-convention spans, sent over OTLP when asked."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from boocode.contracts.usage import TokenUsage
from boocode.events.log import EventLog
from boocode.traces.otel import OtlpExport, traces_url
from boocode.traces.recorder import TraceRecorder
from boocode.traces.store import TraceStore
from support.fake_model import FakeModelServer, Reply
from support.processes import boocode_env, run_boocode

from .conftest import add_chat
from .otlp_receiver import OtlpReceiver


async def test_calls_become_genai_spans_in_one_trace_per_run(events: EventLog) -> None:
    memory = InMemorySpanExporter()
    export = OtlpExport(memory)
    recorder = TraceRecorder(TraceStore(events.db, events), export=export)
    chat_id = await add_chat(events.db)
    run = {"chat_id": chat_id, "turn": 1, "session_id": "run-otel"}
    async with recorder.span(kind="llm", name="deepseek-flash", input={}, **run) as llm:  # type: ignore[arg-type]
        llm.usage = TokenUsage(
            prompt_tokens=900, completion_tokens=40, cache_hit_tokens=800, reasoning_tokens=7
        )
    async with recorder.span(kind="tool", name="grep", input={"pattern": "x"}, **run) as tool:  # type: ignore[arg-type]
        tool.outcome, tool.error, tool.output = "error", "bad pattern", "bad pattern"
    await export.turn_end_hook(events.db)(chat_id, 1)
    assert export.force_flush()

    spans = {span.name: span for span in memory.get_finished_spans()}
    assert set(spans) == {"chat deepseek-flash", "execute_tool grep", "invoke_agent boocode"}
    chat, call, agent = (
        spans["chat deepseek-flash"],
        spans["execute_tool grep"],
        spans["invoke_agent boocode"],
    )
    assert chat.attributes is not None and call.attributes is not None
    assert chat.attributes["gen_ai.operation.name"] == "chat"
    assert chat.attributes["gen_ai.request.model"] == "deepseek-flash"
    assert chat.attributes["gen_ai.usage.input_tokens"] == 900
    assert chat.attributes["gen_ai.usage.output_tokens"] == 40
    assert chat.attributes["gen_ai.usage.cache_read.input_tokens"] == 800
    assert call.attributes["gen_ai.operation.name"] == "execute_tool"
    assert call.attributes["gen_ai.tool.name"] == "grep"
    assert call.attributes["error.type"] == "error"
    assert call.status.status_code is StatusCode.ERROR
    # One trace per run: the agent span at the root, the model call, the tool call beneath it.
    assert agent.parent is None
    assert {chat.context.trace_id, call.context.trace_id} == {agent.context.trace_id}
    assert chat.parent is not None and chat.parent.span_id == agent.context.span_id
    assert call.parent is not None and call.parent.span_id == chat.context.span_id
    assert agent.start_time is not None and chat.start_time is not None
    assert agent.start_time <= chat.start_time
    export.shutdown()


def test_traces_url_follows_the_otlp_endpoint_convention() -> None:
    assert traces_url("http://localhost:4318") == "http://localhost:4318/v1/traces"
    assert traces_url("http://collector:4318/v1/traces/") == "http://collector:4318/v1/traces"


def test_boocode_otlp_endpoint_sends_a_turn_to_a_collector(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer
) -> None:
    fake_model.script([Reply.tool_calls([("list_files", {"path": "."})]), Reply.text("Listed.")])
    with OtlpReceiver() as collector:
        env = boocode_env(
            tmp_path / "data",
            workspace,
            fake_model,
            BOOCODE_MODEL="fake-model",
            BOOCODE_OTLP_ENDPOINT=collector.endpoint,
        )
        result = run_boocode("run", "list the files", env=env)
        assert result.returncode == 0, result.stderr
    names = sorted(span["name"] for span in collector.spans)
    assert names == [
        "chat fake-model",
        "chat fake-model",
        "execute_tool list_files",
        "invoke_agent boocode",
    ]
    assert {span["path"] for span in collector.spans} == {"/v1/traces"}
    assert {span["service"] for span in collector.spans} == {"boocode"}
    assert len({span["trace_id"] for span in collector.spans}) == 1
    tool = next(s for s in collector.spans if s["name"] == "execute_tool list_files")
    assert tool["attributes"]["gen_ai.tool.name"] == "list_files"
    assert tool["parent_span_id"] in {
        s["span_id"] for s in collector.spans if s["name"].startswith("chat")
    }
    assert all(
        s["attributes"]["gen_ai.usage.input_tokens"] > 0
        for s in collector.spans
        if s["name"].startswith("chat")
    )
