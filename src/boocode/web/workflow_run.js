// One workflow run in the Workflows panel: its phases as groups of agents (label, status, model,
// tokens, duration, a cached mark), its log, the budget spent and left, its result as JSON, and
// Stop / Re-run. An agent opened shows its transcript and traces. The run comes from
// `GET /api/workflow-runs/{id}`, follows the chat's `workflow` frames, and is fetched again
// after each frame of its own and every few seconds while it runs (for running agents' tokens).
import { ACTIVE, AgentConversation, elapsedMs, StatusBadge, StopButton } from "./agent_view.js";
import { api } from "./api.js";
import { useNow } from "./clock.js";
import { Folded } from "./fold.js";
import { formatCount, formatDuration, formatTokens, plural } from "./format.js";
import { html, useEffect, useRef, useState } from "./html.js";
import { copyCode, highlight } from "./markdown.js";

const REFRESH_MS = 2000;
const TICK_MS = 1000;

export const getRun = (runId) => api(`/api/workflow-runs/${runId}`);
export const cancelRun = (runId) => api(`/api/workflow-runs/${runId}/cancel`, { method: "POST" });

// A status from the server replaces the one known, unless it would bring an ended run or agent
// back to life: a fetch answered just before its `ended` frame arrived.
export function newer(known, incoming) {
  return !known || ACTIVE.has(known.status) || !ACTIVE.has(incoming.status);
}

function withAgents(agents, incoming) {
  const next = new Map(agents.map((a) => [a.task_id, a]));
  for (const agent of incoming) {
    if (newer(next.get(agent.task_id), agent)) next.set(agent.task_id, { ...agent, seenAt: Date.now() });
  }
  return [...next.values()].sort((a, b) => a.created_at.localeCompare(b.created_at));
}

function withDetail(known, detail) {
  if (!known) return { ...detail, agents: withAgents([], detail.agents) };
  const run = newer(known, detail)
    ? detail
    : { ...detail, status: known.status, finished_at: known.finished_at, result: known.result, error: known.error };
  return { ...run, agents: withAgents(known.agents, detail.agents) };
}

function withFrame(known, frame) {
  const run = newer(known, frame.run) ? { ...known, ...frame.run } : known;
  return frame.agent ? { ...run, agents: withAgents(run.agents, [frame.agent]) } : run;
}

// Its agents are stopped after the run ends: watched until they have.
function stillGoing(run) {
  return Boolean(run && (ACTIVE.has(run.status) || run.agents.some((a) => ACTIVE.has(a.status))));
}

// The run, kept live: at most one fetch at a time, one more if frames came while it ran.
function useRunDetail(runId, connection) {
  const [run, setRun] = useState(null);
  const [problem, setProblem] = useState(null);
  const active = useRef(false);
  active.current = stillGoing(run);

  useEffect(() => {
    let closed = false;
    let busy = false;
    let again = false;
    async function load() {
      if (busy) { again = true; return; }
      busy = true;
      try {
        const detail = await getRun(runId);
        if (!closed) { setRun((known) => withDetail(known, detail)); setProblem(null); }
      } catch (error) {
        if (!closed) setProblem(error.message);
      }
      busy = false;
      if (again && !closed) { again = false; load(); }
    }
    const unsubscribe = connection.subscribe((frame) => {
      if (frame.type === "snapshot") load();
      if (frame.type !== "workflow" || frame.run.run_id !== runId) return;
      setRun((known) => known && withFrame(known, frame));
      load(); // for its log and the figures the frame does not carry
    }, { replay: true });
    const timer = setInterval(() => { if (active.current) load(); }, REFRESH_MS);
    load();
    return () => { closed = true; unsubscribe(); clearInterval(timer); };
  }, [runId, connection]);
  return { run, problem, setProblem };
}

// Phases in the order the run entered them (its `phase()` lines), then any an agent named on
// its own; agents asked for outside any phase come first, in a group of their own.
export function phaseGroups(agents, log) {
  const titles = [];
  const add = (title) => { if (!titles.includes(title)) titles.push(title); };
  if (agents.some((a) => !a.phase)) add(null);
  log.filter((entry) => entry.kind === "phase").forEach((entry) => add(entry.text));
  agents.forEach((a) => add(a.phase || null));
  return titles.map((title) => ({ title, agents: agents.filter((a) => (a.phase || null) === title) }));
}

// `rerunProblem(run)`: why it cannot be run again from here, or null.
export function RunView({ runId, connection, rerunProblem, onBack, onOpenRun, onRerun }) {
  const { run, problem, setProblem } = useRunDetail(runId, connection);
  const [taskId, setTaskId] = useState(null);
  const [rerunning, setRerunning] = useState(false);
  const now = useNow(stillGoing(run), TICK_MS);

  async function stop() {
    try {
      await cancelRun(runId);
    } catch (error) {
      setProblem(error.message);
    }
  }

  async function rerun() {
    setRerunning(true);
    try {
      await onRerun(run);
    } catch (error) {
      setProblem(error.message);
      setRerunning(false);
    }
  }

  if (!run) {
    return html`<div class="workflows">${problem
      ? html`<div class="banner error" role="alert">${problem}</div>`
      : html`<p class="hint">Loading the run…</p>`}</div>`;
  }
  const opened = taskId && run.agents.find((a) => a.task_id === taskId);
  if (opened) {
    return html`<${AgentView} key=${opened.task_id} agent=${opened} run=${run} now=${now} onBack=${() => setTaskId(null)} />`;
  }
  const cannotRerun = rerunProblem(run);
  return html`
    <section class="workflows wf-run" aria-label=${`workflow run ${run.name}`} data-run-id=${run.run_id} data-status=${run.status}>
      <button class="link agent-back" onClick=${onBack}>← All runs</button>
      <div class="agent-head">
        <h3 class="agent-title">${run.name}</h3>
        <${StatusBadge} status=${run.status} />
        ${ACTIVE.has(run.status)
          ? html`<${StopButton} label=${run.name} onStop=${stop} />`
          : html`<button class="wf-rerun" disabled=${rerunning || cannotRerun !== null} onClick=${rerun}
              title=${cannotRerun ?? "Run it again: agents asked the same as before come back cached, the others run"}>
              ${rerunning ? "Starting…" : "Re-run"}</button>`}
      </div>
      <div class="agent-figures">
        <code class="wf-run-id">${run.run_id}</code>
        <span class="wf-run-elapsed" title="elapsed">${formatDuration(runMs(run, now))}</span>
        <span>${plural(run.agents.length, "agent")}</span>
        ${run.resume_from && html`<span>re-run of <button class="link wf-link" onClick=${() => onOpenRun(run.resume_from)}>${run.resume_from}</button></span>`}
      </div>
      <${Budget} run=${run} />
      ${problem && html`<div class="banner error" role="alert">${problem}</div>`}
      ${run.status === "failed" && run.error && html`<div class="banner error wf-run-error" role="alert">${run.error}</div>`}
      ${run.status === "cancelled" && html`<p class="note">Stopped.</p>`}
      ${run.status === "succeeded" && html`<${Result} value=${run.result} />`}
      ${run.agents.length === 0 && run.log.length === 0 && html`<p class="hint">No agents yet.</p>`}
      ${phaseGroups(run.agents, run.log).map(({ title, agents }, i, groups) => html`
        <${Phase} key=${title ?? ""} title=${title} agents=${agents} now=${now} onOpen=${setTaskId}
          current=${ACTIVE.has(run.status) && i === groups.length - 1 && title !== null} alone=${groups.length === 1} />`)}
      ${run.log.length > 0 && html`<${Log} entries=${run.log} />`}
    </section>`;
}

function runMs(run, now) {
  if (!run.started_at) return null;
  const end = run.finished_at ? Date.parse(run.finished_at) : now;
  return end - Date.parse(run.started_at);
}

// Output tokens of all its agents, against its budget when it has one.
function Budget({ run }) {
  if (run.budget == null) {
    return html`<div class="wf-budget" aria-label="budget">${formatTokens(run.spent)} spent (output) · no budget</div>`;
  }
  const left = Math.max(run.budget - run.spent, 0);
  const share = Math.min(run.spent / run.budget, 1);
  return html`
    <div class=${`wf-budget ${left === 0 ? "wf-budget-spent" : ""}`} aria-label="budget">
      <div>${formatCount(run.spent)} of ${formatTokens(run.budget)} spent (output) · ${formatCount(left)} left</div>
      <div class="wf-meter" role="meter" aria-label="budget spent" aria-valuemin="0" aria-valuemax=${run.budget}
        aria-valuenow=${Math.min(run.spent, run.budget)}><span style=${`width: ${share * 100}%`}></span></div>
    </div>`;
}

function Phase({ title, agents, now, current, alone, onOpen }) {
  const counts = ["running", "queued", "failed", "cancelled"]
    .map((status) => [status, agents.filter((a) => a.status === status).length])
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${formatCount(n)} ${status}`);
  const cached = agents.filter((a) => a.cached).length;
  const name = title ?? (alone ? "Agents" : "Outside any phase");
  return html`
    <section class=${`wf-phase ${current ? "wf-phase-current" : ""}`} aria-label=${`phase ${name}`} data-phase=${title ?? ""}>
      <header class="wf-phase-head">
        <span class="wf-phase-title">${name}</span>
        ${current && html`<span class="wf-phase-now">now</span>`}
        <span class="wf-phase-counts">${[plural(agents.length, "agent"), ...counts, cached ? `${formatCount(cached)} cached` : null].filter(Boolean).join(" · ")}</span>
      </header>
      ${agents.length > 0 && html`
        <ul class="agent-list">
          ${agents.map((agent) => html`<${AgentRow} key=${agent.task_id} agent=${agent} now=${now} onOpen=${() => onOpen(agent.task_id)} />`)}
        </ul>`}
    </section>`;
}

function AgentRow({ agent, now, onOpen }) {
  return html`
    <li class=${`agent wf-agent status-${agent.status}`} data-task-id=${agent.task_id} data-status=${agent.status} data-cached=${String(agent.cached)}>
      <div class="agent-head">
        <button class="agent-open" onClick=${onOpen} title="Show its transcript and traces">${agent.label}</button>
        ${agent.cached && html`<${CachedMark} />`}
        <${StatusBadge} status=${agent.status} />
      </div>
      <${AgentFigures} agent=${agent} now=${now} />
    </li>`;
}

function CachedMark() {
  return html`<span class="wf-cached" title="The same agent succeeded in the run this one resumed: its result was reused, no model was called">cached</span>`;
}

function AgentFigures({ agent, now }) {
  const { usage } = agent;
  const breakdown = `prompt ${formatCount(usage.prompt_tokens)} (cached ${formatCount(usage.cache_hit_tokens)}) · completion ${formatCount(usage.completion_tokens)}`;
  return html`
    <div class="agent-figures">
      ${agent.model && html`<span class="wf-model" title="model">${agent.model}</span>`}
      <span class="agent-tokens" title=${breakdown}>${formatTokens(usage.prompt_tokens + usage.completion_tokens)}</span>
      <span class="agent-elapsed" title="duration">${agent.status === "queued" ? "waiting" : formatDuration(elapsedMs(agent, now))}</span>
    </div>`;
}

function AgentView({ agent, run, now, onBack }) {
  return html`
    <section class="agent-detail" aria-label=${`agent ${agent.label}`} data-task-id=${agent.task_id}>
      <button class="link agent-back" onClick=${onBack}>← ${run.name}</button>
      <div class="agent-head">
        <h3 class="agent-title">${agent.label}</h3>
        ${agent.cached && html`<${CachedMark} />`}
        <${StatusBadge} status=${agent.status} />
      </div>
      <${AgentFigures} agent=${agent} now=${now} />
      ${agent.phase && html`<div class="hint">phase ${agent.phase}</div>`}
      ${agent.error && html`<div class="banner error agent-error" role="alert">${agent.error}</div>`}
      <${AgentConversation} conversationId=${agent.conversation_id} />
    </section>`;
}

function Log({ entries }) {
  return html`
    <details class="agent-section wf-log" open>
      <summary>Log · ${plural(entries.length, "line")}</summary>
      <ol class="wf-log-lines" aria-label="log">
        ${entries.map((entry, i) => html`
          <li key=${i} class=${`wf-log-${entry.kind}`} data-kind=${entry.kind}>
            <time datetime=${entry.created_at}>${new Date(entry.created_at).toLocaleTimeString()}</time>
            <span>${entry.kind === "phase" ? `▸ phase ${entry.text}` : entry.kind === "warning" ? `⚠ ${entry.text}` : entry.text}</span>
          </li>`)}
      </ol>
    </details>`;
}

// The run's result as JSON, coloured and copyable like a code block of an answer.
function Result({ value }) {
  const text = JSON.stringify(value, null, 2) ?? "null";
  return html`
    <section class="wf-result" aria-label="result">
      <div class="code-block" onClick=${copyCode}>
        <div class="code-head"><span class="code-lang">result · json</span>
          <button type="button" class="copy-code" aria-label="copy code">Copy</button></div>
        <${Folded} text=${text}>
          <pre class="code"><code class="hljs" dangerouslySetInnerHTML=${{ __html: highlight(text, "json") }}></code></pre>
        <//>
      </div>
    </section>`;
}
