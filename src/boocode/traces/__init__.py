"""Traces: every model call and tool call timed, stored, streamed, listed and exported."""

from __future__ import annotations

from boocode.agent.runtime import Runtime
from boocode.traces.recorder import TraceRecorder
from boocode.traces.recovery import DeadRuns, mark_interrupted
from boocode.traces.store import TraceStore


async def install_tracing(rt: Runtime, dead_runs: DeadRuns) -> None:
    """Mark calls a crash left running as interrupted, then trace every call from now on.

    Call it before DBOS launches: a resumed run's repeated step must not be the one marked.
    """
    await mark_interrupted(rt.events, dead_runs)
    if not rt.settings.tracing:
        return
    export = None
    if rt.settings.otlp_endpoint:
        from boocode.traces.otel import OtlpExport

        export = OtlpExport.to_endpoint(rt.settings.otlp_endpoint)
        rt.services["otlp_export"] = export
        rt.turn_end_hooks.append(export.turn_end_hook(rt.db))
    rt.tracer = TraceRecorder(TraceStore(rt.db, rt.events), export=export)
