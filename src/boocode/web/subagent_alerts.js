// Browser notifications when a subagent of the open chat ends. The page asks for permission
// only when the user presses the button in the Agents panel (never on load), and notifies
// only while it is out of sight: in view, the Agents panel and the report card say it already.
import { html, useEffect, useState } from "./html.js";
import { BellIcon } from "./icons.js";
import { openSubagent } from "./subagent_note.js";

const BODY_CHARS = 180;

function permission() {
  if (!("Notification" in window)) return "unsupported";
  if (!isSecureContext) return "insecure";
  return Notification.permission; // "default" | "granted" | "denied"
}

// In the chat pane: every `subagent` frame that says one ended, from now on.
export function useSubagentAlerts(connection) {
  useEffect(() => connection.subscribe((frame) => {
    if (frame.type === "subagent" && frame.event === "ended") notify(frame.subagent);
  }), [connection]);
}

function notify(subagent) {
  if (permission() !== "granted") return;
  if (document.visibilityState === "visible" && document.hasFocus()) return;
  const said = (subagent.error || subagent.answer || "").trim().split("\n")[0];
  const note = new Notification(`${subagent.label} finished — ${subagent.status}`, {
    body: said.length > BODY_CHARS ? `${said.slice(0, BODY_CHARS - 1)}…` : said,
    tag: subagent.task_id,
  });
  note.onclick = () => {
    window.focus();
    openSubagent(subagent.task_id);
    note.close();
  };
}

// The Agents panel's switch: ask once, then say what the browser decided.
export function AlertsToggle() {
  const [state, setState] = useState(permission());
  async function ask() {
    setState(await Notification.requestPermission());
  }
  const say = (text) => html`<p class="hint agent-alerts" role="status">${text}</p>`;
  switch (state) {
    case "default":
      return html`<button class="agent-alerts-ask" onClick=${ask}><${BellIcon} /> Notify me when a subagent ends</button>`;
    case "granted":
      return say("Browser notifications are on: one comes when a subagent ends while this page is out of sight.");
    case "denied":
      return say("This browser blocks notifications from this page; allow them in its site settings to hear when a subagent ends.");
    case "insecure":
      return say("Browser notifications need the page over https or on localhost.");
    default:
      return null;
  }
}
