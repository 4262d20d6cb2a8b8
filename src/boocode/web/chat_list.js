// The sidebar's chat list: search, archived chats, paging, and per chat rename, archive, delete.
import { deleteChat, listChats, updateChat } from "./api.js";
import { formatDate } from "./format.js";
import { html, useEffect, useRef, useState } from "./html.js";

const SEARCH_DELAY_MS = 200;
const PAGE = 50;
const MAX_PAGE = 200; // the API's largest page

// The list as the sidebar shows it; `reload()` after anything that may reorder it.
export function useChatList(onProblem) {
  const [query, setQuery] = useState({ q: "", archived: false });
  const [items, setItems] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let live = true;
    const timer = setTimeout(async () => {
      try {
        // As many as are shown, so a reload does not shorten a list paged further.
        const page = await listChats({ ...query, limit: Math.min(MAX_PAGE, Math.max(PAGE, items.length)) });
        if (!live) return;
        setItems(page.items);
        setCursor(page.next_cursor);
        onProblem(null);
      } catch (error) {
        if (live) onProblem(error);
      }
    }, query.q && version === 0 ? SEARCH_DELAY_MS : 0);
    return () => { live = false; clearTimeout(timer); };
  }, [query, version]);

  async function more() {
    try {
      const page = await listChats({ ...query, cursor, limit: PAGE });
      setItems((old) => [...old, ...page.items.filter((c) => !old.some((o) => o.id === c.id))]);
      setCursor(page.next_cursor);
    } catch (error) {
      onProblem(error);
    }
  }

  return {
    query,
    setQuery: (change) => { setVersion(0); setQuery((old) => ({ ...old, ...change })); },
    items,
    hasMore: cursor !== null,
    more,
    reload: () => setVersion((v) => v + 1),
  };
}

export function ChatList({ list, activeId, onPicked, onChanged, onDeleted, onProblem }) {
  const { query } = list;
  return html`
    <div class="chat-list-box">
      <input class="chat-search" type="search" placeholder=${query.archived ? "Search archived chats" : "Search chats"}
        aria-label="search chats" value=${query.q} onInput=${(e) => list.setQuery({ q: e.target.value })} />
      <nav class="chat-list" aria-label=${query.archived ? "archived chats" : "chats"}>
        ${list.items.map((c) => html`
          <${ChatItem} key=${c.id} chat=${c} active=${c.id === activeId} onPicked=${onPicked}
            onChanged=${onChanged} onDeleted=${onDeleted} onProblem=${onProblem} />`)}
        ${list.items.length === 0 && html`<p class="hint chat-list-empty">${
          query.q ? "No chat matches." : query.archived ? "No archived chats." : "No chats yet."}</p>`}
        ${list.hasMore && html`<button class="link more-chats" onClick=${list.more}>More chats</button>`}
      </nav>
      <button class="link archive-toggle" onClick=${() => list.setQuery({ archived: !query.archived })}>
        ${query.archived ? "← Back to chats" : "Archived chats"}
      </button>
    </div>`;
}

function ChatItem({ chat, active, onPicked, onChanged, onDeleted, onProblem }) {
  const [mode, setMode] = useState(null); // null | "rename" | "delete"
  const [busy, setBusy] = useState(false);

  async function run(action) {
    setBusy(true);
    try {
      await action();
      onProblem(null);
      return true;
    } catch (error) {
      onProblem(error);
      return false;
    } finally {
      setBusy(false);
    }
  }

  const rename = (title) => run(async () => {
    await updateChat(chat.id, { title });
    setMode(null);
    onChanged();
  });
  const archive = () => run(async () => {
    await updateChat(chat.id, { archived: !chat.archived });
    onChanged();
  });
  const remove = () => run(async () => {
    await deleteChat(chat.id);
    onDeleted(chat.id);
  });

  if (mode === "rename") {
    return html`<${RenameForm} title=${chat.title} busy=${busy} onSave=${rename} onCancel=${() => setMode(null)} />`;
  }
  return html`
    <div class=${`chat-item ${active ? "active" : ""}`} data-chat-id=${chat.id}>
      <a href=${`#/chats/${chat.id}`} class=${active ? "active" : ""} onClick=${onPicked} aria-current=${active ? "page" : null}>
        <span class="chat-list-title">${chat.title}</span>
        <span class="chat-list-date">${formatDate(chat.updated_at)}</span>
      </a>
      <span class="chat-actions">
        <button class="icon-text" title="Rename" aria-label=${`rename ${chat.title}`} onClick=${() => setMode("rename")}>✎</button>
        <button class="icon-text" title=${chat.archived ? "Unarchive" : "Archive"}
          aria-label=${`${chat.archived ? "unarchive" : "archive"} ${chat.title}`} disabled=${busy} onClick=${archive}>${chat.archived ? "⤴" : "⤓"}</button>
        <button class="icon-text danger" title="Delete" aria-label=${`delete ${chat.title}`} onClick=${() => setMode("delete")}>✕</button>
      </span>
      ${mode === "delete" && html`
        <div class="confirm-delete" role="alertdialog" aria-label="confirm delete">
          <p>Delete “${chat.title}”? Its messages, traces and history are removed for good; a running
            turn is stopped first. Files in the workspace stay as they are.</p>
          <button class="danger-button" disabled=${busy} onClick=${remove}>${busy ? "Deleting…" : "Delete"}</button>
          <button onClick=${() => setMode(null)}>Cancel</button>
        </div>`}
    </div>`;
}

function RenameForm({ title, busy, onSave, onCancel }) {
  const [value, setValue] = useState(title);
  const input = useRef(null);
  useEffect(() => { input.current.focus(); input.current.select(); }, []);
  function submit(event) {
    event.preventDefault();
    if (value.trim()) onSave(value);
  }
  return html`
    <form class="chat-rename" onSubmit=${submit}>
      <input ref=${input} aria-label="chat title" value=${value} maxLength="200"
        onInput=${(e) => setValue(e.target.value)} onKeyDown=${(e) => e.key === "Escape" && onCancel()} />
      <button type="submit" disabled=${busy || !value.trim()}>Save</button>
      <button type="button" onClick=${onCancel}>Cancel</button>
    </form>`;
}
