// REST calls to the server. The access token travels in the cookie set at `/?token=` handover.

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "The server cannot be reached. Is `boocode serve` still running?");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = data && typeof data.detail === "string" ? data.detail : response.statusText;
    throw new ApiError(response.status, detail || `request failed (${response.status})`);
  }
  return data;
}

export function listChats({ q = "", archived = false, cursor = null, limit = 50 } = {}) {
  const query = new URLSearchParams({ limit });
  if (q.trim()) query.set("q", q.trim());
  if (archived) query.set("archived", "true");
  if (cursor) query.set("cursor", cursor);
  return api(`/api/chats?${query}`);
}
export const serverInfo = () => api("/api/info");
export const getChat = (chatId) => api(`/api/chats/${chatId}`);
export const createChat = () => api("/api/chats", { method: "POST", body: {} });
export const updateChat = (chatId, change) => api(`/api/chats/${chatId}`, { method: "PATCH", body: change });
export const deleteChat = (chatId) => api(`/api/chats/${chatId}`, { method: "DELETE" });
export const sendMessage = (chatId, content, attachments = []) =>
  api(`/api/chats/${chatId}/messages`, { method: "POST", body: { content, attachments } });
export const cancelTurn = (chatId) => api(`/api/chats/${chatId}/cancel`, { method: "POST" });
