// The Agents panel: the chat's background subagents, running and ended, each with its label,
// status, elapsed time, tool calls and tokens, and a Stop button while it runs. Opened, one
// shows its transcript live (its conversation's own WebSocket), its traces and its worktree.
// The list comes from `GET /api/chats/{id}/subagents` and follows the chat's `subagent` frames;
// while one runs it is fetched again every few seconds, for its tool calls and tokens.
import { ACTIVE, AgentConversation, elapsedMs, StatusBadge, StopButton } from "./agent_view.js";
import { api } from "./api.js";
import { useNow } from "./clock.js";
import { formatCount, formatDuration, formatTokens, plural } from "./format.js";
import { html, useEffect, useState } from "./html.js";
import { registerPanel } from "./panels.js";
import { AlertsToggle } from "./subagent_alerts.js";
import { OPEN_SUBAGENT_EVENT, takePendingSubagent } from "./subagent_note.js";

const REFRESH_MS = 2000;
const TICK_MS = 1000;

export const listSubagents = (chatId) => api(`/api/chats/${chatId}/subagents`);
export const cancelSubagent = (taskId) => api(`/api/subagents/${taskId}/cancel`, { method: "POST" });

// task_id -> subagent, each stamped with when this page learnt of it (for the ticking clock).
function useSubagents(chatId, connection) {
  const [agents, setAgents] = useState(null); // null: not loaded yet
  const [problem, setProblem] = useState(null);
  const [version, setVersion] = useState(0);

  const keep = (list) => setAgents((old) => {
    const next = new Map(old || []);
    for (const agent of list) {
      // A fetch answered before an `ended` frame arrived must not bring the subagent back to life.
      const known = next.get(agent.task_id);
      if (known && !ACTIVE.has(known.status) && ACTIVE.has(agent.status)) continue;
      next.set(agent.task_id, { ...agent, seenAt: Date.now() });
    }
    return next;
  });

  useEffect(() => connection.subscribe((frame) => {
    if (frame.type === "subagent") keep([frame.subagent]);
    else if (frame.type === "snapshot") setVersion((v) => v + 1);
  }, { replay: true }), [connection]);

  useEffect(() => {
    let live = true;
    listSubagents(chatId)
      .then((data) => { if (live) { keep(data.subagents); setProblem(null); } })
      .catch((error) => { if (live) setProblem(error.message); });
    return () => { live = false; };
  }, [chatId, version]);

  const list = agents ? [...agents.values()].sort((a, b) => a.created_at.localeCompare(b.created_at)) : null;
  const active = Boolean(list && list.some((a) => ACTIVE.has(a.status)));
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(() => setVersion((v) => v + 1), REFRESH_MS);
    return () => clearInterval(timer);
  }, [active]);
  return { list, active, problem, setProblem };
}

function AgentsPanel({ chatId, connection }) {
  const { list, active, problem, setProblem } = useSubagents(chatId, connection);
  const [openId, setOpenId] = useState(() => takePendingSubagent());
  const now = useNow(active, TICK_MS);

  useEffect(() => {
    const onOpen = () => setOpenId(takePendingSubagent());
    addEventListener(OPEN_SUBAGENT_EVENT, onOpen);
    return () => removeEventListener(OPEN_SUBAGENT_EVENT, onOpen);
  }, []);

  async function stop(taskId) {
    try {
      await cancelSubagent(taskId);
    } catch (error) {
      setProblem(error.message);
    }
  }

  if (!list) {
    return html`<div class="agents">${problem
      ? html`<div class="banner error" role="alert">${problem}</div>`
      : html`<p class="hint">Loading subagents…</p>`}</div>`;
  }
  const opened = openId && list.find((a) => a.task_id === openId);
  return html`
    <div class="agents">
      ${problem && html`<div class="banner error" role="alert">${problem}</div>`}
      ${opened
        ? html`<${AgentDetail} key=${opened.task_id} agent=${opened} now=${now}
            onBack=${() => setOpenId(null)} onStop=${() => stop(opened.task_id)} />`
        : html`
          <${AlertsToggle} />
          ${list.length === 0 && html`<p class="hint">No subagents yet. When the agent hands work to a
            background subagent, it shows up here while it runs, and its report comes back to the chat.</p>`}
          <ul class="agent-list">
            ${list.map((agent) => html`
              <${AgentRow} key=${agent.task_id} agent=${agent} now=${now}
                onOpen=${() => setOpenId(agent.task_id)} onStop=${() => stop(agent.task_id)} />`)}
          </ul>`}
    </div>`;
}

function AgentRow({ agent, now, onOpen, onStop }) {
  return html`
    <li class=${`agent status-${agent.status}`} data-task-id=${agent.task_id} data-status=${agent.status}>
      <div class="agent-head">
        <button class="agent-open" onClick=${onOpen} title="Show its transcript, traces and worktree">${agent.label}</button>
        <${StatusBadge} status=${agent.status} />
        ${ACTIVE.has(agent.status) && html`<${StopButton} label=${agent.label} onStop=${onStop} />`}
      </div>
      <${Figures} agent=${agent} now=${now} />
    </li>`;
}

function Figures({ agent, now }) {
  const { usage } = agent;
  const tokens = usage.prompt_tokens + usage.completion_tokens;
  const breakdown = `prompt ${formatCount(usage.prompt_tokens)} (cached ${formatCount(usage.cache_hit_tokens)}) · completion ${formatCount(usage.completion_tokens)}`;
  return html`
    <div class="agent-figures">
      <span class="agent-elapsed" title="elapsed">${agent.status === "queued" ? "waiting" : formatDuration(elapsedMs(agent, now))}</span>
      <span class="agent-calls">${plural(agent.tool_calls, "tool call")}</span>
      <span class="agent-tokens" title=${breakdown}>${formatTokens(tokens)}</span>
      ${agent.isolation === "worktree" && html`<span class="agent-isolation">worktree</span>`}
    </div>`;
}

function AgentDetail({ agent, now, onBack, onStop }) {
  return html`
    <section class="agent-detail" aria-label=${`subagent ${agent.label}`} data-task-id=${agent.task_id}>
      <button class="link agent-back" onClick=${onBack}>← All subagents</button>
      <div class="agent-head">
        <h3 class="agent-title">${agent.label}</h3>
        <${StatusBadge} status=${agent.status} />
        ${ACTIVE.has(agent.status) && html`<${StopButton} label=${agent.label} onStop=${onStop} />`}
      </div>
      <${Figures} agent=${agent} now=${now} />
      ${agent.error && html`<div class="banner error agent-error" role="alert">${agent.error}</div>`}
      ${agent.worktree && html`<${Worktree} report=${agent.worktree} />`}
      <${AgentConversation} conversationId=${agent.conversation_id} />
    </section>`;
}

// What a worktree subagent changed: kept on its branch with the diff stat, or removed unchanged.
function Worktree({ report }) {
  return html`
    <div class=${`agent-worktree ${report.kept ? "kept" : "removed"}`} aria-label="worktree">
      <div><span class="label">worktree</span>${" "}
        ${report.kept ? html`kept on branch <code>${report.branch}</code>` : "no changes, removed"}</div>
      ${report.kept && html`<div class="agent-worktree-where"><code>${report.path}</code>
        ${report.commit && html` · commit <code title=${`git show ${report.commit}`}>${report.commit.slice(0, 12)}</code>`}</div>`}
      ${report.diff_stat && html`<${DiffStat} text=${report.diff_stat} />`}
    </div>`;
}

// `git diff --stat` output, its +/- graph coloured like the diffs elsewhere on the page.
function DiffStat({ text }) {
  return html`<pre class="agent-diff-stat">${text.split("\n").map((line, i) => {
    const parts = line.match(/^(.*\|\s*\d+\s*)(\+*)(-*)\s*$/);
    if (!parts) return html`<span key=${i}>${line}</span>`;
    return html`<span key=${i}>${parts[1]}<span class="diff-stat-add">${parts[2]}</span><span class="diff-stat-del">${parts[3]}</span></span>`;
  })}</pre>`;
}

registerPanel({ id: "agents", title: "Agents", component: AgentsPanel, order: 15 });
