// The shell: chat list, new-chat button, the chat pane, and the tabbed side panels.
import { ApiError, createChat, listChats } from "./api.js";
import { ChatPane } from "./chat.js";
import { ChatConnection } from "./connection.js";
import { html, render, useEffect, useMemo, useState } from "./html.js";
import { MenuIcon, PanelIcon } from "./icons.js";
import { onPanelsChanged, panels } from "./panels.js";
import { SandboxBadge } from "./sandbox.js";
import "./panels/index.js";

function chatIdFromHash() {
  const match = location.hash.match(/^#\/chats\/([\w-]+)$/);
  return match ? match[1] : null;
}

function App() {
  const [chats, setChats] = useState([]);
  const [chatId, setChatId] = useState(chatIdFromHash());
  const [problem, setProblem] = useState(null);
  const [locked, setLocked] = useState(false);
  const [drawer, setDrawer] = useState(null); // on a phone: "chats" | "panels" | null
  const [hasPanels, setHasPanels] = useState(panels().length > 0);

  async function refresh() {
    try {
      setChats(await listChats());
      setProblem(null);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) setLocked(true);
      else setProblem(error.message);
    }
  }

  useEffect(() => onPanelsChanged(() => setHasPanels(panels().length > 0)), []);
  useEffect(() => {
    refresh();
    const onHash = () => setChatId(chatIdFromHash());
    addEventListener("hashchange", onHash);
    onHash(); // the hash may have changed before this listener existed
    return () => removeEventListener("hashchange", onHash);
  }, []);

  async function newChat() {
    try {
      const chat = await createChat();
      location.hash = `#/chats/${chat.id}`;
      setDrawer(null);
      await refresh();
    } catch (error) {
      setProblem(error.message);
    }
  }

  if (locked) return html`<${Locked} />`;
  const listed = chats.find((c) => c.id === chatId);
  return html`
    <div class=${`app ${drawer ? `drawer-${drawer}` : ""}`}>
      <aside class="sidebar" aria-label="chats">
        <div class="brand">BooCode <${SandboxBadge} /></div>
        <button class="new-chat" onClick=${newChat}>+ New chat</button>
        <nav class="chat-list">
          ${chats.map((c) => html`
            <a key=${c.id} href=${`#/chats/${c.id}`} class=${c.id === chatId ? "active" : ""}
              onClick=${() => setDrawer(null)}>
              <span class="chat-list-title">${c.title}</span>
              <span class="chat-list-date">${formatDate(c.updated_at)}</span>
            </a>`)}
        </nav>
      </aside>
      <main class="main">
        <div class="topbar">
          <button class="icon" aria-label="show chats" onClick=${() => setDrawer(drawer === "chats" ? null : "chats")}><${MenuIcon} /></button>
          <span class="brand">BooCode <${SandboxBadge} /></span>
          ${chatId && hasPanels
            ? html`<button class="icon" aria-label="show panels" onClick=${() => setDrawer(drawer === "panels" ? null : "panels")}><${PanelIcon} /></button>`
            : html`<span class="icon-space"></span>`}
        </div>
        ${problem && html`<div class="banner error" role="alert">${problem}</div>`}
        ${chatId
          ? html`<${ChatView} key=${chatId} chatId=${chatId} listed=${listed} onActivity=${refresh} onClosePanels=${() => setDrawer(null)} />`
          : html`<${Welcome} onNewChat=${newChat} hasChats=${chats.length > 0} />`}
      </main>
      ${drawer && html`<div class="scrim" onClick=${() => setDrawer(null)}></div>`}
    </div>`;
}

function ChatView({ chatId, listed, onActivity, onClosePanels }) {
  const connection = useMemo(() => new ChatConnection(chatId), [chatId]);
  useEffect(() => () => connection.close(), [connection]);
  return html`
    <div class="chat-view">
      <${ChatPane} chatId=${chatId} connection=${connection} listed=${listed} onActivity=${onActivity} />
      <${SidePanels} chatId=${chatId} chat=${listed} connection=${connection} onClose=${onClosePanels} />
    </div>`;
}

function SidePanels({ chatId, chat, connection, onClose }) {
  const [list, setList] = useState(panels());
  const [active, setActive] = useState(null);
  useEffect(() => onPanelsChanged(() => setList(panels())), []);
  if (list.length === 0) return null;
  const current = list.find((p) => p.id === active) || list[0];
  const Panel = current.component;
  return html`
    <aside class="panels" aria-label="panels">
      <div class="tabs" role="tablist">
        ${list.map((p) => html`
          <button key=${p.id} role="tab" aria-selected=${p.id === current.id}
            class=${p.id === current.id ? "tab active" : "tab"} onClick=${() => setActive(p.id)}>${p.title}</button>`)}
        <button class="panels-close" aria-label="hide panels" onClick=${onClose}>✕</button>
      </div>
      <div class="panel-body" role="tabpanel">
        <${Panel} key=${`${current.id}-${chatId}`} chatId=${chatId} chat=${chat} connection=${connection} />
      </div>
    </aside>`;
}

function Welcome({ onNewChat, hasChats }) {
  return html`
    <div class="welcome">
      <h1>BooCode</h1>
      <p>A coding agent that works in your project. Every tool call is traced, and a chat survives a refresh or a restart.</p>
      <button class="new-chat big" onClick=${onNewChat}>Start a new chat</button>
      ${hasChats && html`<p class="hint">or pick a chat from the list.</p>`}
    </div>`;
}

function Locked() {
  return html`
    <div class="welcome">
      <h1>BooCode</h1>
      <p>This page needs the access token. Open the URL that <code>boocode serve</code> printed when it started (it ends in <code>/?token=…</code>).</p>
      <p class="hint">The token is also in the file <code>token</code> in the BooCode data directory (default <code>~/.boocode</code>).</p>
    </div>`;
}

function formatDate(iso) {
  // A timestamp without an offset is UTC (SQLite stores them naive).
  const date = new Date(/[Zz]|[+-]\d\d:\d\d$/.test(iso) ? iso : `${iso}Z`);
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleDateString([], { month: "short", day: "numeric" });
}

render(html`<${App} />`, document.getElementById("app"));
