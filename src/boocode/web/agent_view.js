// What the Agents and Workflows panels draw alike for an agent of their own: its status badge,
// its Stop button, and its conversation (transcript live over its own WebSocket, and traces).
import { Transcript } from "./chat.js";
import { useChatConnection } from "./connection.js";
import { html, useEffect, useReducer, useState } from "./html.js";
import { applyFrame, EMPTY_CHAT } from "./state.js";
import { SubagentTraces } from "./traces.js";

export const ACTIVE = new Set(["queued", "running"]);

// The server's figure when it was sent (`seenAt`: when this page got it), and the time since
// while the agent still runs.
export function elapsedMs(agent, now) {
  const sent = agent.elapsed_s * 1000;
  return agent.status === "running" ? sent + Math.max(now - agent.seenAt, 0) : sent;
}

export function StatusBadge({ status }) {
  return html`<span class=${`badge agent-status status-${status}`}>${status === "running" ? html`<span class="spinner"></span>` : null}${status}</span>`;
}

// "Stop" until pressed, then "Stopping…" until the status that comes back removes it.
export function StopButton({ label, onStop }) {
  const [stopping, setStopping] = useState(false);
  return html`
    <button class="agent-stop" aria-label=${`stop ${label}`} disabled=${stopping}
      onClick=${() => { setStopping(true); onStop(); }}>${stopping ? "Stopping…" : "Stop"}</button>`;
}

export function AgentConversation({ conversationId }) {
  const connection = useChatConnection(conversationId);
  const [state, dispatch] = useReducer(applyFrame, EMPTY_CHAT);
  const [tracesOpen, setTracesOpen] = useState(false);
  useEffect(() => connection.subscribe(dispatch, { replay: true }), [connection]);
  return html`
    <details class="agent-section" open>
      <summary>Transcript</summary>
      <div class="agent-transcript" aria-label="transcript"><${Transcript} state=${state} anchored=${false} /></div>
    </details>
    <details class="agent-section" onToggle=${(e) => setTracesOpen(e.currentTarget.open)}>
      <summary>Traces</summary>
      ${tracesOpen && html`<${SubagentTraces} chatId=${conversationId} connection=${connection} />`}
    </details>`;
}
