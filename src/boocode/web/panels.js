// The side-panel registry. A feature adds a panel without touching the shell:
//
//   import { registerPanel } from "../panels.js";
//   registerPanel({ id: "traces", title: "Traces", component: TracesPanel });
//
// and imports its module from `panels/index.js`. The component gets the props
// `{ chatId, chat, connection }`; `connection.subscribe(fn, { replay: true })` yields every
// frame of the chat (see connection.js), and `api()` from api.js calls the REST endpoints.

const registry = new Map();
const listeners = new Set();

export function registerPanel({ id, title, component, order = 100 }) {
  if (!id || !title || !component) throw new Error("registerPanel needs id, title and component");
  registry.set(id, { id, title, component, order });
  listeners.forEach((fn) => fn());
}

export function panels() {
  return [...registry.values()].sort((a, b) => a.order - b.order || a.title.localeCompare(b.title));
}

// Bring a panel to the front, e.g. `showPanel("files")` from a file edit in the chat.
export function showPanel(id) {
  window.dispatchEvent(new CustomEvent(SHOW_EVENT, { detail: { id } }));
}

export function onShowPanel(fn) {
  const listener = (event) => fn(event.detail.id);
  addEventListener(SHOW_EVENT, listener);
  return () => removeEventListener(SHOW_EVENT, listener);
}

const SHOW_EVENT = "boocode:show-panel";

export function onPanelsChanged(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
