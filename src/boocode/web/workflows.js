// The Workflows panel: start a workflow in this chat and watch its runs. Its first view has a
// start form (the catalog from `GET /api/workflows`, args as JSON, an optional budget) and the
// chat's runs, newest first, from `GET /api/chats/{id}/workflows`, kept live by the chat's
// `workflow` frames; a run opened is drawn by workflow_run.js.
import { ACTIVE, StatusBadge } from "./agent_view.js";
import { api } from "./api.js";
import { formatDate, formatDuration } from "./format.js";
import { html, useEffect, useState } from "./html.js";
import { registerPanel } from "./panels.js";
import { newer, RunView } from "./workflow_run.js";

export const listWorkflows = () => api("/api/workflows");
export const listRuns = (chatId) => api(`/api/chats/${chatId}/workflows`);
export const startRun = (chatId, body) => api(`/api/chats/${chatId}/workflows`, { method: "POST", body });

const EMPTY_DRAFT = { name: "", args: "", budget: "", resumeFrom: null };

// What this page started each run with, so that Re-run asks for the same again: a run's record
// on the server does not give back its args.
const STARTS_KEY = "boocode.workflowStarts";
const STARTS_KEPT = 200;

function readStarts() {
  try {
    const starts = JSON.parse(localStorage.getItem(STARTS_KEY) || "[]");
    return Array.isArray(starts) ? starts : [];
  } catch {
    return [];
  }
}

function rememberStart(runId, asked) {
  const starts = readStarts().filter(([id]) => id !== runId);
  starts.push([runId, asked]);
  localStorage.setItem(STARTS_KEY, JSON.stringify(starts.slice(-STARTS_KEPT)));
}

function startOf(runId) {
  const found = readStarts().find(([id]) => id === runId);
  return found ? found[1] : null;
}

function useCatalog() {
  const [catalog, setCatalog] = useState(null);
  const [problem, setProblem] = useState(null);
  useEffect(() => {
    listWorkflows().then((data) => setCatalog(data.workflows), (error) => setProblem(error.message));
  }, []);
  return { catalog, problem };
}

// The chat's runs by id: fetched, then kept live by frames (an ended run never comes back to life).
function useRuns(chatId, connection) {
  const [runs, setRuns] = useState(null);
  const [problem, setProblem] = useState(null);
  const [version, setVersion] = useState(0);

  const keep = (list) => setRuns((old) => {
    const next = new Map(old || []);
    list.forEach((run) => { if (newer(next.get(run.run_id), run)) next.set(run.run_id, run); });
    return next;
  });

  useEffect(() => connection.subscribe((frame) => {
    if (frame.type === "workflow") keep([frame.run]);
    else if (frame.type === "snapshot") setVersion((v) => v + 1);
  }, { replay: true }), [connection]);

  useEffect(() => {
    let live = true;
    listRuns(chatId)
      .then((data) => { if (live) { keep(data.runs); setProblem(null); } })
      .catch((error) => { if (live) setProblem(error.message); });
    return () => { live = false; };
  }, [chatId, version]);

  const list = runs ? [...runs.values()].sort((a, b) => b.created_at.localeCompare(a.created_at)) : null;
  return { list, keep, problem };
}

function WorkflowsPanel({ chatId, connection }) {
  const { catalog, problem: catalogProblem } = useCatalog();
  const runs = useRuns(chatId, connection);
  const [openId, setOpenId] = useState(null);
  const [draft, setDraft] = useState(EMPTY_DRAFT);
  const [formOpen, setFormOpen] = useState(null); // null: open while the chat has no run

  const runnable = (name) => Boolean(catalog && catalog.some((w) => w.name === name && !w.error));

  async function start(asked) {
    const run = await startRun(chatId, asked);
    rememberStart(run.run_id, { name: asked.name, args: asked.args, budget: asked.budget });
    runs.keep([run]);
    setOpenId(run.run_id);
  }

  function rerunProblem(run) {
    if (startOf(run.run_id) || runnable(run.name)) return null;
    return `No workflow here is named ${run.name}: it was started from a script`;
  }

  // Asked the same as before when this page started it; otherwise the form, its args to give again.
  async function rerun(run) {
    const asked = startOf(run.run_id);
    if (asked) return start({ ...asked, resume_from: run.run_id });
    setDraft({ name: run.name, args: "", budget: run.budget == null ? "" : String(run.budget), resumeFrom: run.run_id });
    setFormOpen(true);
    setOpenId(null);
    return undefined;
  }

  if (openId) {
    return html`<${RunView} key=${openId} runId=${openId} connection=${connection} rerunProblem=${rerunProblem}
      onBack=${() => setOpenId(null)} onOpenRun=${setOpenId} onRerun=${rerun} />`;
  }
  const problem = catalogProblem || runs.problem;
  const list = runs.list || [];
  return html`
    <div class="workflows">
      ${problem && html`<div class="banner error" role="alert">${problem}</div>`}
      <details class="wf-start" open=${formOpen ?? (runs.list !== null && list.length === 0)}
        onToggle=${(e) => setFormOpen(e.currentTarget.open)}>
        <summary>Start a workflow</summary>
        ${catalog
          ? html`<${StartForm} catalog=${catalog} draft=${draft} setDraft=${setDraft} onStart=${start} />`
          : !catalogProblem && html`<p class="hint">Loading the workflows…</p>`}
      </details>
      ${runs.list && list.length === 0 && html`<p class="hint">No runs in this chat yet. A workflow is a script
        that hands work to many agents at once; start one above, or ask the agent to run one.</p>`}
      <ul class="wf-runs" aria-label="runs">
        ${list.map((run) => html`<${RunRow} key=${run.run_id} run=${run} onOpen=${() => setOpenId(run.run_id)} />`)}
      </ul>
    </div>`;
}

function RunRow({ run, onOpen }) {
  const ms = run.started_at && run.finished_at ? Date.parse(run.finished_at) - Date.parse(run.started_at) : null;
  return html`
    <li class=${`agent wf-run-row status-${run.status}`} data-run-id=${run.run_id} data-status=${run.status}>
      <div class="agent-head">
        <button class="agent-open" onClick=${onOpen} title="Show its agents, log and result">${run.name}</button>
        <${StatusBadge} status=${run.status} />
      </div>
      <div class="agent-figures">
        <span title=${new Date(run.created_at).toLocaleString()}>${formatDate(run.created_at)}</span>
        ${ms !== null && html`<span>${formatDuration(ms)}</span>`}
        ${run.resume_from && html`<span class="wf-resumed">re-run</span>`}
        ${ACTIVE.has(run.status) && html`<span>running…</span>`}
      </div>
    </li>`;
}

// "" -> no args; anything else must parse as JSON.
function parseArgs(text) {
  if (!text.trim()) return { value: undefined, error: null };
  try {
    return { value: JSON.parse(text), error: null };
  } catch (error) {
    return { value: undefined, error: `Args must be JSON: ${error.message}` };
  }
}

function parseBudget(text) {
  if (!text.trim()) return { value: undefined, error: null };
  const value = Number(text);
  if (Number.isInteger(value) && value >= 1) return { value, error: null };
  return { value: undefined, error: "The budget is a whole number of output tokens, 1 or more." };
}

function StartForm({ catalog, draft, setDraft, onStart }) {
  const [sending, setSending] = useState(false);
  const [problem, setProblem] = useState(null);
  const usable = catalog.filter((w) => !w.error);
  const broken = catalog.filter((w) => w.error);
  const name = draft.name || (usable[0] ? usable[0].name : "");
  const chosen = usable.find((w) => w.name === name);
  const args = parseArgs(draft.args);
  const budget = parseBudget(draft.budget);
  const change = (edit) => { setDraft({ ...draft, ...edit }); setProblem(null); };

  async function submit(event) {
    event.preventDefault();
    if (!chosen || args.error || budget.error || sending) return;
    setSending(true);
    try {
      await onStart({ name, args: args.value, budget: budget.value, resume_from: draft.resumeFrom ?? undefined });
      setDraft({ ...draft, name, resumeFrom: null });
    } catch (error) {
      setProblem(error.message); // a refusal: one line saying why
    } finally {
      setSending(false);
    }
  }

  return html`
    <form class="wf-form" onSubmit=${submit}>
      <label class="wf-field">Workflow
        <select aria-label="workflow" value=${name} onChange=${(e) => change({ name: e.target.value })}>
          ${catalog.map((w) => html`
            <option key=${`${w.source}/${w.name}`} value=${w.name} disabled=${Boolean(w.error)}>
              ${w.name} · ${w.source}${w.error ? " · does not load" : ""}</option>`)}
        </select>
      </label>
      ${chosen && html`
        <div class="wf-about" aria-label="about the workflow">
          ${chosen.description && html`<p>${chosen.description}</p>`}
          ${chosen.when_to_use && html`<p class="hint">Use it for ${chosen.when_to_use}</p>`}
        </div>`}
      ${!chosen && name && html`<p class="banner error" role="alert">No workflow here can run as ${name}.</p>`}
      ${broken.length > 0 && html`
        <details class="wf-broken">
          <summary>${broken.length === 1 ? "1 workflow does not load" : `${broken.length} workflows do not load`}</summary>
          <ul>${broken.map((w) => html`<li key=${w.path}><strong>${w.name}</strong> <code>${w.path}</code><div class="wf-broken-error">${w.error}</div></li>`)}</ul>
        </details>`}
      <label class="wf-field">Args (JSON, optional)
        <textarea aria-label="args" rows="3" spellcheck="false" placeholder='{"question": "how are turns resumed?"}'
          aria-invalid=${Boolean(args.error)} value=${draft.args} onInput=${(e) => change({ args: e.target.value })}></textarea>
      </label>
      ${args.error && html`<p class="wf-invalid" role="alert">${args.error}</p>`}
      <label class="wf-field wf-budget-field">Budget (output tokens, optional)
        <input aria-label="budget" type="text" inputmode="numeric" placeholder="no limit"
          aria-invalid=${Boolean(budget.error)} value=${draft.budget} onInput=${(e) => change({ budget: e.target.value })} />
      </label>
      ${budget.error && html`<p class="wf-invalid" role="alert">${budget.error}</p>`}
      ${draft.resumeFrom && html`
        <p class="wf-resume-note" role="note">Re-run of <code>${draft.resumeFrom}</code>: agents asked the same
          as in it come back cached. This page did not start it, so give its args again.
          <button type="button" class="link" aria-label="not a re-run" onClick=${() => change({ resumeFrom: null })}>✕</button></p>`}
      ${problem && html`<div class="banner error wf-refused" role="alert">${problem}</div>`}
      <button type="submit" class="wf-submit" disabled=${sending || !chosen || Boolean(args.error || budget.error)}>
        ${sending ? "Starting…" : draft.resumeFrom ? "Re-run" : "Start"}</button>
    </form>`;
}

registerPanel({ id: "workflows", title: "Workflows", component: WorkflowsPanel, order: 17 });
