// The trace viewer: per turn of the chat's current branch, a tree of model calls and the tool
// calls they asked for, each with a waterfall bar on the turn's time axis, its latency, tokens
// and outcome; filters, per-turn totals, and a detail that shows what a model call received and
// returned. It loads the newest page from `GET /api/chats/{id}/traces?branch=`, follows
// `tool_trace_start` / `tool_trace_finish` frames live, and fetches older pages as the list is
// scrolled to its end.
import { api } from "./api.js";
import { CacheBar, CacheSummary, TurnCacheRate } from "./cache.js";
import { useNow } from "./clock.js";
import { useChatConnection } from "./connection.js";
import { Folded } from "./fold.js";
import { branchName, formatCount, formatDuration, formatTokens, plural } from "./format.js";
import { html, useEffect, useRef, useState } from "./html.js";
import { useLiveFetch } from "./live_fetch.js";
import { registerPanel } from "./panels.js";
import { fetchTimeline } from "./timeline.js";

const PAGE_SIZE = 100;
const TICK_MS = 250; // redraw running bars this often
// A call that was interrupted by a crash was run again: the turn did not fail because of it.
const FAILED = new Set(["error", "timeout"]);
const OUTCOMES = ["ok", "error", "timeout", "cancelled", "interrupted", "running"];
const KINDS = { llm: "model calls", tool: "tool calls", autofix: "auto-fix checks" };
const NO_FILTER = { kind: "", tool: "", outcome: "", errorsOnly: false };
const FOCUS_EVENT = "boocode:focus-turn"; // fired by the timeline (timeline.js focusTurn)
const FOCUS_FLASH_MS = 1500;

// The turn the timeline last pointed at, kept while this panel is not on screen so that
// opening it shows that turn.
let pendingFocus = null;
addEventListener(FOCUS_EVENT, (event) => { pendingFocus = Number(event.detail?.turn) || null; });
addEventListener("hashchange", () => { pendingFocus = null; }); // another chat: not its turn

// The calls of a chat's current branch: the newest page from storage, kept live by the chat's
// `tool_trace_start` / `tool_trace_finish` frames, older pages on demand with `loadPage(cursor)`.
function useTraceList(chatId, connection, initialBranch = 0) {
  const [branch, setBranch] = useState(initialBranch);
  const [traces, setTraces] = useState(() => new Map());
  const [cursor, setCursor] = useState(undefined); // undefined: first page not loaded yet
  const [loading, setLoading] = useState(false);
  const [problem, setProblem] = useState(null);
  const branchNow = useRef(branch);

  const merge = (items) =>
    setTraces((old) => {
      const next = new Map(old);
      // A frame may arrive after a newer state of the same call was fetched: keep the finished one.
      items.forEach((t) => {
        const known = next.get(t.id);
        if (!known || known.outcome === "running" || t.outcome !== "running") next.set(t.id, t);
      });
      return next;
    });

  async function loadPage(from, onBranch = branchNow.current) {
    setLoading(true);
    try {
      const query = new URLSearchParams({ limit: PAGE_SIZE, branch: onBranch });
      if (from) query.set("cursor", from);
      const page = await api(`/api/chats/${chatId}/traces?${query}`);
      merge(page.items);
      setCursor(page.next_cursor);
      setProblem(null);
    } catch (error) {
      setProblem(error.message);
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    loadPage(null);
    return connection.subscribe((frame) => {
      if (frame.type === "tool_trace_start" || frame.type === "tool_trace_finish") {
        if (frame.trace.branch_id === branchNow.current) merge([frame.trace]);
      } else if (frame.type === "snapshot") {
        // Reconnected, restored or switched branch: start again from storage.
        const current = frame.chat.branch_id ?? 0;
        if (current !== branchNow.current) {
          branchNow.current = current;
          setBranch(current);
          setTraces(new Map());
        }
        loadPage(null, current);
      }
    }, { replay: true });
  }, [chatId, connection]);

  const all = [...traces.values()];
  return { branch, traces, all, cursor, loading, problem, loadPage, running: all.some((t) => t.outcome === "running") };
}

// The timeline of the branch shown, as the Timeline panel reads it: the branch's name and each
// turn's run (its duration and tokens), fetched again when a turn ends.
function useBranchTimeline(chatId, connection, branch) {
  const { data } = useLiveFetch(connection, () => fetchTimeline(chatId, branch), [chatId, branch]);
  return data?.branch_id === branch ? data : null;
}

function TracesPanel({ chatId, chat, connection }) {
  const [filter, setFilter] = useState(NO_FILTER);
  const { branch, traces, all, cursor, loading, problem, loadPage, running } = useTraceList(chatId, connection, chat?.branch_id ?? 0);
  const timeline = useBranchTimeline(chatId, connection, branch);
  const branchLabel = branchName(timeline?.branches.find((b) => b.id === branch) || { id: branch });
  const runs = new Map((timeline?.turns || []).map((t) => [t.turn, t]));
  const now = useNow(running, TICK_MS);
  const [focus, setFocus] = useState(() => pendingFocus);
  const root = useRef(null);
  const sentinel = useRef(null);

  useEffect(() => {
    const target = sentinel.current;
    if (!target || !cursor) return undefined;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !loading) loadPage(cursor);
    });
    observer.observe(target);
    return () => observer.disconnect();
  }, [cursor, loading]);

  useEffect(() => {
    const onFocus = (event) => setFocus(Number(event.detail?.turn) || null);
    addEventListener(FOCUS_EVENT, onFocus);
    return () => removeEventListener(FOCUS_EVENT, onFocus);
  }, []);

  // Scroll to the focused turn once its calls are here, paging back through older calls if needed.
  useEffect(() => {
    if (focus === null || cursor === undefined) return;
    const target = root.current?.querySelector(`:scope > .trace-turn[data-turn="${focus}"]`);
    if (target) {
      scrollToTop(target);
      target.classList.add("trace-turn-focused");
      setTimeout(() => target.classList.remove("trace-turn-focused"), FOCUS_FLASH_MS);
    } else if (cursor && !loading) {
      loadPage(cursor);
      return;
    } else if (loading) {
      return;
    }
    pendingFocus = null;
    setFocus(null);
  }, [focus, traces, cursor, loading]);

  const turns = groupByTurn(all);
  const filtering = filter !== NO_FILTER;
  return html`
    <div class="traces" aria-label="traces" ref=${root}>
      ${problem && html`<div class="banner error" role="alert">${problem}</div>`}
      <${CacheSummary} chatId=${chatId} connection=${connection} />
      <div class="traces-toolbar">
        <span class="trace-branch" title="Traces of the chat's current branch">${branchLabel}</span>
        <${Filters} filter=${filter} onChange=${setFilter} tools=${[...new Set(all.filter((c) => c.kind !== "llm").map((c) => c.tool_name))].sort()} />
      </div>
      ${cursor !== undefined && turns.length === 0 && html`
        <p class="traces-empty">No calls yet. Each model call and tool call of a turn shows up here as it runs.</p>`}
      ${turns.map(([turn, calls]) => html`
        <${TurnTrace} key=${turn} chatId=${chatId} turn=${turn} calls=${calls} now=${now}
          run=${runs.get(turn)} shown=${filtering ? calls.filter((c) => matches(c, filter)) : calls} />`)}
      <div ref=${sentinel} class="traces-more">
        ${loading ? "loading…" : cursor ? html`<button onClick=${() => loadPage(cursor)}>Load older calls</button>` : null}
      </div>
    </div>`;
}

function Filters({ filter, onChange, tools }) {
  const set = (change) => onChange({ ...filter, ...change });
  return html`
    <div class="trace-filters" role="group" aria-label="filters">
      <select aria-label="kind" value=${filter.kind} onChange=${(e) => set({ kind: e.target.value })}>
        <option value="">all kinds</option>
        ${Object.entries(KINDS).map(([value, label]) => html`<option key=${value} value=${value}>${label}</option>`)}
      </select>
      <select aria-label="tool" value=${filter.tool} onChange=${(e) => set({ tool: e.target.value })}>
        <option value="">all tools</option>
        ${tools.map((name) => html`<option key=${name} value=${name}>${name}</option>`)}
      </select>
      <select aria-label="outcome" value=${filter.outcome} onChange=${(e) => set({ outcome: e.target.value })}>
        <option value="">all outcomes</option>
        ${OUTCOMES.map((name) => html`<option key=${name} value=${name}>${name}</option>`)}
      </select>
      <label class="check"><input type="checkbox" checked=${filter.errorsOnly}
        onChange=${(e) => set({ errorsOnly: e.target.checked })} /> errors only</label>
      ${(filter.kind || filter.tool || filter.outcome || filter.errorsOnly) && html`
        <button class="link" onClick=${() => onChange(NO_FILTER)}>clear</button>`}
    </div>`;
}

function matches(call, filter) {
  if (filter.kind && call.kind !== filter.kind) return false;
  if (filter.tool && call.tool_name !== filter.tool) return false;
  if (filter.outcome && call.outcome !== filter.outcome) return false;
  if (filter.errorsOnly && !FAILED.has(call.outcome) && call.outcome !== "interrupted") return false;
  return true;
}

function TurnTrace({ chatId, turn, calls, shown, now, run }) {
  const [open, setOpen] = useState(true);
  if (shown.length === 0) return null;
  const axis = timeAxis(calls, now);
  const totals = turnTotals(calls);
  const figures = turnFigures(run, axis, totals);
  return html`
    <section class="trace-turn" data-turn=${turn}>
      <header class="trace-turn-header">
        <button class="trace-turn-toggle" aria-expanded=${open} onClick=${() => setOpen(!open)}
          title=${open ? "Collapse this turn" : "Expand this turn"}>${open ? "▾" : "▸"} Turn ${turn}</button>
        <span class="trace-muted trace-totals" title=${figures.meaning}>${[
          plural(totals.llm, "model call"), plural(totals.tools, "tool call"),
          formatDuration(figures.ms), figures.tokens ? formatTokens(figures.tokens) : null,
        ].filter(Boolean).join(" · ")}</span>
        ${totals.failed > 0 && html`<span class="trace-outcome outcome-error">${formatCount(totals.failed)} failed</span>`}
        ${totals.cancelled > 0 && html`<span class="trace-outcome outcome-cancelled-badge">${formatCount(totals.cancelled)} cancelled</span>`}
        ${totals.interrupted > 0 && html`<span class="trace-outcome outcome-rerun" title="Interrupted by a restart and run again">${formatCount(totals.interrupted)} re-run</span>`}
        <${TurnCacheRate} chatId=${chatId} turn=${turn} />
      </header>
      ${open && html`
        <ol class="trace-tree">
          ${treeOrder(shown).map(({ call, depth }) => html`
            <${TraceRow} key=${call.id} chatId=${chatId} call=${call} depth=${depth} axis=${axis} now=${now} />`)}
        </ol>`}
    </section>`;
}

function turnTotals(calls) {
  const count = (test) => calls.filter(test).length;
  return {
    llm: count((c) => c.kind === "llm"),
    tools: count((c) => c.kind !== "llm"),
    tokens: calls.reduce((sum, c) => sum + (c.tokens_used || 0), 0),
    failed: count((c) => FAILED.has(c.outcome)),
    cancelled: count((c) => c.outcome === "cancelled"),
    interrupted: count((c) => c.outcome === "interrupted"),
  };
}

// A finished turn reads its run's duration and tokens, the Timeline's numbers; until then (or
// for calls with no turn run, a subagent's) the span of its calls and their tokens so far.
function turnFigures(run, axis, totals) {
  if (run?.duration_ms != null) {
    return { ms: run.duration_ms, tokens: run.tokens, meaning: "the turn's run, from its start to its end" };
  }
  return { ms: axis.span, tokens: totals.tokens, meaning: "from the first call's start to the last call's end" };
}

function TraceRow({ chatId, call, depth, axis, now }) {
  const [open, setOpen] = useState(false);
  const [full, setFull] = useState(null);
  const [problem, setProblem] = useState(null);
  const start = Date.parse(call.started_at);
  // The server's clock and this one may disagree: a call that just began is at 0, never below.
  const latency = call.latency_ms ?? (call.outcome === "running" ? Math.max(now - start, 0) : null);
  const left = ((start - axis.start) / axis.span) * 100;
  const width = Math.max(((latency || 0) / axis.span) * 100, 0.6);

  async function toggle() {
    const opening = !open;
    setOpen(opening);
    if (opening && (!full || full.outcome === "running")) {
      try {
        setFull(await api(`/api/chats/${chatId}/traces/${call.id}`));
      } catch (error) {
        setProblem(error.message);
      }
    }
  }

  const shown = full && full.outcome === call.outcome ? full : call;
  return html`
    <li class=${`trace-call kind-${call.kind} outcome-${call.outcome}`} data-trace-id=${call.id}
      data-kind=${call.kind} data-outcome=${call.outcome} style=${`--depth: ${depth}`}>
      <button class="trace-summary" aria-expanded=${open} onClick=${toggle}>
        <span class="trace-name" title=${call.tool_name}>${call.kind === "llm" ? "◆ " : "▸ "}${call.tool_name}</span>
        <span class="trace-bar-track" aria-hidden="true">
          <span class="trace-bar" style=${`left: ${clamp(left)}%; width: ${clamp(width, 100 - clamp(left))}%`}></span>
        </span>
        <span class="trace-latency">${formatDuration(latency)}</span>
        <span class="trace-outcome" title=${call.outcome}>${call.outcome}</span>
      </button>
      ${call.kind === "llm" && call.tokens_used !== null && html`<${Tokens} call=${call} />`}
      ${call.kind === "llm" && html`<${CacheBar} chatId=${chatId} traceId=${call.id} />`}
      ${call.extra?.conversation_id && html`<${SpawnedCalls} conversationId=${call.extra.conversation_id} />`}
      ${call.error && !open && html`<div class="trace-error" title=${call.error}>${firstLine(call.error)}</div>`}
      ${open && html`
        <div class="trace-detail">
          ${problem && html`<div class="banner error" role="alert">${problem}</div>`}
          ${full && call.kind === "llm" && isModelInput(shown.input)
            ? html`<${ModelCallDetail} call=${shown} />`
            : html`<${CallDetail} call=${shown} />`}
          ${shown.error && html`<h4>Error</h4><pre class="trace-error-full">${shown.error}</pre>`}
          <p class="trace-muted">#${call.id} · started ${new Date(start).toLocaleTimeString()}${call.parent_id ? ` · asked for by #${call.parent_id}` : ""}</p>
        </div>`}
    </li>`;
}

// A spawn_subagent call: the subagent's own calls, nested under it on demand and followed live.
function SpawnedCalls({ conversationId }) {
  const [open, setOpen] = useState(false);
  return html`
    <div class="trace-spawned">
      <button class="link trace-spawned-toggle" aria-expanded=${open} onClick=${() => setOpen(!open)}>
        ${open ? "▾" : "▸"} the subagent's calls</button>
      ${open && html`<${LiveSubagentTraces} chatId=${conversationId} />`}
    </div>`;
}

function LiveSubagentTraces({ chatId }) {
  const connection = useChatConnection(chatId);
  return html`<${SubagentTraces} chatId=${chatId} connection=${connection} />`;
}

// A subagent's calls (`chatId` is its conversation), without the chat-wide tools of the panel.
export function SubagentTraces({ chatId, connection }) {
  const { all, cursor, loading, problem, loadPage, running } = useTraceList(chatId, connection);
  const now = useNow(running, TICK_MS);
  const turns = groupByTurn(all);
  return html`
    <div class="traces subagent-traces" aria-label="subagent traces">
      ${problem && html`<div class="banner error" role="alert">${problem}</div>`}
      ${cursor !== undefined && turns.length === 0 && html`<p class="traces-empty">No calls yet.</p>`}
      ${turns.map(([turn, calls]) => html`
        <${TurnTrace} key=${turn} chatId=${chatId} turn=${turn} calls=${calls} shown=${calls} now=${now} />`)}
      ${cursor && html`<div class="traces-more">
        <button disabled=${loading} onClick=${() => loadPage(cursor)}>Load older calls</button></div>`}
    </div>`;
}

function Tokens({ call }) {
  return html`
    <div class="trace-tokens" aria-label="tokens">
      <span title="prompt tokens">prompt ${formatCount(call.prompt_tokens ?? 0)}</span>
      <span title="prompt tokens read from cache">cached ${formatCount(call.cache_tokens ?? 0)}</span>
      <span title="completion tokens">completion ${formatCount(call.completion_tokens ?? 0)}</span>
      <span title="reasoning tokens">reasoning ${formatCount(call.reasoning_tokens ?? 0)}</span>
    </div>`;
}

// A tool call (or a model call stored before its request was kept): its input and output.
function CallDetail({ call }) {
  const extra = call.extra && Object.keys(call.extra).length ? call.extra : null;
  return html`
    <h4>Input</h4><pre class="trace-input">${pretty(call.input)}</pre>
    ${call.output != null && !call.error && html`<h4>Output</h4>${call.output === ""
      ? html`<p class="trace-muted trace-output-empty">(no output)</p>`
      : html`<${Folded} text=${call.output}><pre class="trace-output">${call.output}</pre><//>`}`}
    ${extra && html`<h4>Details</h4><pre class="trace-extra">${pretty(extra)}</pre>`}`;
}

function isModelInput(input) {
  return input && typeof input === "object" && Array.isArray(input.new_messages);
}

// What the model received (the messages new since its previous call; the system prompt and the
// tools on demand) and everything it returned, with the usage.
function ModelCallDetail({ call }) {
  const { input } = call;
  const returned = call.extra || {};
  const toolCalls = returned.tool_calls || [];
  return html`
    <section class="model-received" aria-label="received">
      <h4>Received · ${plural(input.new_messages.length, "new message")} of ${formatCount(input.message_count)}</h4>
      <ol class="model-messages">
        ${input.new_messages.map((m, i) => html`<li key=${i}><${ModelMessage} message=${m} /></li>`)}
      </ol>
      <details class="model-system"><summary>System prompt · ${plural(lineCount(input.system), "line")}</summary>
        <pre>${input.system}</pre></details>
      <details class="model-tools"><summary>Tools · ${plural(input.tools.length, "tool")}</summary>
        <ul class="model-tool-list">${input.tools.map((t) => html`
          <li key=${t.function?.name}><details><summary><code>${t.function?.name}</code> ${t.function?.description || ""}</summary>
            <pre>${pretty(t.function?.parameters)}</pre></details></li>`)}</ul>
      </details>
    </section>
    <section class="model-returned" aria-label="returned">
      <h4>Returned</h4>
      ${returned.reasoning && html`<details class="model-reasoning"><summary>Reasoning · ${plural(lineCount(returned.reasoning), "line")}</summary>
        <pre>${returned.reasoning}</pre></details>`}
      ${call.output
        ? html`<${Folded} text=${call.output}><pre class="trace-output">${call.output}</pre><//>`
        : html`<p class="trace-muted">${toolCalls.length ? "no text: the model asked for tools" : "no text"}</p>`}
      ${toolCalls.length > 0 && html`
        <ol class="model-tool-calls">${toolCalls.map((tc) => html`
          <li key=${tc.id}><code class="tool-call-name">${tc.name}</code><pre>${prettyArguments(tc.arguments)}</pre></li>`)}</ol>`}
      ${call.tokens_used != null && html`
        <table class="model-usage" aria-label="usage"><tbody>
          <tr><th>prompt</th><td>${formatCount(call.prompt_tokens ?? 0)}</td><th>cached</th><td>${formatCount(call.cache_tokens ?? 0)}</td></tr>
          <tr><th>completion</th><td>${formatCount(call.completion_tokens ?? 0)}</td><th>reasoning</th><td>${formatCount(call.reasoning_tokens ?? 0)}</td></tr>
          <tr><th>total</th><td>${formatCount(call.tokens_used)}</td><th>latency</th><td>${formatDuration(call.latency_ms)}</td></tr>
        </tbody></table>`}
    </section>`;
}

// A message's content: a string, or parts whose attachments the trace keeps by reference.
function ModelMessage({ message }) {
  const parts = Array.isArray(message.content) ? message.content : null;
  const files = parts ? parts.filter((p) => p.type === "attachment") : [];
  const rest = parts && parts.filter((p) => p.type !== "attachment");
  const text = typeof message.content === "string" ? message.content
    : rest && rest.every((p) => p.type === "text") ? rest.map((p) => p.text).join("\n")
    : pretty(rest || message.content);
  const who = message.role === "tool" ? `tool result · ${message.tool_call_id}` : message.role;
  return html`
    <div class=${`model-message role-${message.role}`}>
      <div class="model-message-role">${who}</div>
      ${text && html`<${Folded} text=${text}><pre>${text}</pre><//>`}
      ${files.length > 0 && html`
        <ul class="model-attachments">${files.map((f) => html`
          <li key=${f.id}><a href=${f.url} target="_blank" rel="noopener">${f.name}</a>
            <span class="trace-muted"> ${f.sent_as === "image_url" ? "image" : "file"} · ${f.media_type} · ${formatCount(f.bytes)} bytes · sha256 ${f.sha256.slice(0, 12)}</span></li>`)}
        </ul>`}
      ${(message.tool_calls || []).map((tc) => html`
        <div class="model-message-call"><code>${tc.function?.name}</code> <code>${tc.function?.arguments}</code></div>`)}
    </div>`;
}

function lineCount(text) {
  return text ? String(text).split("\n").length : 0;
}

function prettyArguments(raw) {
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}

// Newest turn first; within a turn, calls in the order they began.
function groupByTurn(calls) {
  const turns = new Map();
  calls.forEach((c) => turns.set(c.turn, [...(turns.get(c.turn) || []), c]));
  turns.forEach((list) => list.sort((a, b) => a.id - b.id));
  return [...turns.entries()].sort((a, b) => b[0] - a[0]);
}

// Model call, then the tool calls it asked for (indented), then the next model call.
function treeOrder(calls) {
  const ids = new Set(calls.map((c) => c.id));
  const children = new Map();
  const roots = [];
  calls.forEach((c) => {
    if (c.parent_id && ids.has(c.parent_id)) children.set(c.parent_id, [...(children.get(c.parent_id) || []), c]);
    else roots.push(c);
  });
  const ordered = [];
  const visit = (call, depth) => {
    ordered.push({ call, depth });
    (children.get(call.id) || []).forEach((child) => visit(child, depth + 1));
  };
  roots.forEach((c) => visit(c, c.parent_id ? 1 : 0));
  return ordered;
}

function timeAxis(calls, now) {
  const starts = calls.map((c) => Date.parse(c.started_at));
  const ends = calls.map((c, i) => starts[i] + (c.latency_ms ?? (c.outcome === "running" ? now - starts[i] : 0)));
  const start = Math.min(...starts);
  return { start, span: Math.max(Math.max(...ends) - start, 1) };
}

// Scroll the panel (the nearest scrolling ancestor), not the whole page, to put `el` on top.
function scrollToTop(el) {
  let box = el.parentElement;
  while (box && !/(auto|scroll)/.test(getComputedStyle(box).overflowY)) box = box.parentElement;
  if (!box) return;
  const top = box.scrollTop + el.getBoundingClientRect().top - box.getBoundingClientRect().top - 4;
  box.scrollTo({ top, behavior: "smooth" });
}

function clamp(value, max = 100) {
  return Math.min(Math.max(value, 0), max);
}

function firstLine(text) {
  const line = String(text).split("\n")[0];
  return line.length > 160 ? `${line.slice(0, 160)}…` : line;
}

function pretty(value) {
  if (value === null || value === undefined) return "—";
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

registerPanel({ id: "traces", title: "Traces", component: TracesPanel, order: 10 });
