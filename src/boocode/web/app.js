// The shell: chat list, new-chat button, the chat pane, and the tabbed side panels.
import { ApiError, getChat, serverInfo } from "./api.js";
import { ChatList, useChatList } from "./chat_list.js";
import { ChatPane, DraftChat } from "./chat.js";
import { useChatConnection } from "./connection.js";
import { html, render, useEffect, useState } from "./html.js";
import { MenuIcon, PanelIcon } from "./icons.js";
import { onPanelsChanged, onShowPanel, panels } from "./panels.js";
import { SandboxBadge } from "./sandbox.js";
import "./panels/index.js";
import { currentTheme, setTheme } from "./theme.js";

// `#/chats/<id>`: a chat; `#/new`: a chat not created yet (it is, on its first message).
function routeFromHash() {
  const match = location.hash.match(/^#\/chats\/([\w-]+)$/);
  if (match) return { chatId: match[1] };
  return { draft: location.hash === "#/new" };
}

// A correct `?token=` is swapped for a cookie and leaves the URL; one still there was wrong.
const WRONG_TOKEN = new URLSearchParams(location.search).has("token");

function App() {
  const [route, setRoute] = useState(routeFromHash());
  const [problem, setProblem] = useState(null);
  const [locked, setLocked] = useState(WRONG_TOKEN);
  const [info, setInfo] = useState(null);
  const [drawer, setDrawer] = useState(null); // on a phone: "chats" | "panels" | null
  const [hasPanels, setHasPanels] = useState(panels().length > 0);

  function report(error) {
    if (error instanceof ApiError && error.status === 401) setLocked(true);
    else setProblem(error ? error.message : null);
  }
  const list = useChatList(report);

  useEffect(() => onPanelsChanged(() => setHasPanels(panels().length > 0)), []);
  // A panel asked for from the chat (a file edit, a subagent's report) slides in on a phone.
  useEffect(() => onShowPanel(() => setDrawer("panels")), []);
  useEffect(() => {
    if (WRONG_TOKEN) return undefined;
    serverInfo().then(setInfo, report);
    const onHash = () => setRoute(routeFromHash());
    addEventListener("hashchange", onHash);
    onHash(); // the hash may have changed before this listener existed
    return () => removeEventListener("hashchange", onHash);
  }, []);

  function newChat() {
    location.hash = "#/new";
    setDrawer(null);
  }

  function onDeleted(chatId) {
    if (route.chatId === chatId) location.hash = "#/";
    list.reload();
  }

  if (locked) return html`<${Locked} wrongToken=${WRONG_TOKEN} />`;
  const listed = list.items.find((c) => c.id === route.chatId);
  return html`
    <div class=${`app ${drawer ? `drawer-${drawer}` : ""}`}>
      <aside class="sidebar" aria-label="chats">
        <div class="brand-row">
          <div class="brand">BooCode <${SandboxBadge} chatId=${route.chatId} /></div>
          <${ThemeToggle} />
        </div>
        ${info && html`<div class="workspace" title=${`The agent works in ${info.workspace}`}>
          <span class="workspace-label">workspace</span> <code>${info.workspace}</code></div>`}
        <button class="new-chat" onClick=${newChat}>+ New chat</button>
        <${ChatList} list=${list} activeId=${route.chatId} onPicked=${() => setDrawer(null)}
          onChanged=${list.reload} onDeleted=${onDeleted} onProblem=${report} />
      </aside>
      <main class="main">
        <div class="topbar">
          <button class="icon" aria-label="show chats" onClick=${() => setDrawer(drawer === "chats" ? null : "chats")}><${MenuIcon} /></button>
          <span class="brand">BooCode <${SandboxBadge} chatId=${route.chatId} /></span>
          ${route.chatId && hasPanels
            ? html`<button class="icon" aria-label="show panels" onClick=${() => setDrawer(drawer === "panels" ? null : "panels")}><${PanelIcon} /></button>`
            : html`<span class="icon-space"></span>`}
        </div>
        ${problem && html`<div class="banner error" role="alert">${problem}</div>`}
        ${route.chatId
          ? html`<${ChatView} key=${route.chatId} chatId=${route.chatId} listed=${listed} onActivity=${list.reload} onClosePanels=${() => setDrawer(null)} />`
          : route.draft
            ? html`<${DraftChat} info=${info} onCreated=${list.reload} />`
            : html`<${Welcome} onNewChat=${newChat} hasChats=${list.items.length > 0} />`}
      </main>
      ${drawer && html`<div class="scrim" onClick=${() => setDrawer(null)}></div>`}
    </div>`;
}

// The chat is looked up first: an id that names no chat gets a clear page, not a broken one.
function ChatView({ chatId, listed, onActivity, onClosePanels }) {
  const [found, setFound] = useState(undefined); // undefined: asking; null: no such chat
  const [problem, setProblem] = useState(null);
  useEffect(() => {
    getChat(chatId).then(setFound, (error) => {
      if (error instanceof ApiError && error.status === 404) setFound(null);
      else setProblem(error.message);
    });
  }, [chatId]);
  if (problem) return html`<div class="banner error" role="alert">${problem}</div>`;
  if (found === undefined) return html`<div class="chat-view"></div>`;
  if (found === null) return html`<${ChatNotFound} chatId=${chatId} />`;
  return html`<${LiveChat} chatId=${chatId} chat=${{ ...found, ...(listed || {}) }} onActivity=${onActivity} onClosePanels=${onClosePanels} />`;
}

function LiveChat({ chatId, chat, onActivity, onClosePanels }) {
  const connection = useChatConnection(chatId);
  return html`
    <div class="chat-view">
      <${ChatPane} chatId=${chatId} connection=${connection} listed=${chat} onActivity=${onActivity} />
      <${SidePanels} chatId=${chatId} chat=${chat} connection=${connection} onClose=${onClosePanels} />
    </div>`;
}

function ChatNotFound({ chatId }) {
  useEffect(() => { document.title = "Chat not found · BooCode"; }, []);
  return html`
    <div class="welcome not-found" role="alert">
      <h1>Chat not found</h1>
      <p>There is no chat <code>${chatId}</code> on this server. It may have been deleted, or the link is wrong.</p>
      <p><a class="new-chat big" href="#/">Back to your chats</a></p>
    </div>`;
}

const PANEL_WIDTH_KEY = "boocode.panelWidth";
const PANEL_WIDTH = { min: 300, initial: 420, step: 40 };

// The side panels' width: dragged (or moved with the arrow keys) on their left edge, remembered.
function usePanelWidth() {
  const [width, setWidth] = useState(() => Number(localStorage.getItem(PANEL_WIDTH_KEY)) || PANEL_WIDTH.initial);
  const fit = (value) => Math.round(Math.min(Math.max(value, PANEL_WIDTH.min), innerWidth * 0.75));
  const keep = (value) => {
    setWidth(fit(value));
    localStorage.setItem(PANEL_WIDTH_KEY, String(fit(value)));
  };
  function onPointerDown(event) {
    event.preventDefault();
    const startX = event.clientX;
    const startWidth = width;
    const move = (e) => keep(startWidth + (startX - e.clientX));
    const up = () => { removeEventListener("pointermove", move); removeEventListener("pointerup", up); };
    addEventListener("pointermove", move);
    addEventListener("pointerup", up);
  }
  function onKeyDown(event) {
    if (event.key === "ArrowLeft") keep(width + PANEL_WIDTH.step);
    else if (event.key === "ArrowRight") keep(width - PANEL_WIDTH.step);
  }
  return { width: fit(width), onPointerDown, onKeyDown };
}

function SidePanels({ chatId, chat, connection, onClose }) {
  const [list, setList] = useState(panels());
  const [active, setActive] = useState(null);
  const size = usePanelWidth();
  useEffect(() => onPanelsChanged(() => setList(panels())), []);
  useEffect(() => onShowPanel(setActive), []);
  if (list.length === 0) return null;
  const current = list.find((p) => p.id === active) || list[0];
  const Panel = current.component;
  return html`
    <aside class="panels" aria-label="panels" style=${`--panel-width: ${size.width}px`}>
      <div class="panels-resize" role="separator" aria-orientation="vertical" aria-label="resize panels"
        aria-valuenow=${size.width} tabindex="0" onPointerDown=${size.onPointerDown} onKeyDown=${size.onKeyDown}></div>
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

function ThemeToggle() {
  const [theme, setShown] = useState(currentTheme());
  const next = theme === "dark" ? "light" : "dark";
  return html`
    <button class="theme-toggle icon-text" aria-label=${`switch to ${next} theme`} title=${`Switch to ${next} theme`}
      onClick=${() => { setTheme(next); setShown(next); }}>${theme === "dark" ? "☀" : "☾"}</button>`;
}

function Welcome({ onNewChat, hasChats }) {
  useEffect(() => { document.title = "BooCode"; }, []);
  return html`
    <div class="welcome">
      <h1>BooCode</h1>
      <p>A coding agent that works in your project. Every tool call is traced, and a chat survives a refresh or a restart.</p>
      <button class="new-chat big" onClick=${onNewChat}>Start a new chat</button>
      ${hasChats && html`<p class="hint">or pick a chat from the list.</p>`}
    </div>`;
}

function Locked({ wrongToken }) {
  return html`
    <div class="welcome">
      <h1>BooCode</h1>
      ${wrongToken && html`<p class="banner error" role="alert">The access token in this URL is wrong.</p>`}
      <p>This page needs the access token. Open the URL that <code>boocode serve</code> printed when it started (it ends in <code>/?token=…</code>).</p>
      <p class="hint">The token is also in the file <code>token</code> in the BooCode data directory (default <code>~/.boocode</code>).</p>
    </div>`;
}

render(html`<${App} />`, document.getElementById("app"));
