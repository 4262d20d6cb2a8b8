// Attachments in the page: upload by button, paste or drop, previews (removable) before sending,
// and a message's files in its bubble: images (click to enlarge) and text files as chips.
import { html, useEffect, useLayoutEffect, useRef, useState } from "./html.js";
import { imagesOf } from "./state.js";

let nextKey = 1;

// The composer's tray: each file is uploaded as soon as it is added; sending waits for them.
export function useAttachments(chatId) {
  const [items, setItems] = useState([]);
  const urls = useRef(new Set());
  useEffect(() => () => urls.current.forEach((u) => URL.revokeObjectURL(u)), []);

  const update = (key, change) =>
    setItems((list) => list.map((item) => (item.key === key ? { ...item, ...change } : item)));

  function add(files) {
    for (const file of [...files]) {
      const key = nextKey++;
      const preview = file.type.startsWith("image/") ? URL.createObjectURL(file) : null;
      if (preview) urls.current.add(preview);
      setItems((list) => [...list, { key, name: file.name || "pasted", preview, status: "uploading" }]);
      // A draft chat passes a function: the chat is stored when its first file is attached.
      Promise.resolve(typeof chatId === "function" ? chatId() : chatId).then((id) => uploadFile(id, file)).then(
        (attachment) => update(key, { status: "ready", attachment }),
        (error) => update(key, { status: "failed", error: error.message }),
      );
    }
  }

  return {
    items,
    add,
    remove: (key) => setItems((list) => list.filter((item) => item.key !== key)),
    clear: () => setItems([]),
    // Sending waits for the uploads, and for the user to remove a file that was refused.
    busy: items.some((item) => item.status !== "ready"),
    ids: () => items.filter((item) => item.status === "ready").map((item) => item.attachment.id),
  };
}

async function uploadFile(chatId, file) {
  const form = new FormData();
  form.append("file", file, file.name || "pasted");
  let response;
  try {
    response = await fetch(`/api/chats/${chatId}/attachments`, { method: "POST", body: form, credentials: "same-origin" });
  } catch {
    throw new Error("the server cannot be reached");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error(data && typeof data.detail === "string" ? data.detail : `upload failed (${response.status})`);
  return data;
}

// Handlers for the composer: files pasted or dropped go to the tray.
export function dropTarget(tray) {
  return {
    onPaste: (event) => {
      const files = [...(event.clipboardData?.files || [])];
      if (files.length) {
        event.preventDefault();
        tray.add(files);
      }
    },
    onDragOver: (event) => {
      if ([...(event.dataTransfer?.types || [])].includes("Files")) event.preventDefault();
    },
    onDrop: (event) => {
      const files = event.dataTransfer?.files;
      if (files && files.length) {
        event.preventDefault();
        tray.add(files);
      }
    },
  };
}

export function AttachmentTray({ tray }) {
  if (tray.items.length === 0) return null;
  return html`
    <div class="thumbs" aria-label="attachments to send">
      ${tray.items.map((item) => html`
        <span key=${item.key} class=${`thumb thumb-${item.status}`} data-status=${item.status} title=${item.error || item.name}>
          ${item.preview
            ? html`<img src=${item.preview} alt=${item.name} />`
            : html`<span class="thumb-file">${item.name}</span>`}
          ${item.status === "uploading" && html`<span class="spinner thumb-spinner"></span>`}
          ${item.status === "failed" && html`<span class="thumb-error" role="alert">${item.error}</span>`}
          <button type="button" class="remove" aria-label=${`remove ${item.name}`} onClick=${() => tray.remove(item.key)}>✕</button>
        </span>`)}
    </div>`;
}

// A user message's files: stored attachments, and images inlined by older versions.
export function MessageAttachments({ message }) {
  const [open, setOpen] = useState(null);
  const files = message.attachments || [];
  const images = [...imagesOf(message.content).map((src) => ({ src, name: "attached image" })),
    ...files.filter((a) => a.kind === "image").map((a) => ({ src: a.url, name: a.name }))];
  const described = files.filter((a) => a.described_by);
  const texts = files.filter((a) => a.kind === "text");
  if (images.length === 0 && texts.length === 0) return null;
  return html`
    <div class="attachments">
      ${images.map((image) => html`
        <button type="button" class="attached-open" onClick=${() => setOpen(image)} aria-label=${`enlarge ${image.name}`}>
          <img class="attached" src=${image.src} alt=${image.name} />
        </button>`)}
      ${texts.length > 0 && html`
        <div class="file-chips">
          ${texts.map((a) => html`
            <a class="file-chip" href=${a.url} target="_blank" rel="noopener" title=${`${a.name} · ${a.size} bytes`}>${a.name}</a>`)}
        </div>`}
      ${described.map((a) => html`
        <details class="described" key=${a.id}>
          <summary>${a.name}: described by ${a.described_by}, as this chat's model cannot see images</summary>
          <p class="plain">${a.description}</p>
        </details>`)}
      ${open && html`<${Lightbox} image=${open} onClose=${() => setOpen(null)} />`}
    </div>`;
}

function Lightbox({ image, onClose }) {
  const dialog = useRef(null);
  // Escape closes it wherever the focus is (the page may move the focus after it opened); the
  // dialog takes the focus too, for screen readers. A layout effect: in place before the first
  // paint, so a key pressed as soon as it shows is never missed.
  useLayoutEffect(() => {
    dialog.current.focus();
    const onKey = (event) => { if (event.key === "Escape") onClose(); };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [onClose]);
  return html`
    <div class="lightbox" role="dialog" aria-label=${image.name} tabIndex="-1" ref=${dialog}
      onClick=${onClose}>
      <img src=${image.src} alt=${image.name} />
    </div>`;
}
