// The auto-fix panel: the chat's on/off switch, the command that runs after the agent writes
// (and why it was chosen), and an "auto-fix" marker for every turn in which a check ran.
// State comes from GET /api/chats/{id}/autofix; live `autofix` frames update the runs, and a
// snapshot or a turn's end reloads the state.
import { api } from "./api.js";
import { html, useEffect, useState } from "./html.js";
import { inline } from "./markdown.js";
import { registerPanel } from "./panels.js";

const RELOAD_ON = new Set(["snapshot", "turn_end"]);

export const getAutofix = (chatId) => api(`/api/chats/${chatId}/autofix`);
export const setAutofix = (chatId, enabled) =>
  api(`/api/chats/${chatId}/autofix`, { method: "PUT", body: { enabled } });

// A finished run replaces the same command's running entry in its turn; a new one is added.
export function withRun(runs, run) {
  const index = runs.findLastIndex(
    (r) => r.turn === run.turn && r.status === "running" && r.command.join("\0") === run.command.join("\0"),
  );
  if (index === -1) return [...runs, run];
  return runs.map((r, i) => (i === index ? run : r));
}

function AutofixPanel({ chatId, connection }) {
  const [state, setState] = useState(null);
  const [problem, setProblem] = useState(null);
  const [saving, setSaving] = useState(false);
  const [version, setVersion] = useState(0);

  useEffect(() => connection.subscribe((frame) => {
    if (frame.type === "autofix") {
      setState((s) => (s ? { ...s, runs: withRun(s.runs, frame.run) } : s));
    } else if (RELOAD_ON.has(frame.type)) {
      setVersion((v) => v + 1);
    }
  }), [connection]);

  useEffect(() => {
    let live = true;
    getAutofix(chatId)
      .then((data) => { if (live) { setState(data); setProblem(null); } })
      .catch((error) => { if (live) setProblem(error.message); });
    return () => { live = false; };
  }, [chatId, version]);

  async function change(enabled) {
    setSaving(true);
    try {
      setState(await setAutofix(chatId, enabled));
      setProblem(null);
    } catch (error) {
      setProblem(error.message);
    } finally {
      setSaving(false);
    }
  }

  if (!state) {
    return html`<div class="autofix">
      ${problem ? html`<div class="banner error" role="alert">${problem}</div>` : html`<p class="hint">Loading auto-fix…</p>`}
    </div>`;
  }
  const runnable = state.commands.length > 0;
  return html`
    <div class="autofix">
      ${problem && html`<div class="banner error" role="alert">${problem}</div>`}
      <label class="autofix-switch">
        <input type="checkbox" role="switch" aria-label="auto-fix for this chat"
          checked=${state.enabled} disabled=${saving || !runnable}
          onChange=${(event) => change(event.currentTarget.checked)} />
        <span>Auto-fix for this chat: <strong>${state.enabled ? "on" : "off"}</strong></span>
      </label>
      ${state.chat_setting !== null && html`
        <button class="link autofix-reset" disabled=${saving} onClick=${() => change(null)}>
          Use the project default (${state.project_enabled ? "on" : "off"})
        </button>`}
      ${runnable && html`
        <div class="autofix-commands">
          ${state.commands.map((argv, i) => html`<code key=${i}>${argv.join(" ")}</code>`)}
        </div>`}
      <p class="autofix-reason">${inline(state.reason)}</p>
      ${runnable && html`
        <p class="hint">Runs after each step in which the agent wrote files; its errors go back to
          the agent, up to ${state.max_attempts} time${state.max_attempts === 1 ? "" : "s"} a turn
          (time limit ${state.timeout_s} s). Set it in <code>.boocode/config.toml</code> under${" "}
          <code>[autofix]</code>.</p>`}
      <${Turns} runs=${state.runs} />
    </div>`;
}

function Turns({ runs }) {
  if (runs.length === 0) return html`<p class="hint autofix-none">No check has run in this chat yet.</p>`;
  const turns = new Map();
  for (const run of runs) turns.set(run.turn, [...(turns.get(run.turn) || []), run]);
  return html`
    <ol class="autofix-turns">
      ${[...turns].reverse().map(([turn, list]) => html`
        <li key=${turn} class="autofix-turn" data-turn=${turn}>
          <div class="autofix-turn-header">
            <span>Turn ${turn}</span>
            <span class=${`badge autofix-marker ${outcomeOf(list)}`}>auto-fix · ${outcomeOf(list).replace("_", " ")}</span>
          </div>
          <ul>${list.map((run, i) => html`<${Run} key=${i} run=${run} />`)}</ul>
        </li>`)}
    </ol>`;
}

function Run({ run }) {
  const mark = { passed: "✓", running: "…", failed: "✗", timed_out: "⏱", unavailable: "?", cancelled: "–" }[run.status];
  const detail = run.status === "failed" ? `exit ${run.exit_code}` : run.status.replace("_", " ");
  return html`
    <li class=${`autofix-run ${run.status}`} data-status=${run.status}>
      <span class="autofix-mark" aria-hidden="true">${mark}</span>
      <code>${run.command.join(" ")}</code>
      <span class="autofix-detail">${detail}${run.duration_ms != null ? ` · ${Math.round(run.duration_ms)} ms` : ""}
        ${run.status === "failed" || run.status === "timed_out" ? ` · attempt ${Math.min(run.attempt, run.max_attempts)} of ${run.max_attempts}` : ""}
        ${run.gave_up ? " · gave up" : ""}</span>
    </li>`;
}

// How a turn's checks ended: its last run decides, and giving up is said as such.
function outcomeOf(runs) {
  const last = runs[runs.length - 1];
  if (runs.some((r) => r.gave_up)) return "gave_up";
  return last.status;
}

registerPanel({ id: "autofix", title: "Auto-fix", component: AutofixPanel, order: 50 });
