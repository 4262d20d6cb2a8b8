// The command sandbox's mark in the header: "unsandboxed" stands out whenever commands are not
// confined; a confined server says so quietly, with its network setting.
import { api } from "./api.js";
import { html, useEffect, useState } from "./html.js";

export function SandboxBadge() {
  const [status, setStatus] = useState(null);
  useEffect(() => {
    api("/api/sandbox").then(setStatus, () => setStatus(null));
  }, []);
  if (!status) return null;
  if (status.confined) {
    const network = status.network ? "network on" : "no network";
    return html`<span class="badge sandbox confined" title=${status.reason}>sandboxed · ${network}</span>`;
  }
  const label = status.refuses_commands ? "commands refused" : "unsandboxed";
  return html`<span class="badge sandbox unconfined" role="status" title=${status.reason}>${label}</span>`;
}
