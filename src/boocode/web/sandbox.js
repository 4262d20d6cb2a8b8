// The command sandbox's mark in the header: "unsandboxed" stands out whenever commands are not
// confined; a confined server says so quietly, with its network setting. With a chat open it is
// that chat's sandbox, which its workspace's own `[sandbox]` table may narrow. A state that
// cannot be fetched stands out too: silence would read as "nothing to worry about".
import { api } from "./api.js";
import { html, useEffect, useState } from "./html.js";

export function SandboxBadge({ chatId }) {
  const [status, setStatus] = useState(null);
  useEffect(() => {
    let live = true;
    const server = () => api("/api/sandbox");
    // A chat that is not found (deleted, a wrong link) shows the server's sandbox.
    const shown = chatId ? api(`/api/chats/${chatId}/sandbox`).catch(server) : server();
    shown.then((s) => live && setStatus(s), (error) => live && setStatus({ unknown: error.message }));
    return () => { live = false; };
  }, [chatId]);
  if (!status) return null;
  if (status.unknown !== undefined) {
    const title = `whether commands are confined is unknown: ${status.unknown}`;
    return html`<span class="badge sandbox unknown" role="status" title=${title}>sandbox unknown</span>`;
  }
  if (status.confined) {
    const network = status.network ? "network on" : "no network";
    return html`<span class="badge sandbox confined" title=${status.reason}>sandboxed · ${network}</span>`;
  }
  const label = status.refuses_commands ? "commands refused" : "unsandboxed";
  return html`<span class="badge sandbox unconfined" role="status" title=${status.reason}>${label}</span>`;
}
