// The trace viewer: per turn, a tree of model calls and the tool calls they asked for, each
// with a waterfall bar on the turn's time axis, its latency, tokens and outcome. It loads the
// newest page from `GET /api/chats/{id}/traces`, follows `tool_trace_start` / `tool_trace_finish`
// frames live, and fetches older pages as the list is scrolled to its end.
import { api } from "./api.js";
import { CacheBar, CacheSummary, TurnCacheRate } from "./cache.js";
import { html, useEffect, useRef, useState } from "./html.js";
import { registerPanel } from "./panels.js";

const PAGE_SIZE = 100;
const TICK_MS = 250; // redraw running bars this often
const FAILED = new Set(["error", "timeout", "interrupted"]);
const FOCUS_EVENT = "boocode:focus-turn"; // fired by the timeline (timeline.js focusTurn)
const FOCUS_FLASH_MS = 1500;

// The turn the timeline last pointed at, kept while this panel is not on screen so that
// opening it shows that turn.
let pendingFocus = null;
addEventListener(FOCUS_EVENT, (event) => { pendingFocus = Number(event.detail?.turn) || null; });
addEventListener("hashchange", () => { pendingFocus = null; }); // another chat: not its turn

function TracesPanel({ chatId, connection }) {
  const [traces, setTraces] = useState(() => new Map());
  const [cursor, setCursor] = useState(undefined); // undefined: first page not loaded yet
  const [loading, setLoading] = useState(false);
  const [problem, setProblem] = useState(null);
  const [now, setNow] = useState(Date.now());
  const [focus, setFocus] = useState(() => pendingFocus);
  const root = useRef(null);
  const sentinel = useRef(null);

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

  async function loadPage(from) {
    setLoading(true);
    try {
      const query = new URLSearchParams({ limit: PAGE_SIZE });
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
      if (frame.type === "tool_trace_start" || frame.type === "tool_trace_finish") merge([frame.trace]);
      else if (frame.type === "snapshot") loadPage(null); // reconnected: catch up from storage
    }, { replay: true });
  }, [chatId, connection]);

  const running = [...traces.values()].some((t) => t.outcome === "running");
  useEffect(() => {
    if (!running) return undefined;
    const timer = setInterval(() => setNow(Date.now()), TICK_MS);
    return () => clearInterval(timer);
  }, [running]);

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
    const target = root.current?.querySelector(`.trace-turn[data-turn="${focus}"]`);
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

  const turns = groupByTurn([...traces.values()]);
  return html`
    <div class="traces" aria-label="traces" ref=${root}>
      ${problem && html`<div class="banner error" role="alert">${problem}</div>`}
      <${CacheSummary} chatId=${chatId} connection=${connection} />
      ${cursor !== undefined && turns.length === 0 && html`
        <p class="traces-empty">No calls yet. Each model call and tool call of a turn shows up here as it runs.</p>`}
      ${turns.map(([turn, calls]) => html`<${TurnTrace} key=${turn} chatId=${chatId} turn=${turn} calls=${calls} now=${now} />`)}
      <div ref=${sentinel} class="traces-more">
        ${loading ? "loading…" : cursor ? html`<button onClick=${() => loadPage(cursor)}>Load older calls</button>` : null}
      </div>
    </div>`;
}

function TurnTrace({ chatId, turn, calls, now }) {
  const axis = timeAxis(calls, now);
  const tokens = calls.reduce((sum, c) => sum + (c.tokens_used || 0), 0);
  const failures = calls.filter((c) => FAILED.has(c.outcome)).length;
  return html`
    <section class="trace-turn" data-turn=${turn}>
      <header class="trace-turn-header">
        <span>Turn ${turn}</span>
        <span class="trace-muted">${calls.length} calls · ${formatMs(axis.span)}${tokens ? ` · ${tokens} tokens` : ""}</span>
        ${failures > 0 && html`<span class="trace-outcome outcome-error">${failures} failed</span>`}
        <${TurnCacheRate} chatId=${chatId} turn=${turn} />
      </header>
      <ol class="trace-tree">
        ${treeOrder(calls).map(({ call, depth }) => html`
          <${TraceRow} key=${call.id} chatId=${chatId} call=${call} depth=${depth} axis=${axis} now=${now} />`)}
      </ol>
    </section>`;
}

function TraceRow({ chatId, call, depth, axis, now }) {
  const [open, setOpen] = useState(false);
  const [full, setFull] = useState(null);
  const [problem, setProblem] = useState(null);
  const start = Date.parse(call.started_at);
  const latency = call.latency_ms ?? (call.outcome === "running" ? now - start : null);
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
        <span class="trace-latency">${latency === null ? "—" : formatMs(latency)}</span>
        <span class="trace-outcome" title=${call.outcome}>${call.outcome}</span>
      </button>
      ${call.kind === "llm" && call.tokens_used !== null && html`<${Tokens} call=${call} />`}
      ${call.kind === "llm" && html`<${CacheBar} chatId=${chatId} traceId=${call.id} />`}
      ${call.error && !open && html`<div class="trace-error" title=${call.error}>${firstLine(call.error)}</div>`}
      ${open && html`
        <div class="trace-detail">
          ${problem && html`<div class="banner error" role="alert">${problem}</div>`}
          <h4>Input</h4><pre class="trace-input">${pretty(shown.input)}</pre>
          ${shown.output != null && html`<h4>Output</h4>${shown.output === ""
            ? html`<p class="trace-muted trace-output-empty">(empty)</p>`
            : html`<pre class="trace-output">${shown.output}</pre>`}`}
          ${shown.error && html`<h4>Error</h4><pre class="trace-error-full">${shown.error}</pre>`}
          <p class="trace-muted">#${call.id} · started ${new Date(start).toLocaleTimeString()}${call.parent_id ? ` · asked for by #${call.parent_id}` : ""}</p>
        </div>`}
    </li>`;
}

function Tokens({ call }) {
  return html`
    <div class="trace-tokens" aria-label="tokens">
      <span title="prompt tokens">prompt ${call.prompt_tokens ?? 0}</span>
      <span title="prompt tokens read from cache">cached ${call.cache_tokens ?? 0}</span>
      <span title="completion tokens">completion ${call.completion_tokens ?? 0}</span>
      <span title="reasoning tokens">reasoning ${call.reasoning_tokens ?? 0}</span>
    </div>`;
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

function formatMs(ms) {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
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
