// The coder pane: files the agent wrote in this chat, or in one turn, each with the net diff of
// those writes. It reloads whenever the chat is redrawn (a snapshot: connect, restore, branch
// switch) or a turn ends.
import { api } from "./api.js";
import { DiffStats, DiffView } from "./diff_view.js";
import { Folded } from "./fold.js";
import { plural } from "./format.js";
import { html, useEffect, useState } from "./html.js";
import { useLiveFetch } from "./live_fetch.js";
import { registerPanel, showPanel } from "./panels.js";

const TURN_EVENT = "boocode:files-turn";
let pendingTurn = null; // asked for while the panel was not on screen

// Open the Files panel on the net change of one turn (from a file edit in the chat).
export function showTurnFiles(turn) {
  pendingTurn = turn;
  window.dispatchEvent(new CustomEvent(TURN_EVENT, { detail: { turn } }));
  showPanel("files");
}

function FilesPanel({ chatId, connection }) {
  const [turn, setTurn] = useState(() => { const asked = pendingTurn; pendingTurn = null; return asked; }); // null: the whole chat
  useEffect(() => {
    const onTurn = (event) => { pendingTurn = null; setTurn(event.detail.turn); };
    addEventListener(TURN_EVENT, onTurn);
    return () => removeEventListener(TURN_EVENT, onTurn);
  }, []);
  const { data, problem } = useLiveFetch(
    connection, () => api(`/api/chats/${chatId}/files${turn === null ? "" : `?turn=${turn}`}`), [chatId, turn],
  );

  if (problem) return html`<div class="sessions"><div class="banner error" role="alert">${problem}</div></div>`;
  if (!data) return html`<div class="sessions"><p class="hint">Loading files…</p></div>`;
  return html`
    <div class="sessions files-panel">
      ${data.turns.length > 0 && html`
        <label class="files-scope">Changes of
          <select aria-label="changes of" value=${turn ?? ""} onChange=${(e) => setTurn(e.target.value === "" ? null : Number(e.target.value))}>
            <option value="">the whole chat</option>
            ${[...data.turns].reverse().map((t) => html`<option key=${t} value=${t}>turn ${t}</option>`)}
          </select>
        </label>`}
      ${data.files.length === 0 && html`<p class="hint">${turn === null
        ? "The agent has not changed any file in this chat."
        : `The agent changed no file in turn ${turn}.`}</p>`}
      ${data.files.map((file) => html`<${FileEntry} key=${file.path} file=${file} open=${data.files.length <= 3} />`)}
    </div>`;
}

function FileEntry({ file, open }) {
  return html`
    <details class="touched-file" data-path=${file.path} open=${open}>
      <summary>
        <span class="disclosure" aria-hidden="true"></span>
        <code class="touched-path">${file.path}</code>
        ${file.created && html`<span class="badge">new</span>`}
        ${file.deleted && html`<span class="badge">deleted</span>`}
        ${file.changed_since && html`<span class="badge warn" title="The file on disk differs from the agent's last write">changed since</span>`}
        <${DiffStats} patch=${file.diff} />
        <span class="touched-meta">turn ${file.last_turn} · ${plural(file.writes, "write")}</span>
      </summary>
      <${Folded} text=${file.diff}><${DiffView} patch=${file.diff} /><//>
    </details>`;
}

registerPanel({ id: "files", title: "Files", component: FilesPanel, order: 30 });
