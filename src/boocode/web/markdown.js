// Answers as Markdown: marked parses, DOMPurify sanitises (model output must not inject
// markup), highlight.js colours code blocks, and each block gets a copy button.
import { Marked } from "./vendor/marked.esm.js";
import DOMPurify from "./vendor/purify.es.mjs";
import hljs from "./vendor/highlight/core.min.js";
import bash from "./vendor/highlight/languages/bash.min.js";
import css from "./vendor/highlight/languages/css.min.js";
import diff from "./vendor/highlight/languages/diff.min.js";
import go from "./vendor/highlight/languages/go.min.js";
import ini from "./vendor/highlight/languages/ini.min.js";
import javascript from "./vendor/highlight/languages/javascript.min.js";
import json from "./vendor/highlight/languages/json.min.js";
import markdown from "./vendor/highlight/languages/markdown.min.js";
import plaintext from "./vendor/highlight/languages/plaintext.min.js";
import python from "./vendor/highlight/languages/python.min.js";
import rust from "./vendor/highlight/languages/rust.min.js";
import shell from "./vendor/highlight/languages/shell.min.js";
import sql from "./vendor/highlight/languages/sql.min.js";
import typescript from "./vendor/highlight/languages/typescript.min.js";
import xml from "./vendor/highlight/languages/xml.min.js";
import yaml from "./vendor/highlight/languages/yaml.min.js";
import { html, useMemo } from "./html.js";

const LANGUAGES = { bash, css, diff, go, ini, javascript, json, markdown, plaintext, python, rust, shell, sql, typescript, xml, yaml };
Object.entries(LANGUAGES).forEach(([name, grammar]) => hljs.registerLanguage(name, grammar));
hljs.registerAliases(["toml"], { languageName: "ini" });
hljs.registerAliases(["html", "svg"], { languageName: "xml" });
hljs.registerAliases(["sh", "zsh", "console"], { languageName: "bash" });

// A file name's extension -> the language of its contents, for code shown outside answers.
const EXTENSIONS = {
  py: "python", js: "javascript", mjs: "javascript", ts: "typescript", tsx: "typescript",
  jsx: "javascript", json: "json", css: "css", html: "xml", xml: "xml", yml: "yaml",
  yaml: "yaml", toml: "ini", ini: "ini", cfg: "ini", sql: "sql", go: "go", rs: "rust",
  md: "markdown", sh: "bash", diff: "diff", patch: "diff",
};

const escape = (text) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// Coloured HTML of `code`; plain (escaped) text when the language is unknown.
export function highlight(code, language) {
  if (language && hljs.getLanguage(language)) return hljs.highlight(code, { language, ignoreIllegals: true }).value;
  return escape(code);
}

export function languageOfPath(path) {
  const extension = (path || "").split(".").pop().toLowerCase();
  return EXTENSIONS[extension] || null;
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    code({ text, lang }) {
      const language = (lang || "").trim().split(/\s+/)[0].toLowerCase();
      return `<div class="code-block"><div class="code-head"><span class="code-lang">${escape(language || "text")}</span>`
        + `<button type="button" class="copy-code" aria-label="copy code">Copy</button></div>`
        + `<pre class="code"><code class="hljs" data-lang="${escape(language)}">${highlight(text, language)}</code></pre></div>`;
    },
  },
});

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.getAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

const SANITIZE = { USE_PROFILES: { html: true }, FORBID_TAGS: ["style", "form", "input", "textarea"] };

export function renderMarkdown(text) {
  return DOMPurify.sanitize(marked.parse(text), SANITIZE);
}

export function Markdown({ text }) {
  const rendered = useMemo(() => renderMarkdown(text), [text]);
  return html`<div class="markdown" onClick=${copyCode} dangerouslySetInnerHTML=${{ __html: rendered }}></div>`;
}

// Markdown within one line (`code`, **bold**, links), for short notes outside answers.
export function inline(text) {
  const rendered = DOMPurify.sanitize(marked.parseInline(text), SANITIZE);
  return html`<span class="inline-markdown" dangerouslySetInnerHTML=${{ __html: rendered }}></span>`;
}

// A click on a code block's copy button copies the block's text.
export async function copyCode(event) {
  const button = event.target.closest("button.copy-code");
  if (!button) return;
  const code = button.closest(".code-block").querySelector("code");
  try {
    await navigator.clipboard.writeText(code.textContent);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Copy failed";
  }
  setTimeout(() => { button.textContent = "Copy"; }, 1500);
}
