// A unified diff drawn line by line: added, removed, hunk headers, file headers.
import { createTwoFilesPatch } from "./vendor/diff/index.js";
import { html } from "./html.js";

// The unified diff of an `edit_file` call: the replaced text against its replacement.
export function editPatch(path, before, after) {
  return createTwoFilesPatch(`a/${path}`, `b/${path}`, before, after, undefined, undefined, { context: 3 })
    .split("\n").filter((line) => !line.startsWith("=====")).join("\n");
}

export function diffStats(patch) {
  let added = 0;
  let removed = 0;
  for (const line of patch.split("\n")) {
    if (line.startsWith("+") && !line.startsWith("+++")) added += 1;
    else if (line.startsWith("-") && !line.startsWith("---")) removed += 1;
  }
  return { added, removed };
}

export function DiffView({ patch }) {
  const lines = patch.replace(/\n$/, "").split("\n");
  return html`<pre class="diff">${lines.map((line, i) => html`<span key=${i} class=${diffClass(line)}>${line}\n</span>`)}</pre>`;
}

export function DiffStats({ patch }) {
  const { added, removed } = diffStats(patch);
  return html`<span class="diff-stats"><span class="diff-stat-add">+${added}</span> <span class="diff-stat-del">−${removed}</span></span>`;
}

function diffClass(line) {
  if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("Index:")) return "diff-file";
  if (line.startsWith("@@")) return "diff-hunk";
  if (line.startsWith("+")) return "diff-add";
  if (line.startsWith("-")) return "diff-del";
  return "diff-ctx";
}
