"""Put files into the page the way a user does: pasted into the composer, or dropped on it."""

from __future__ import annotations

import base64

from playwright.sync_api import Page

_EVENT = """([kind, selector, files]) => {
  const data = new DataTransfer();
  for (const [name, type, b64] of files) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    data.items.add(new File([bytes], name, { type }));
  }
  const target = document.querySelector(selector);
  const event = kind === "paste"
    ? new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true })
    : new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true });
  target.dispatchEvent(event);
}"""


def paste_files(page: Page, files: list[tuple[str, str, bytes]]) -> None:
    """Paste `(name, media type, bytes)` files into the message box."""
    _send(page, "paste", "textarea[aria-label=message]", files)


def drop_files(page: Page, files: list[tuple[str, str, bytes]]) -> None:
    _send(page, "drop", "form.composer", files)


def _send(page: Page, kind: str, selector: str, files: list[tuple[str, str, bytes]]) -> None:
    encoded = [[name, kind_, base64.b64encode(data).decode()] for name, kind_, data in files]
    page.wait_for_selector(selector)  # as a user waits for the box to show
    page.evaluate(_EVENT, [kind, selector, encoded])
