// Prompt-cache telemetry in the trace viewer: per model call a bar of the request's segments
// with the cached part laid over it (an estimate) and why a cache broke; per turn its hit rate;
// for the chat the totals, the money saved and a small chart of hit rate per call. The figures
// come from `GET /api/chats/{id}/cache-stats`, shared by every component of a chat.
import { api } from "./api.js";
import { formatCount, plural } from "./format.js";
import { html, useEffect, useState } from "./html.js";

const REFRESH_MS = 300;
const KIND_NAMES = {
  system: "system prompt",
  tools: "tool schemas",
  history: "earlier turns",
  turn: "this turn",
  attachment: "attachment",
  note: "injected note",
};

const stores = new Map(); // chatId -> { stats, listeners, timer }

function store(chatId) {
  if (!stores.has(chatId)) stores.set(chatId, { stats: null, listeners: new Set(), timer: null });
  return stores.get(chatId);
}

function refresh(chatId, delay = REFRESH_MS) {
  const entry = store(chatId);
  clearTimeout(entry.timer);
  entry.timer = setTimeout(async () => {
    try {
      entry.stats = await api(`/api/chats/${chatId}/cache-stats`);
      entry.listeners.forEach((fn) => fn(entry.stats));
    } catch {
      // The trace viewer still works without the cache figures; the next frame retries.
    }
  }, delay);
}

function useCacheStats(chatId) {
  const entry = store(chatId);
  const [stats, setStats] = useState(entry.stats);
  useEffect(() => {
    entry.listeners.add(setStats);
    return () => entry.listeners.delete(setStats);
  }, [chatId]);
  return stats;
}

const percent = (rate) => `${Math.round(rate * 100)}%`;
const dollars = (usd) => `$${usd >= 0.01 || usd === 0 ? usd.toFixed(2) : usd.toPrecision(2)}`;

// The chat's totals and the hit-rate chart; it also keeps the figures fresh from the frames.
export function CacheSummary({ chatId, connection }) {
  const stats = useCacheStats(chatId);
  useEffect(() => {
    refresh(chatId, 0);
    return connection.subscribe((frame) => {
      const modelCallStored = frame.type === "message" && frame.message.role === "assistant";
      if (modelCallStored || frame.type === "turn_end" || frame.type === "snapshot") refresh(chatId);
    });
  }, [chatId, connection]);
  if (!stats || stats.total.calls === 0) return null;
  const { total, prices } = stats;
  const breaks = stats.calls.filter((c) => c.diagnosis.broke).length;
  return html`
    <section class="cache-summary" aria-label="prompt cache">
      <div class="cache-summary-head">
        <strong>Prompt cache</strong>
        <span class="cache-rate" title="prompt tokens served from cache">${percent(total.hit_rate)} hit</span>
        <span class="trace-muted">${formatCount(total.cache_hit_tokens)} of ${plural(total.prompt_tokens, "prompt token")} from cache · ${plural(total.calls, "call")}${breaks ? ` · ${plural(breaks, "break")}` : ""}</span>
        <span class="cache-saved" title=${`at $${prices.hit_usd_per_million} (hit) and $${prices.miss_usd_per_million} (miss) per million prompt tokens`}>saved ${dollars(total.saved_usd)}</span>
      </div>
      ${stats.conversations.length > 1 && html`
        <div class="trace-muted cache-conversations">
          ${stats.conversations.map((c) => html`<span key=${c.conversation}>${c.conversation}: ${percent(c.totals.hit_rate)} of ${plural(c.totals.calls, "call")}</span>`)}
        </div>`}
      <${HitRateChart} calls=${stats.calls} />
      <div class="cache-legend trace-muted" aria-label="segment colours">
        ${Object.entries(KIND_NAMES).map(([kind, name]) => html`<span key=${kind}><i class=${`seg-${kind}`}></i>${name}</span>`)}
        <span><i class="cache-overlay-key"></i>cached (estimate)</span>
      </div>
    </section>`;
}

function HitRateChart({ calls }) {
  const width = 300;
  const height = 48;
  const step = calls.length > 1 ? width / (calls.length - 1) : 0;
  const points = calls.map((c, i) => `${(i * step).toFixed(1)},${(height - c.hit_rate * height).toFixed(1)}`);
  return html`
    <svg class="cache-chart" viewBox=${`-2 -2 ${width + 4} ${height + 4}`} preserveAspectRatio="none"
      role="img" aria-label="hit rate per model call">
      <line x1="0" y1=${height} x2=${width} y2=${height} class="cache-chart-axis" />
      <polyline points=${points.join(" ")} class="cache-chart-line" />
      ${calls.map((c, i) => c.diagnosis.broke && html`
        <circle key=${i} cx=${i * step} cy=${height - c.hit_rate * height} r="3" class="cache-chart-break"><title>${c.diagnosis.message}</title></circle>`)}
    </svg>`;
}

export function TurnCacheRate({ chatId, turn }) {
  const stats = useCacheStats(chatId);
  const figures = stats && stats.turns.find((t) => t.turn === turn);
  if (!figures) return null;
  return html`<span class="cache-turn-rate" title="prompt tokens of this turn served from cache">${percent(figures.hit_rate)} cached</span>`;
}

// The request of one model call as a bar of its segments, the cached share over it.
export function CacheBar({ chatId, traceId }) {
  const stats = useCacheStats(chatId);
  const call = stats && stats.calls.find((c) => c.trace_id === traceId);
  if (!call) return null;
  const total = Math.max(call.request_bytes, 1);
  const cached = Math.min(call.cached_bytes / total, 1) * 100;
  const diagnosis = call.diagnosis;
  const explain = diagnosis.status === "diverged" || diagnosis.broke;
  return html`
    <div class="cache-call" data-status=${diagnosis.status}>
      <div class="cache-bar" role="img" aria-label=${`request segments, ${percent(call.hit_rate)} from cache`}>
        ${call.segments.map((s, i) => html`
          <span key=${i} class=${`cache-segment seg-${s.kind}`} style=${`flex-grow: ${s.bytes}`}
            title=${`${s.label} · ${s.bytes.toLocaleString()} bytes`}></span>`)}
        <span class="cache-overlay" style=${`width: ${cached}%`}
          title=${`about ${call.cached_bytes.toLocaleString()} of ${call.request_bytes.toLocaleString()} bytes served from cache (estimate from ${plural(call.cache_hit_tokens, "cached token")})`}></span>
      </div>
      <span class="cache-call-rate trace-muted" title=${`${call.request_bytes.toLocaleString()} bytes; the cached part is an estimate from the provider's count of cached tokens`}>${percent(call.hit_rate)} cached</span>
      ${explain && html`<p class=${`cache-diagnosis ${diagnosis.broke ? "cache-broke" : ""}`} role="note">${diagnosis.broke ? "Cache break: " : ""}${diagnosis.message}</p>`}
    </div>`;
}
