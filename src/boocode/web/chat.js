// The chat pane: header (title, model, connection), the conversation, and the composer.
import { cancelTurn, createChat, deleteChat, sendMessage } from "./api.js";
import { AttachmentTray, dropTarget, MessageAttachments, useAttachments } from "./attachments.js";
import { html, useEffect, useLayoutEffect, useReducer, useRef, useState } from "./html.js";
import { DiffStats, DiffView, editPatch } from "./diff_view.js";
import { Folded } from "./fold.js";
import { plural } from "./format.js";
import { AttachIcon } from "./icons.js";
import { showTurnFiles } from "./files.js";
import { highlight, inline, languageOfPath, Markdown } from "./markdown.js";
import { applyFrame, EMPTY_CHAT, textOf, toolResults } from "./state.js";
import { useSubagentAlerts } from "./subagent_alerts.js";
import { openSubagent, SUBAGENT_NOTIFICATION, SubagentNote } from "./subagent_note.js";

const AUTOFIX = "autofix"; // tool_name of the user-role messages auto-fix adds for the model
const AUTOFIX_OPEN_LINES = 8; // a longer check output starts folded
// A streaming answer longer than this is redrawn at most every STREAM_RENDER_MS.
const THROTTLE_FROM_CHARS = 8000;
const STREAM_RENDER_MS = 200;

const STATUS_TEXT = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  unauthorized: "not authorised",
  "not-found": "chat not found",
};

export function ChatPane({ chatId, connection, listed, onActivity }) {
  const [state, dispatch] = useReducer(applyFrame, EMPTY_CHAT);
  const [status, setStatus] = useState(connection.status);
  const [problem, setProblem] = useState(null);

  useEffect(() => connection.subscribe(dispatch, { replay: true }), [connection]);
  useEffect(() => connection.onStatus(setStatus), [connection]);
  useSubagentAlerts(connection);
  useEffect(() => {
    if (state.ended) onActivity();
  }, [state.ended]);

  const chat = { ...(state.chat || {}), ...(listed || {}) };
  const busy = state.turn !== null;

  useEffect(() => {
    document.title = `${busy ? "● " : ""}${chat.title || "Chat"} · BooCode`;
  }, [busy, chat.title]);
  useEffect(() => () => { document.title = "BooCode"; }, []);

  async function send(content, attachments) {
    setProblem(null);
    try {
      await sendMessage(chatId, content, attachments);
      onActivity();
      return true;
    } catch (error) {
      setProblem(error.message);
      return false;
    }
  }

  async function stop() {
    try {
      await cancelTurn(chatId);
    } catch (error) {
      setProblem(error.message);
    }
  }

  return html`
    <section class="chat" aria-label="chat">
      <${ChatHeader} chat=${chat}>
        <span class=${`conn conn-${status}`} role="status" aria-live="polite">
          <span class="dot"></span>${STATUS_TEXT[status] || status}
        </span>
      <//>
      ${status === "reconnecting" && html`
        <div class="banner warn" role="status">The server cannot be reached; reconnecting… What is stored is safe, and the chat catches up when the server is back.</div>`}
      <${Conversation} state=${state} />
      ${problem && html`
        <div class="banner error" role="alert">
          <span>${problem}</span>
          <button class="link" onClick=${() => setProblem(null)} aria-label="dismiss">✕</button>
        </div>`}
      <${Composer} chatId=${chatId} busy=${busy} onSend=${send} onStop=${stop} />
    </section>
  `;
}

function ChatHeader({ chat, children }) {
  return html`
    <header class="chat-header">
      <h1 class="chat-title" title=${chat.title}>${chat.title || "…"}</h1>
      <div class="chat-meta">
        ${chat.workspace && html`<code class="chat-workspace" title=${`The agent works in ${chat.workspace}`}>${baseName(chat.workspace)}</code>`}
        ${chat.model_label && html`<span class="model" title="model">${chat.model_label}</span>`}
        ${chat.is_demo && html`<span class="badge demo" title="no language model is called">demo model</span>`}
        ${children}
      </div>
    </header>`;
}

// A chat not stored yet: it is created when its first message is sent, so an unused
// "+ New chat" leaves nothing behind.
export function DraftChat({ info, onCreated }) {
  const [problem, setProblem] = useState(null);
  const stored = useRef(null);
  useEffect(() => { document.title = "New chat · BooCode"; }, []);
  // Stored on the first message, or on the first attached file, which needs a chat to go to.
  const chatId = async () => (await (stored.current ??= createChat())).id;

  async function send(content, attachments) {
    setProblem(null);
    let id = null;
    try {
      id = await chatId();
      await sendMessage(id, content, attachments);
      onCreated();
      location.hash = `#/chats/${id}`;
      return true;
    } catch (error) {
      if (id && !attachments.length) {
        deleteChat(id).catch(() => {}); // refused message: keep no empty chat
        stored.current = null;
      }
      setProblem(error.message);
      return false;
    }
  }

  return html`
    <div class="chat-view">
      <section class="chat" aria-label="chat">
        <${ChatHeader} chat=${{ title: "New chat", ...(info || {}) }} />
        <div class="conversation"><div class="conversation-inner">
          <p class="hint">Ask about the code in this workspace. The agent can list, read and edit files and run commands.</p>
        </div></div>
        ${problem && html`<div class="banner error" role="alert">${problem}</div>`}
        <${Composer} chatId=${chatId} busy=${false} onSend=${send} />
      </section>
    </div>`;
}

// Follows the end of the conversation while the reader is there; scrolling up stops following,
// and "Jump to latest" (or scrolling back down) starts it again.
function Conversation({ state }) {
  const scroller = useRef(null);
  const inner = useRef(null);
  const [following, setFollowing] = useState(true);
  const follow = useRef(true);
  const lastTop = useRef(0);
  const live = state.turn !== null;

  function atEnd(el) {
    return el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  }
  function toBottom() {
    const el = scroller.current;
    if (!el) return;
    // The reader scrolled up since the last time this view moved, and the scroll event has not
    // arrived yet: their scroll wins over the stream's growth.
    if (el.scrollTop < lastTop.current - 1 && !atEnd(el)) {
      setFollow(false);
      return;
    }
    el.scrollTop = el.scrollHeight;
    lastTop.current = el.scrollTop;
  }
  function setFollow(value) {
    follow.current = value;
    setFollowing(value);
  }

  // Before the browser paints: the reader never sees the view fall behind.
  useLayoutEffect(() => {
    if (follow.current) toBottom();
  });
  useEffect(() => {
    // Content also grows without a render (images load, code is highlighted).
    const observer = new ResizeObserver(() => { if (follow.current) toBottom(); });
    observer.observe(inner.current);
    return () => observer.disconnect();
  }, []);

  function onScroll() {
    const el = scroller.current;
    if (atEnd(el)) setFollow(true);
    else if (el.scrollTop < lastTop.current) setFollow(false); // the reader scrolled up
    lastTop.current = el.scrollTop;
  }

  const empty = state.chat && state.messages.length === 0 && !live;
  return html`
    <div class="conversation-box">
    ${!following && html`
      <button class="jump-latest" onClick=${() => { setFollow(true); lastTop.current = 0; toBottom(); }}>
        ${live ? "↓ Jump to latest (answer in progress)" : "↓ Jump to latest"}</button>`}
    <div class="conversation" ref=${scroller} onScroll=${onScroll}>
      <div class="conversation-inner" ref=${inner}>
        ${empty && html`<p class="hint">Ask about the code in this workspace. The agent can list, read and edit files and run commands.</p>`}
        <${Transcript} state=${state} />
      </div>
    </div>
    </div>
  `;
}

// The messages of a conversation and the turn streaming now: a chat's, or a subagent's
// (`anchored` false: its turns get no `#turn-<n>` ids, those are the chat's).
export function Transcript({ state, anchored = true }) {
  const results = toolResults(state.messages);
  const live = state.turn !== null;
  return html`
    ${state.messages.map((m) => html`<${MessageView} key=${m.id} message=${m} results=${results} live=${live} anchored=${anchored} />`)}
    ${live && html`<${StreamingTurn} turn=${state.turn} />`}
    ${state.ended && state.ended.status === "cancelled" && html`<p class="note">Stopped.</p>`}
    ${state.errors.map((e, i) => html`<div key=${i} class="banner error turn-error" role="alert">${e.message}</div>`)}`;
}

function MessageView({ message, results, live, anchored }) {
  if (message.role === "user" && message.tool_name === AUTOFIX) return html`<${AutofixNote} message=${message} />`;
  if (message.role === "user" && message.tool_name === SUBAGENT_NOTIFICATION) return html`<${SubagentNote} message=${message} />`;
  if (message.role === "user") {
    return html`
      <div class="msg user" id=${anchored ? `turn-${message.turn}` : undefined}>
        <div class="bubble">
          <${MessageAttachments} message=${message} />
          <${Folded} text=${textOf(message.content)}><div class="plain">${textOf(message.content)}</div><//>
        </div>
      </div>`;
  }
  if (message.role !== "assistant") return null;
  const text = textOf(message.content);
  return html`
    <div class="msg assistant">
      ${message.reasoning && html`<${Reasoning} text=${message.reasoning} />`}
      ${text && html`<${Folded} text=${text}><${Markdown} text=${text} /><//>`}
      ${message.tool_calls.map((call) => html`
        <${ToolCall} key=${call.id} call=${call} result=${results.get(call.id)} live=${live} turn=${message.turn} />`)}
    </div>`;
}

// The agent's own check speaking, not the user: a compact note with its output, folded when long.
function AutofixNote({ message }) {
  const { status, summary, output } = parseAutofix(textOf(message.content));
  const lines = output ? output.split("\n").length : 0;
  const long = lines > AUTOFIX_OPEN_LINES || output.length > 600;
  return html`
    <div class=${`msg autofix-note autofix-${status}`} data-status=${status} role="note" aria-label="auto-fix">
      <div class="autofix-note-head">
        <span class="autofix-note-tag">${status === "passed" ? "✓" : "✗"} auto-fix</span>
        <span class="autofix-note-summary">${inline(summary)}</span>
      </div>
      ${output && (long
        ? html`<details class="autofix-note-output"><summary>output · ${lines} lines</summary><pre>${output}</pre></details>`
        : html`<pre class="autofix-note-output">${output}</pre>`)}
    </div>`;
}

function StreamingTurn({ turn }) {
  const waiting = !turn.text && !turn.reasoning;
  const text = useThrottled(turn.text, STREAM_RENDER_MS);
  return html`
    <div class="msg assistant streaming" aria-busy="true" data-streamed=${text.length}>
      ${turn.reasoning && html`<${Reasoning} text=${turn.reasoning} open=${!turn.text} />`}
      ${text && html`<${Markdown} text=${text} />`}
      ${waiting ? html`<p class="thinking"><span class="spinner"></span>Working…</p>` : html`<span class="caret"></span>`}
    </div>`;
}

// `value`, but changed at most once per `ms`: a long answer is re-parsed as it streams.
function useThrottled(value, ms) {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = last.current + ms - Date.now();
    if (wait <= 0 || value.length < THROTTLE_FROM_CHARS) {
      last.current = Date.now();
      setShown(value);
      return undefined;
    }
    const timer = setTimeout(() => { last.current = Date.now(); setShown(value); }, wait);
    return () => clearTimeout(timer);
  }, [value]);
  return value.length < THROTTLE_FROM_CHARS ? value : shown;
}

function Reasoning({ text, open = false }) {
  return html`
    <details class="reasoning" open=${open}>
      <summary>Reasoning</summary>
      <div class="plain">${text}</div>
    </details>`;
}

function ToolCall({ call, result, live, turn }) {
  const state = result
    ? result.cancelled ? "cancelled" : result.is_error ? "failed" : "done"
    : live ? "running" : "not run";
  const mark = { done: "✓", failed: "✗", cancelled: "⊘", running: "", "not run": "–" }[state];
  const args = parseArguments(call.arguments);
  const change = args && FILE_CHANGES[call.name] ? FILE_CHANGES[call.name](args) : null;
  const output = result ? textOf(result.content) : "";
  return html`
    <details class=${`tool tool-${state.replace(" ", "-")}`} open=${change !== null && state !== "failed"}>
      <summary>
        ${state === "running" ? html`<span class="spinner"></span>` : html`<span class="mark">${mark}</span>`}
        <span class="tool-name">${call.name}</span>
        <code class="tool-args">${change ? change.path : shortArguments(call.arguments)}</code>
        ${change && change.patch && html`<${DiffStats} patch=${change.patch} />`}
        <span class="tool-state">${state}</span>
      </summary>
      <div class="tool-body">
        ${change ? html`<${FileChange} change=${change} turn=${turn} />` : html`
          <div class="label">arguments</div>
          <pre class="code">${prettyJson(call.arguments)}</pre>`}
        ${result && html`<div class="label">result</div>
          <${Folded} text=${output}><pre class="code tool-output">${output}</pre><//>`}
        ${call.name === "spawn_subagent" && result && !result.is_error && html`<${SpawnedLink} output=${output} />`}
      </div>
    </details>`;
}

// A spawn_subagent call answers `{"task_id": …, "label": …}`: a way to watch that subagent.
function SpawnedLink({ output }) {
  const spawned = parseJson(output);
  if (!spawned || typeof spawned.task_id !== "string") return null;
  return html`<button class="link open-files" onClick=${() => openSubagent(spawned.task_id)}>watch ${spawned.label || "it"} in Agents →</button>`;
}

// What a file tool call changes, drawn as a diff (edit_file) or as the new contents (write_file).
const FILE_CHANGES = {
  edit_file: ({ path, old_string: before, new_string: after }) =>
    typeof before === "string" && typeof after === "string" ? { path, patch: editPatch(path, before, after) } : null,
  write_file: ({ path, content }) => (typeof content === "string" ? { path, content } : null),
};

function FileChange({ change, turn }) {
  const files = html`<button class="link open-files" onClick=${() => showTurnFiles(turn)}>net change of turn ${turn} in Files →</button>`;
  if (change.patch) return html`<${Folded} text=${change.patch}><${DiffView} patch=${change.patch} /><//>${files}`;
  const language = languageOfPath(change.path);
  return html`
    <div class="label">new contents · ${plural(change.content.split("\n").length, "line")}</div>
    <${Folded} text=${change.content}>
      <pre class="code"><code class="hljs" dangerouslySetInnerHTML=${{ __html: highlight(change.content, language) }}></code></pre>
    <//>${files}`;
}

function Composer({ chatId, busy, onSend, onStop }) {
  const [text, setText] = useState("");
  const tray = useAttachments(chatId);
  const [sending, setSending] = useState(false);
  const fileInput = useRef(null);
  const textarea = useRef(null);
  useEffect(() => { textarea.current.focus(); }, []);

  async function submit(event) {
    event.preventDefault();
    if (busy || sending || tray.busy || !text.trim()) return;
    setSending(true);
    const sent = await onSend(text, tray.ids());
    setSending(false);
    if (sent) {
      setText("");
      tray.clear();
    }
  }

  function onKeyDown(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) submit(event);
  }

  return html`
    <form class="composer" onSubmit=${submit} ...${dropTarget(tray)}>
      <${AttachmentTray} tray=${tray} />
      <div class="composer-row">
        <button type="button" class="icon" title="Attach images or text files (or paste, or drop them here)"
          aria-label="attach files" onClick=${() => fileInput.current.click()}><${AttachIcon} /></button>
        <input ref=${fileInput} type="file" multiple hidden aria-label="files to attach"
          onChange=${(e) => { tray.add(e.target.files); e.target.value = ""; }} />
        <textarea
          ref=${textarea}
          rows="1"
          placeholder=${busy ? "The agent is working…" : "Ask BooCode…"}
          title="Enter sends, Shift+Enter starts a new line"
          value=${text}
          onInput=${(e) => setText(e.target.value)}
          onKeyDown=${onKeyDown}
          aria-label="message"
        ></textarea>
        ${busy
          ? html`<button type="button" class="stop" onClick=${onStop}>Stop</button>`
          : html`<button type="submit" class="send" disabled=${sending || tray.busy || !text.trim()}>Send</button>`}
      </div>
    </form>`;
}

// "Auto-fix: `cmd` failed (exit 1) after … \n\n```\noutput\n```" -> its parts.
function parseAutofix(text) {
  const body = text.replace(/^Auto-fix:\s*/, "");
  const split = body.indexOf("\n\n");
  const summary = split === -1 ? body : body.slice(0, split);
  const rest = split === -1 ? "" : body.slice(split + 2);
  const fenced = rest.match(/^(`{3,})\n?([\s\S]*?)\n?\1\s*$/);
  const output = (fenced ? fenced[2] : rest).replace(/\s+$/, "");
  const status = /\bpass(es)? now\b/.test(summary) ? "passed" : /\bstill\b/.test(summary) ? "gave-up" : "failed";
  return { status, summary, output };
}

function shortArguments(raw) {
  try {
    const entries = Object.entries(JSON.parse(raw));
    const show = (v) => (typeof v === "string" ? v : JSON.stringify(v));
    const text = entries.length === 1
      ? show(entries[0][1])
      : entries.map(([k, v]) => `${k}=${show(v)}`).join(" ");
    return text.length > 80 ? `${text.slice(0, 79)}…` : text;
  } catch {
    return raw.slice(0, 80);
  }
}

function parseArguments(raw) {
  const value = parseJson(raw);
  return value && typeof value === "object" && typeof value.path === "string" ? value : null;
}

function parseJson(raw) {
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}

function prettyJson(raw) {
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}

function baseName(path) {
  return path.replace(/[\\/]+$/, "").split(/[\\/]/).pop() || path;
}
