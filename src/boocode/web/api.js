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

export const listChats = () => api("/api/chats");
export const createChat = () => api("/api/chats", { method: "POST", body: {} });
export const sendMessage = (chatId, content, attachments = []) =>
  api(`/api/chats/${chatId}/messages`, { method: "POST", body: { content, attachments } });
export const cancelTurn = (chatId) => api(`/api/chats/${chatId}/cancel`, { method: "POST" });
