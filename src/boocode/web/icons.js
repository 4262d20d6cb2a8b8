// Inline SVG icons: they draw the same everywhere, unlike emoji that depend on the system fonts.
import { html } from "./html.js";

const svg = (body) => html`
  <svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor"
    stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">${body}</svg>`;

export const MenuIcon = () => svg(html`<path d="M4 6h16M4 12h16M4 18h16" />`);
export const PanelIcon = () => svg(html`<rect x="3" y="4" width="18" height="16" rx="2" /><path d="M15 4v16" />`);
export const AttachIcon = () =>
  svg(html`<path d="M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9" />`);
export const BellIcon = () =>
  svg(html`<path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" /><path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />`);
