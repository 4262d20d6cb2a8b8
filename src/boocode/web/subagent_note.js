// A subagent's report in the parent conversation: the notification message the server appends
// when subagents end (role "user", tool_name "subagent_notification") is drawn as a compact
// card per subagent — "helper a finished — succeeded" — with its answer folded, not as if the
// user had typed it. "Open" shows that subagent in the Agents panel.
import { formatDuration } from "./format.js";
import { html } from "./html.js";
import { Markdown } from "./markdown.js";
import { showPanel } from "./panels.js";
import { textOf } from "./state.js";

export const SUBAGENT_NOTIFICATION = "subagent_notification";
export const OPEN_SUBAGENT_EVENT = "boocode:open-subagent";
const MARKS = { succeeded: "✓", failed: "✗", cancelled: "⊘" };

let pendingOpen = null; // asked for while the Agents panel was not on screen

export function openSubagent(taskId) {
  pendingOpen = taskId;
  window.dispatchEvent(new CustomEvent(OPEN_SUBAGENT_EVENT, { detail: { taskId } }));
  showPanel("agents");
}

// The subagent the Agents panel should open, once.
export function takePendingSubagent() {
  const taskId = pendingOpen;
  pendingOpen = null;
  return taskId;
}

export function SubagentNote({ message }) {
  const text = textOf(message.content);
  const reports = parseNotification(text);
  return html`
    <div class="msg subagent-note" role="note" aria-label="subagent report">
      ${reports.length
        ? reports.map((report) => html`<${Report} key=${report.taskId} report=${report} />`)
        : html`<div class="subagent-report"><div class="plain">${text}</div></div>`}
    </div>`;
}

function Report({ report }) {
  const lines = report.answer ? report.answer.split("\n").length : 0;
  return html`
    <div class=${`subagent-report status-${report.status}`} data-status=${report.status} data-task-id=${report.taskId}>
      <div class="subagent-report-head">
        <span class="subagent-report-tag">${MARKS[report.status] || "•"} subagent</span>
        <span class="subagent-report-title"><strong>${report.label}</strong> finished — ${report.status}</span>
        <span class="subagent-report-time">${formatDuration(report.elapsedS * 1000)}</span>
        <button class="link subagent-report-open" onClick=${() => openSubagent(report.taskId)}>Open</button>
      </div>
      ${report.error && html`<div class="subagent-report-error">${report.error}</div>`}
      ${report.worktree && html`<pre class="subagent-report-worktree">${report.worktree}</pre>`}
      ${report.answer
        ? html`<details class="subagent-report-answer"><summary>answer · ${lines} line${lines === 1 ? "" : "s"}</summary>
            <${Markdown} text=${report.answer} /></details>`
        : html`<div class="subagent-report-none">no answer</div>`}
    </div>`;
}

// The server's notification format (subagents/notify.py): per subagent a header line
// `[subagent <status>] task_id=<id> label="<label>" (<seconds> s)`, then optional `error: …`
// and `worktree: …` lines, then `answer:\n<answer>` or `answer: (none)`.
const HEADER = /^\[subagent (\w+)\] task_id=(\S+) label="(.*)" \(([\d.]+) s\)$/gm;

export function parseNotification(text) {
  const heads = [...text.matchAll(HEADER)];
  return heads.map((head, i) => {
    const end = i + 1 < heads.length ? heads[i + 1].index : text.length;
    const body = text.slice(head.index + head[0].length, end).replace(/^\n/, "").replace(/\n+$/, "");
    return { status: head[1], taskId: head[2], label: head[3], elapsedS: Number(head[4]), ...sections(body) };
  });
}

function sections(body) {
  const answerAt = body.search(/^answer:/m);
  const before = answerAt === -1 ? body : body.slice(0, answerAt);
  const worktreeAt = before.search(/^worktree: /m);
  return {
    error: (worktreeAt === -1 ? before : before.slice(0, worktreeAt)).replace(/^error: /, "").trim(),
    worktree: worktreeAt === -1 ? "" : before.slice(worktreeAt + "worktree: ".length).trim(),
    answer: answerAt === -1 ? "" : body.slice(answerAt).replace(/^answer:(?: \(none\)$|\n)/, ""),
  };
}
