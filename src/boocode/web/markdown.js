// A small, safe Markdown subset for answers: fenced code, inline code, bold, paragraphs, lists.
// It builds elements (never innerHTML), so model output cannot inject markup.
import { html } from "./html.js";

const FENCE = /```([\w+-]*)\n?([\s\S]*?)(?:```|$)/g;

export function Markdown({ text }) {
  const blocks = [];
  let last = 0;
  for (const match of text.matchAll(FENCE)) {
    if (match.index > last) blocks.push(...prose(text.slice(last, match.index)));
    blocks.push(html`<pre class="code"><code data-lang=${match[1]}>${match[2]}</code></pre>`);
    last = match.index + match[0].length;
  }
  if (last < text.length) blocks.push(...prose(text.slice(last)));
  return html`<div class="markdown">${blocks}</div>`;
}

function prose(text) {
  return text
    .split(/\n{2,}/)
    .filter((chunk) => chunk.trim())
    .map((chunk) => {
      const lines = chunk.split("\n");
      if (lines.every((line) => /^\s*[-*] /.test(line))) {
        return html`<ul>${lines.map((line) => html`<li>${inline(line.replace(/^\s*[-*] /, ""))}</li>`)}</ul>`;
      }
      return html`<p>${inline(chunk)}</p>`;
    });
}

// `code` and **bold** within one line of text; also used for short notes outside answers.
export function inline(text) {
  return text.split(/(`[^`\n]+`|\*\*[^*\n]+\*\*)/g).map((part) => {
    if (part.startsWith("`") && part.endsWith("`") && part.length > 2) {
      return html`<code>${part.slice(1, -1)}</code>`;
    }
    if (part.startsWith("**") && part.endsWith("**") && part.length > 4) {
      return html`<strong>${part.slice(2, -2)}</strong>`;
    }
    return part;
  });
}
