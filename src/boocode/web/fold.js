// Long content starts folded: a fixed height and a button that shows the rest.
import { plural } from "./format.js";
import { html, useState } from "./html.js";

const FOLD_LINES = 40;
const FOLD_CHARS = 4000;

export function isLong(text) {
  return text.length > FOLD_CHARS || lineCount(text) > FOLD_LINES;
}

export function lineCount(text) {
  return text ? text.split("\n").length : 0;
}

// `text` decides whether to fold and what the button says; `children` is what is drawn.
export function Folded({ text, children }) {
  const [open, setOpen] = useState(false);
  if (!isLong(text)) return children;
  const size = `${plural(lineCount(text), "line")}, ${plural(text.length, "character")}`;
  return html`
    <div class=${`folded ${open ? "unfolded" : ""}`}>
      <div class="folded-body">${children}</div>
      <button class="fold-toggle" aria-expanded=${open} onClick=${() => setOpen(!open)}>
        ${open ? "Show less" : `Show all · ${size}`}</button>
    </div>`;
}
