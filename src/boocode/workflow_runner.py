"""`boocode workflow list | show NAME | run NAME`: the catalog, and a run in this process with
its progress printed as it happens."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

from dbos import DBOS, WorkflowHandleAsync
from pydantic import JsonValue, ValidationError

from boocode import engine
from boocode.agent import service
from boocode.config import Settings
from boocode.contracts.runs import RunStatus
from boocode.contracts.workflows import WorkflowFrame, WorkflowStart
from boocode.workflows import discovery
from boocode.workflows import service as workflows

EXIT_FAILED = 1
EXIT_CANCELLED = 130


def list_workflows(settings: Settings, home: Path) -> int:
    for entry in discovery.discover(settings.workspace, home):
        about = entry.error or (entry.meta.description if entry.meta else "")
        mark = "!" if entry.error else " "
        print(f"{mark} {entry.name:<24} {entry.source.value:<8} {about}")
    return 0


def show_workflow(settings: Settings, home: Path, name: str) -> int:
    try:
        entry = discovery.find(settings.workspace, home, name)
    except discovery.WorkflowNotFound as exc:
        print(f"boocode: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{entry.name} ({entry.source.value}: {entry.path})")
    if entry.error:
        print(f"error: {entry.error}")
        return EXIT_FAILED
    if entry.meta is not None:
        print(entry.meta.description)
        if entry.meta.when_to_use:
            print(f"when to use: {entry.meta.when_to_use}")
        for number, phase in enumerate(entry.meta.phases, 1):
            print(f"  {number}. {phase.title}" + (f": {phase.detail}" if phase.detail else ""))
    return 0


async def run_workflow(
    settings: Settings,
    home: Path,
    name: str,
    *,
    args: JsonValue,
    resume_from: str | None,
    budget: int | None,
    chat_id: str | None,
) -> int:
    """Start the run in a new or given chat, print its progress, print its result on stdout."""
    rt = await engine.start(settings, role="run")
    try:
        if chat_id is None:
            chat_id = (await service.create_chat(f"workflow {name}", settings.workspace)).id
        chat = await service.get_chat(chat_id)
        print(f"chat: {chat_id}", file=sys.stderr)
        subscription = rt.bus.subscribe(chat_id)
        try:
            body = WorkflowStart(name=name, args=args, budget=budget, resume_from=resume_from)
            started = await workflows.start(rt, chat, body, home=home)
            print(f"run: {started.run_id}", file=sys.stderr)
            _interrupt_cancels(rt, started.run_id)
            async for frame in subscription:
                if not isinstance(frame, WorkflowFrame) or frame.run.run_id != started.run_id:
                    continue
                _show(frame)
                if frame.event == "ended":
                    # Its last step is durable only once its workflow has finished.
                    handle: WorkflowHandleAsync[str] = await DBOS.retrieve_workflow_async(
                        started.run_id
                    )
                    await handle.get_result(polling_interval_sec=0.02)
                    return _finish(frame)
        finally:
            subscription.close()
    except (service.ChatNotFound, workflows.WorkflowRefused) as exc:
        print(f"boocode: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except ValidationError as exc:  # an option out of the API's bounds, as a 422 would say
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the options"
        print(f"boocode: {where}: {first['msg']}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await engine.stop(rt)
    return EXIT_FAILED


def _show(frame: WorkflowFrame) -> None:
    if frame.entry is not None:
        prefix = {"phase": "== ", "warning": "warning: ", "log": "  "}[frame.entry.kind]
        print(f"{prefix}{frame.entry.text}", file=sys.stderr, flush=True)
    elif frame.agent is not None:
        agent = frame.agent
        cached = " (cached)" if agent.cached else ""
        took = f" {agent.elapsed_s:.1f} s" if agent.finished_at else ""
        print(f"  · {agent.label}: {agent.status.value}{cached}{took}", file=sys.stderr, flush=True)


def _finish(frame: WorkflowFrame) -> int:
    run = frame.run
    spent = f", {run.spent} output tokens" + (f" of {run.budget}" if run.budget else "")
    print(f"[workflow {run.name} {run.status.value}{spent}]", file=sys.stderr)
    if run.status is RunStatus.SUCCEEDED:
        print(json.dumps(run.result, indent=2, ensure_ascii=False))
        return 0
    if run.error:
        print(f"error: {run.error}", file=sys.stderr)
    return EXIT_CANCELLED if run.status is RunStatus.CANCELLED else EXIT_FAILED


def _interrupt_cancels(rt: engine.Runtime, run_id: str) -> None:
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(
        signal.SIGINT, lambda: asyncio.ensure_future(workflows.cancel(rt, run_id))
    )
