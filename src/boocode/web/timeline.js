// The session timeline panel: every turn of the chat, restore to a turn, switch branches.
//
// A click on a turn scrolls the chat to the element `#turn-<n>` (drawn by chat.js) and
// announces `boocode:focus-turn` on window, so the trace viewer can follow.
import { api } from "./api.js";
import { branchName, formatDuration, formatTokens, plural } from "./format.js";
import { html, useState } from "./html.js";
import { useLiveFetch } from "./live_fetch.js";
import { registerPanel } from "./panels.js";

export const fetchTimeline = (chatId, branchId) =>
  api(`/api/chats/${chatId}/timeline${branchId == null ? "" : `?branch_id=${branchId}`}`);

function TimelinePanel({ chatId, connection }) {
  const [viewed, setViewed] = useState(null); // null: the current branch
  const [result, setResult] = useState(null);
  const { data, problem, setProblem, refresh } = useLiveFetch(
    connection, () => fetchTimeline(chatId, viewed), [chatId, viewed],
  );

  async function act(path, body) {
    try {
      setResult(await api(path, { method: "POST", body }));
      setViewed(null);
      setProblem(null);
      refresh();
    } catch (error) {
      setProblem(error.message);
    }
  }

  if (!data) return html`<div class="sessions">${problem ? html`<div class="banner error" role="alert">${problem}</div>` : html`<p class="hint">Loading the timeline…</p>`}</div>`;
  const onCurrent = data.branch_id === data.current_branch_id;
  const lastTurn = data.turns.length ? data.turns[data.turns.length - 1].turn : 0;
  return html`
    <div class="sessions timeline-panel">
      ${problem && html`<div class="banner error" role="alert">${problem}</div>`}
      ${result && html`<${SwitchResult} result=${result} branches=${data.branches} onClose=${() => setResult(null)} />`}
      <${BranchSwitcher} data=${data} onView=${(id) => setViewed(id === data.current_branch_id ? null : id)}
        onCheckout=${(restoreFiles) => act(`/api/chats/${chatId}/branches/${data.branch_id}/checkout`, { restore_files: restoreFiles })} />
      ${data.turns.length === 0 && html`<p class="hint">No turns yet. Each turn you send appears here.</p>`}
      <ol class="timeline">
        ${data.turns.map((turn) => html`
          <${TurnItem} key=${turn.turn} turn=${turn} canRestore=${onCurrent && turn.turn < lastTurn}
            laterFiles=${filesAfter(data.turns, turn.turn)}
            onRestore=${(restoreFiles) => act(`/api/chats/${chatId}/restore`, { turn: turn.turn, restore_files: restoreFiles })} />`)}
      </ol>
    </div>`;
}

function BranchSwitcher({ data, onView, onCheckout }) {
  const [restoreFiles, setRestoreFiles] = useState(true);
  if (data.branches.length < 2) return null;
  const viewedIsCurrent = data.branch_id === data.current_branch_id;
  return html`
    <div class="branch-switcher">
      <label>Branch
        <select aria-label="branch" value=${data.branch_id} onChange=${(e) => onView(Number(e.target.value))}>
          ${data.branches.map((b) => html`
            <option key=${b.id} value=${b.id}>${branchLabel(b)}</option>`)}
        </select>
      </label>
      ${!viewedIsCurrent && html`
        <div class="branch-checkout">
          <label class="check"><input type="checkbox" checked=${restoreFiles}
            onChange=${(e) => setRestoreFiles(e.target.checked)} /> also put the agent's files back</label>
          <button class="primary" onClick=${() => onCheckout(restoreFiles)}>Continue on this branch</button>
        </div>`}
    </div>`;
}

function branchLabel(branch) {
  const current = branch.current ? " · current" : "";
  return `${branchName(branch)} · ${plural(branch.turns, "turn")}${current}`;
}

function TurnItem({ turn, canRestore, laterFiles, onRestore }) {
  const [confirming, setConfirming] = useState(false);
  const [restoreFiles, setRestoreFiles] = useState(true);
  return html`
    <li class=${`timeline-turn status-${turn.status || "unknown"}`} data-turn=${turn.turn}>
      <button class="timeline-jump" onClick=${() => focusTurn(turn.turn)} title="Show this turn in the chat">
        <span class="timeline-number">${turn.turn}</span>
        <span class="timeline-prompt">${turn.prompt || "(no text)"}</span>
      </button>
      <div class="timeline-meta">
        <span>${plural(turn.tool_calls, "tool call")}${turn.tool_errors ? ` (${turn.tool_errors} failed)` : ""}</span>
        <span class="timeline-tokens">${formatTokens(turn.tokens)}</span>
        ${turn.duration_ms != null && html`<span class="timeline-duration">${formatDuration(turn.duration_ms)}</span>`}
        <span class="timeline-status">${turn.status || "—"}</span>
      </div>
      ${canRestore && !confirming && html`
        <button class="timeline-restore" onClick=${() => setConfirming(true)}>Restore to here</button>`}
      ${confirming && html`
        <div class="restore-confirm">
          <p>Continue the chat from the state after turn ${turn.turn}. The later turns stay on a branch you can return to.</p>
          ${laterFiles.length > 0 && html`
            <label class="check"><input type="checkbox" checked=${restoreFiles}
              onChange=${(e) => setRestoreFiles(e.target.checked)} />
              put back the files the agent changed after this turn: ${laterFiles.join(", ")}</label>`}
          <button class="primary" onClick=${() => { setConfirming(false); onRestore(restoreFiles && laterFiles.length > 0); }}>Restore</button>
          <button onClick=${() => setConfirming(false)}>Cancel</button>
        </div>`}
    </li>`;
}

function SwitchResult({ result, branches, onClose }) {
  const skipped = result.files.filter((f) => f.action === "skipped");
  const name = (id) => branchName(branches.find((b) => b.id === id) || { id });
  return html`
    <div class="switch-result" role="status">
      <div class="switch-result-head">
        <strong>Now on “${name(result.branch_id)}”, after turn ${result.turn}.</strong>
        <button class="link" aria-label="dismiss" onClick=${onClose}>✕</button>
      </div>
      <div class="switch-result-kept">“${name(result.previous_branch_id)}” is kept: pick it in the branch list to go back.</div>
      ${result.files.length > 0 && html`
        <ul class="file-outcomes">
          ${result.files.map((f) => html`<li key=${f.path} class=${`file-${f.action}`}><code>${f.path}</code> <span class="file-action">${f.action}</span>${f.reason ? html` <span class="hint">${f.reason}</span>` : ""}</li>`)}
        </ul>`}
      ${skipped.length > 0 && html`<div class="hint">Skipped files were left exactly as they are.</div>`}
    </div>`;
}

function filesAfter(turns, number) {
  const paths = new Set();
  for (const turn of turns) if (turn.turn > number) turn.files.forEach((p) => paths.add(p));
  return [...paths].sort();
}

export function focusTurn(number) {
  const target = document.getElementById(`turn-${number}`);
  if (target) {
    target.scrollIntoView({ behavior: "smooth", block: "start" });
    target.classList.add("turn-focused");
    setTimeout(() => target.classList.remove("turn-focused"), 1500);
  }
  window.dispatchEvent(new CustomEvent("boocode:focus-turn", { detail: { turn: number } }));
}

registerPanel({ id: "timeline", title: "Timeline", component: TimelinePanel, order: 20 });
