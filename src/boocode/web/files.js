// The coder pane: files the agent wrote in this chat, each with the diff of its latest write.
// It reloads whenever the chat is redrawn (a snapshot: connect, restore, branch switch) or a
// turn ends.
import { api } from "./api.js";
import { html } from "./html.js";
import { useLiveFetch } from "./live_fetch.js";
import { registerPanel } from "./panels.js";

function FilesPanel({ chatId, connection }) {
  const { data, problem } = useLiveFetch(connection, () => api(`/api/chats/${chatId}/files`), [chatId]);

  if (problem) return html`<div class="sessions"><div class="banner error" role="alert">${problem}</div></div>`;
  if (!data) return html`<div class="sessions"><p class="hint">Loading files…</p></div>`;
  return html`
    <div class="sessions files-panel">
      ${data.files.length === 0 && html`<p class="hint">The agent has not changed any file in this chat.</p>`}
      ${data.files.map((file) => html`<${FileEntry} key=${file.path} file=${file} />`)}
    </div>`;
}

function FileEntry({ file }) {
  return html`
    <details class="touched-file" data-path=${file.path}>
      <summary>
        <code class="touched-path">${file.path}</code>
        ${file.created && html`<span class="badge">new</span>`}
        ${file.deleted && html`<span class="badge">deleted</span>`}
        ${file.changed_since && html`<span class="badge warn" title="The file on disk differs from the agent's last write">changed since</span>`}
        <span class="touched-meta">turn ${file.last_turn} · ${file.writes} write${file.writes === 1 ? "" : "s"}</span>
      </summary>
      <pre class="diff">${file.diff.split("\n").map((line, i) => html`<span key=${i} class=${diffClass(line)}>${line}\n</span>`)}</pre>
    </details>`;
}

function diffClass(line) {
  if (line.startsWith("+++") || line.startsWith("---")) return "diff-file";
  if (line.startsWith("@@")) return "diff-hunk";
  if (line.startsWith("+")) return "diff-add";
  if (line.startsWith("-")) return "diff-del";
  return "diff-ctx";
}

registerPanel({ id: "files", title: "Files", component: FilesPanel, order: 30 });
