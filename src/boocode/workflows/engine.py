"""A workflow run as a DBOS workflow: the script in its sandbox, each `agent()` an agent run.

The script runs in one step. If the process dies mid-run, DBOS runs that step again: the
script starts over, and every `agent()` it asks for again finds its agent run by content key
(`boocode.workflows.keys`): an agent that ended gives its result at once, one still running is
waited for, and only new ones start. A run started with `resume_from` takes the succeeded
agents of that earlier run the same way, so a re-run costs only what changed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dbos import DBOS, SetWorkflowID
from pydantic import JsonValue
from sqlalchemy import Connection

from boocode.agent import runtime
from boocode.agent import turn as turns
from boocode.agent.runtime import Runtime
from boocode.contracts.runs import RunKind, RunStatus
from boocode.contracts.workflows import (
    LogKind,
    WorkflowAgentResult,
    WorkflowAgentSpec,
    WorkflowEvent,
    WorkflowFrame,
    WorkflowLogEntry,
    WorkflowResult,
    WorkflowSpec,
)
from boocode.db.chats import headline
from boocode.db.tables import AgentRun, Chat
from boocode.runs import store as runs
from boocode.runs.admission import Admission
from boocode.runs.detach import outside_any_run
from boocode.subagents import notify, worktree
from boocode.subagents.runner import AGENT_QUEUE_POLL_S
from boocode.subagents.store import Progress, final_answer, progress
from boocode.tools.registry import TOOL_SCHEMAS
from boocode.workflows import agent_types, discovery, store
from boocode.workflows.host import AgentOptions, ScriptCancelled
from boocode.workflows.keys import Occurrences, spec_hash
from boocode.workflows.limits import ScriptLimits
from boocode.workflows.models import checked_effort, choose_model, parse_aliases
from boocode.workflows.outcome import ScriptOutcome, ScriptStatus
from boocode.workflows.sandbox import SpareChild, run_script
from boocode.workflows.script import Script, ScriptError, load_script
from boocode.workflows.structured import SUBMIT_RESULT, submitted_value

log = logging.getLogger(__name__)

WORKFLOW_AGENT_QUEUE = "boocode_workflow_agents"
WORKFLOW_AGENT_ADMISSION = "workflow_agent_admission"
SPARE_SCRIPT_PROCESS = "workflow_spare_script_process"
# An agent that ends in this process wakes its script at once; one run by another process (a
# worker) is looked for this often.
_POLL_S = 1.0
# An agent's label is stored in a column of this many characters (`AgentRun.label`).
MAX_LABEL_CHARS = 200
# Agents of this process's scripts waiting for their end, by run id: the agent's last step
# hands over its final record and what it did, so the script goes on without reading them back.
_ends: dict[str, asyncio.Future[tuple[AgentRun, Progress | None]]] = {}

# A script's status, as the run's.
_STATUSES = {
    ScriptStatus.SUCCEEDED: RunStatus.SUCCEEDED,
    ScriptStatus.CANCELLED: RunStatus.CANCELLED,
}


@DBOS.workflow(name="boocode.workflow")
async def run_workflow(run_id: str) -> str:
    return (await _execute(run_id)).value


@DBOS.step(name="boocode.workflow.execute")
async def _execute(run_id: str) -> RunStatus:
    """Run the script to its end; its agents are runs of their own, found again by key."""
    rt = runtime.current()
    run = await store.get(rt.db, run_id)
    if RunStatus(run.status) not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return RunStatus(run.status)
    if not run.cancel_requested:
        await runs.transition(rt.db, run_id, RunStatus.RUNNING, executor_id=rt.executor_id)
    spec = WorkflowSpec.model_validate(run.spec)
    host = EngineHost(rt, run, spec, await _chat(rt, run.chat_id))
    await host.announce("started")
    if run.cancel_requested:
        outcome = ScriptOutcome(status=ScriptStatus.CANCELLED, error="cancelled before it began")
    else:
        outcome = await _run_until_cancelled(rt, run_id, spec, host)
    await host.logged()
    status = _STATUSES.get(outcome.status, RunStatus.FAILED)
    if status is not RunStatus.SUCCEEDED:
        await host.stop_agents()
    await store.store_run_result(
        rt.db, run_id, WorkflowResult(value=outcome.result, error=outcome.error, line=outcome.line)
    )
    error = None if status is RunStatus.SUCCEEDED else (outcome.error or status.value)
    await runs.transition(rt.db, run_id, status, error=error)
    await host.announce("ended")
    rt.cancels.forget(run_id)
    if run.parent_chat_id is not None:
        await notify.wake_if_due(rt, run.parent_chat_id)
    return status


async def _run_until_cancelled(
    rt: Runtime, run_id: str, spec: WorkflowSpec, host: EngineHost
) -> ScriptOutcome:
    script = load_script(spec.source, name=spec.name)
    limits = ScriptLimits(
        budget_tokens=spec.budget, max_concurrent_agents=rt.settings.workflow_concurrency
    )
    spare: SpareChild = rt.services[SPARE_SCRIPT_PROCESS]
    execution = asyncio.ensure_future(run_script(script, spec.args, host, limits, spare=spare))
    stop = asyncio.ensure_future(rt.cancels.event(run_id).wait())
    await asyncio.wait({execution, stop}, return_when=asyncio.FIRST_COMPLETED)
    stop.cancel()
    if execution.done():
        return execution.result()
    execution.cancel()  # kills the script's process
    await asyncio.gather(execution, return_exceptions=True)
    return ScriptOutcome(status=ScriptStatus.CANCELLED, error="cancelled")


class EngineHost:
    """What the script's `agent()`, `log()`, `phase()` and `budget` reach."""

    def __init__(self, rt: Runtime, run: AgentRun, spec: WorkflowSpec, chat: Chat) -> None:
        self.rt = rt
        self.run = run
        self.spec = spec
        # The chat the run was started from: its workspace and model serve every agent.
        self.chat = chat
        self._occurrences = Occurrences()
        self._phase: str | None = None
        self._spent = 0
        self._pending_log: list[asyncio.Task[None]] = []
        self._by_key: tuple[dict[str, AgentRun], dict[str, AgentRun]] | None = None
        self._known_lock = asyncio.Lock()
        self._reused: set[str] = set()
        self._types: dict[str | None, agent_types.AgentType] = {}
        self._aliases = parse_aliases(rt.settings.model_aliases)
        self._warned: set[str] = set()
        # meta.phases' models: the default model of the agents of that phase.
        self._phase_models = {phase.title: phase.model for phase in spec.phases if phase.model}

    async def agent(self, prompt: str, options: AgentOptions) -> JsonValue:
        if self.rt.cancels.event(self.run.id).is_set():
            raise ScriptCancelled("the run was cancelled")
        effort = checked_effort(options.effort)
        kind = self._agent_type(options.agent_type)
        phase = options.phase or self._phase
        model = self._model(options.model or kind.model or self._phase_models.get(phase or ""))
        agent_type = kind.name
        tools = list(kind.tools) if kind.tools is not None else None
        digest = spec_hash(
            prompt=prompt,
            output_schema=options.output_schema,
            model=model,
            effort=effort,
            agent_type=agent_type,
            isolation=options.isolation,
            tools=tools,
            system_prompt=kind.system_prompt,
        )
        cache_key, occurrence = self._occurrences.key(digest)
        spec = WorkflowAgentSpec(
            prompt=prompt,
            label=(options.label or headline(prompt, "agent"))[:MAX_LABEL_CHARS],
            phase=phase,
            model=model,
            effort=effort,
            isolation=options.isolation,
            agent_type=agent_type,
            output_schema=options.output_schema,
            occurrence=occurrence,
        )
        agent = await self._find_or_start(cache_key, spec, tools, kind.system_prompt)
        if agent.id in self._reused:  # answered from the earlier run, and announced
            return WorkflowAgentResult.model_validate(agent.result).value
        agent, done = await _ended(self.rt, agent)
        await self._agent_ended(agent, done)
        if RunStatus(agent.status) is not RunStatus.SUCCEEDED or agent.result is None:
            return None
        return WorkflowAgentResult.model_validate(agent.result).value

    async def load_workflow(self, name_or_ref: str) -> Script:
        try:
            entry = discovery.find(Path(self.chat.workspace), Path.home(), name_or_ref)
            # The script discovery read and checked: the file is not read again by name.
            if (script := entry.script) is None:
                raise ScriptError(str(entry.error))
        except (discovery.WorkflowNotFound, ScriptError) as exc:
            raise RuntimeError(f"workflow({name_or_ref!r}): {exc}") from None
        self._remember("log", f"workflow {script.name} runs inline")
        return script

    def log(self, message: str) -> None:
        self._remember("log", message)

    def phase(self, title: str) -> None:
        self._phase = title
        self._remember("phase", title)

    def tokens_spent(self) -> int:
        return self._spent

    async def announce(self, event: WorkflowEvent, **extra: Any) -> None:
        # An agent's start or end leaves the run's own record as it was.
        run = self.run if event == "agent" else await store.get(self.rt.db, self.run.id)
        frame = WorkflowFrame(
            chat_id=run.chat_id,
            event=event,
            run=store.run_out(run, self._spent),
            **extra,
        )
        await self.rt.events.publish(frame)

    async def logged(self) -> None:
        """Wait until every log line of the script is stored."""
        await asyncio.gather(*self._pending_log)

    async def stop_agents(self) -> None:
        for agent in await store.agents(self.rt.db, self.run.id):
            if not store.is_final(agent):
                await turns.request_cancel(agent.id)

    async def _find_or_start(
        self,
        cache_key: str,
        spec: WorkflowAgentSpec,
        tools: list[str] | None,
        system_prompt: str | None,
    ) -> AgentRun:
        rt, run = self.rt, self.run
        mine, earlier_run = await self._known()
        found = mine.get(cache_key)
        if found is not None:  # asked for before this run's step started over
            agent = await runs.get(rt.db, found.id)
            if not store.is_final(agent):
                await self.announce("agent", agent=store.agent_out(agent))
            return agent
        agent_id = "wfa-" + hashlib.sha256(f"{run.id}/{cache_key}".encode()).hexdigest()[:24]
        earlier = earlier_run.get(cache_key)
        if earlier is not None and RunStatus(earlier.status) is RunStatus.SUCCEEDED:
            return await self._reuse(agent_id, earlier, spec)
        else:
            chat = self.chat
            workspace = chat.workspace
            if spec.isolation == "worktree":
                tree = await worktree.plan(Path(chat.workspace), agent_id[4:16])
                spec.worktree, spec.branch, spec.base = str(tree.root), tree.branch, tree.base
                spec.subdir = tree.subdir
                workspace = str(tree.workspace)
            conversation = hashlib.sha256(f"{agent_id}/conversation".encode()).hexdigest()[:32]
            new = runs.ConversationRun(
                run_id=agent_id,
                kind=RunKind.WORKFLOW_AGENT,
                conversation_id=conversation,
                owner_chat_id=chat.id,
                parent_run_id=run.id,
                workspace=workspace,
                model=spec.model or chat.model,
                prompt=spec.prompt,
                label=spec.label,
                spec=spec.model_dump(mode="json"),
                tools=_with_submit(tools, spec.output_schema),
                depth=chat.depth + 1,
                cache_key=cache_key,
                output_schema=spec.output_schema,
                system_prompt=system_prompt,
                effort=spec.effort,
                executor_id=rt.executor_id,
            )
            now = datetime.now(UTC)
            queued = runs.queued_record(new, now)

            def write(conn: Any) -> WorkflowFrame:  # stored and announced in one commit
                runs.insert_conversation_run(conn, new, now)
                return WorkflowFrame(
                    chat_id=run.chat_id,
                    event="agent",
                    run=store.run_out(run, self._spent),
                    agent=store.agent_out(queued),
                )

            await rt.events.publish_with(run.chat_id, write)
            _end_of(agent_id)  # before it starts: its end is not missed
            await start_agent(agent_id, stored=queued)
            return queued

    def _agent_type(self, name: str | None) -> agent_types.AgentType:
        """The type called `name`, read once per run (its warning logged once)."""
        if name not in self._types:
            kind = agent_types.resolve(Path(self.chat.workspace), Path.home(), name)
            if kind.warning:
                self._remember("warning", kind.warning)
            self._types[name] = kind
        return self._types[name]

    async def _reuse(self, agent_id: str, earlier: AgentRun, spec: WorkflowAgentSpec) -> AgentRun:
        """Store an agent answered from the earlier run and announce it, in one transaction."""
        stored: list[AgentRun] = []

        def write(conn: Any) -> WorkflowFrame:
            stored.append(
                store.insert_cached_agent(
                    conn, run_id=agent_id, parent_run_id=self.run.id, earlier=earlier, spec=spec
                )
            )
            return WorkflowFrame(
                chat_id=self.run.chat_id,
                event="agent",
                run=store.run_out(self.run, self._spent),
                agent=store.agent_out(stored[-1]),
            )

        # The last one stored: a transaction tried again (SQLite's lock) stores it again.
        await self.rt.events.publish_with(self.run.chat_id, write)
        self._reused.add(agent_id)
        return stored[-1]

    async def _known(self) -> tuple[dict[str, AgentRun], dict[str, AgentRun]]:
        """This run's agents stored before its step started over, and the agents of the run it
        resumes from, by key: read once, on the first `agent()` call."""
        async with self._known_lock:
            if self._by_key is None:
                mine = await store.by_keys(self.rt.db, self.run.id)
                resumed = self.spec.resume_from
                earlier = await store.by_keys(self.rt.db, resumed) if resumed else {}
                self._by_key = (mine, earlier)
        return self._by_key

    async def _agent_ended(self, agent: AgentRun, done: Progress | None) -> None:
        """Count its tokens against the budget and announce its end; `done`, when its last
        step handed it over, is what it did (read otherwise)."""
        if done is None:
            done = (await progress(self.rt.db, [agent]))[agent.chat_id]
        if not store.is_cached(agent):
            self._spent += done.usage.completion_tokens
        await self.announce("agent", agent=store.agent_out(agent, done))

    def _model(self, asked: str | None) -> str:
        chosen = choose_model(asked, chat_model=self.chat.model, aliases=self._aliases)
        if chosen.warning is not None and chosen.warning not in self._warned:
            self._warned.add(chosen.warning)
            self._remember("warning", chosen.warning)
        return chosen.name

    def _remember(self, kind: LogKind, text: str) -> None:
        self._pending_log.append(asyncio.ensure_future(self._write_log(kind, text)))

    async def _write_log(self, kind: LogKind, text: str) -> None:
        entry: list[WorkflowLogEntry] = []

        def write(conn: Any) -> WorkflowFrame:
            entry.append(store.insert_log(conn, self.run.id, kind, text))
            return WorkflowFrame(
                chat_id=self.run.chat_id,
                event="log",
                run=store.run_out(self.run, self._spent),
                entry=entry[-1],  # the attempt that commits
            )

        await self.rt.events.publish_with(self.run.chat_id, write)


async def start_workflow_run(run_id: str) -> None:
    async def start() -> None:
        with SetWorkflowID(run_id):
            await DBOS.start_workflow_async(run_workflow, run_id)

    await outside_any_run(start)


async def start_agent(run_id: str, *, stored: AgentRun | None = None) -> None:
    """Start a stored workflow agent here, or queue it for the workers (as a subagent).
    `stored`: the record this process has just stored (see `turn.start_fresh`)."""
    rt = runtime.current()

    async def start() -> None:
        with SetWorkflowID(run_id):
            if rt.process_turns:
                await turns.start_fresh(
                    run_id, run_workflow_agent, stored_now=stored is not None, record=stored
                )
            else:
                await rt.services[WORKFLOW_AGENT_QUEUE].enqueue_async(run_workflow_agent, run_id)

    await outside_any_run(start)


async def register_queue(rt: Runtime) -> None:
    rt.services[WORKFLOW_AGENT_ADMISSION] = Admission(rt.settings.workflow_agent_concurrency)
    rt.services[SPARE_SCRIPT_PROCESS] = SpareChild()
    rt.services[WORKFLOW_AGENT_QUEUE] = await DBOS.register_queue_async(
        WORKFLOW_AGENT_QUEUE,
        global_concurrency=rt.settings.workflow_agent_concurrency,
        polling_interval_sec=AGENT_QUEUE_POLL_S,
    )


@DBOS.workflow(name="boocode.workflow_agent")
async def run_workflow_agent(run_id: str) -> str:
    """The agent loop on the agent's conversation; its worktree and its value are made in the
    loop's first and last steps (`_AgentSteps`)."""
    rt = runtime.current()
    admission: Admission = rt.services[WORKFLOW_AGENT_ADMISSION]
    outcome = await admission.run_unless_cancelled(
        lambda: turns.drive(run_id, _AgentSteps()), rt.cancels.event(run_id)
    )
    return outcome.status.value


class _AgentSteps:
    """A workflow agent's part of its loop's first and last steps (`turn.RunSteps`)."""

    async def prepare(self, run: AgentRun) -> str | None:
        """Create the agent's worktree when it asked for one; the error that stops it."""
        spec = WorkflowAgentSpec.model_validate(run.spec)
        if spec.worktree is None or run.cancel_requested:
            return None
        try:
            await worktree.create(
                worktree.planned(spec.worktree, spec.branch, spec.base, spec.subdir)
            )
        except worktree.WorktreeError as exc:
            return str(exc)
        return None

    async def started(self, run_id: str) -> None:
        return None

    def ended_in(self, conn: Connection, run: AgentRun, answer: str | None) -> None:
        """An agent that answered, without a schema or a worktree to report, has its value:
        its answer, stored with its end."""
        spec = WorkflowAgentSpec.model_validate(run.spec)
        if answer is not None and spec.output_schema is None and spec.worktree is None:
            runs.store_result_in(conn, run, WorkflowAgentResult(value=answer).model_dump())

    async def finish(self, run_id: str, end: turns.RunEnd | None) -> None:
        """Store the agent's value (its submitted object when it had a schema, else its
        answer), unless its end did, then wake its script: the value is stored, the run's
        record final."""
        rt = runtime.current()
        agent = end.run if end is not None else await runs.get(rt.db, run_id)
        if agent.result is None:
            spec = WorkflowAgentSpec.model_validate(agent.spec)
            if spec.output_schema is not None:
                value = await submitted_value(rt.db, agent.chat_id)
            else:
                value = await final_answer(rt.db, agent.chat_id)
            if spec.worktree is not None and agent.parent_run_id is not None:
                await _report_worktree(rt, agent.parent_run_id, spec)
            result = WorkflowAgentResult(value=value)
            await store.store_agent_result(rt.db, run_id, result)
            agent.result = result.model_dump(mode="json")
        if (ended := _ends.get(run_id)) is not None and not ended.done():
            # Its one turn is all its conversation holds.
            done = None if end is None else Progress(tool_calls=end.tool_calls, usage=end.usage)
            ended.set_result((agent, done))
            # The script goes on first: its next agent() crosses to the script's process while
            # this step and the agent's workflow record their ends.
            await asyncio.sleep(0)


def _end_of(run_id: str) -> asyncio.Future[tuple[AgentRun, Progress | None]]:
    if run_id not in _ends:
        _ends[run_id] = asyncio.get_running_loop().create_future()
    return _ends[run_id]


async def _ended(rt: Runtime, agent: AgentRun) -> tuple[AgentRun, Progress | None]:
    """`agent` once it ended with its result stored (or ended without one), with what it did
    when its last step handed that over."""
    end = _end_of(agent.id)
    # Awaited directly, the hand-over wakes the script at the loop's next turn.
    watch = asyncio.create_task(_watch(rt, agent, end))
    try:
        return await end
    finally:
        watch.cancel()
        _ends.pop(agent.id, None)


async def _watch(
    rt: Runtime, agent: AgentRun, end: asyncio.Future[tuple[AgentRun, Progress | None]]
) -> None:
    """Hand over the end of an agent that ended without its last step here: one that ended
    before its script asked again, one another process runs, one recovery ended."""
    while not end.done():
        final = store.is_final(agent)
        if final and (
            agent.result is not None or RunStatus(agent.status) is not RunStatus.SUCCEEDED
        ):
            end.set_result((agent, None))
            return
        await asyncio.sleep(_POLL_S)
        agent = await runs.get(rt.db, agent.id)


async def _report_worktree(rt: Runtime, run_id: str, spec: WorkflowAgentSpec) -> None:
    """What a worktree agent changed goes to the run's log: kept on its branch, or removed."""
    tree = worktree.planned(spec.worktree, spec.branch, spec.base, spec.subdir)
    try:
        report = await worktree.finish(tree)
    except worktree.WorktreeError as exc:
        line = f"{spec.label}: the worktree could not be reported: {exc}"
    else:
        line = (
            f"{spec.label}: worktree kept at {report.path}, branch {report.branch}\n"
            f"{report.diff_stat}"
            if report.kept
            else f"{spec.label}: worktree had no changes, removed"
        )
    await rt.db.transact(lambda conn: store.insert_log(conn, run_id, "log", line))


async def _chat(rt: Runtime, chat_id: str) -> Chat:
    async with rt.db.session() as session:
        chat = await session.get(Chat, chat_id)
    if chat is None:
        raise LookupError(f"chat {chat_id} does not exist")
    return chat


def _with_submit(tools: list[str] | None, output_schema: dict[str, Any] | None) -> list[str] | None:
    if output_schema is None:
        return tools
    names = tools if tools is not None else [s["function"]["name"] for s in TOOL_SCHEMAS]
    return [*names, SUBMIT_RESULT]
