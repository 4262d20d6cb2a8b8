// The WebSocket to one chat: reconnects with `?after_seq=` so no frame is missed or repeated,
// and hands every frame to its subscribers (the chat pane and the side panels).
import { useEffect, useMemo } from "./html.js";

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 8000;
const UNAUTHORIZED = 4401;
const NOT_FOUND = 4404;
// Frames kept since the last snapshot, so a panel opened later can replay the chat's stream.
const KEPT_FRAMES = 5000;

export class ChatConnection {
  constructor(chatId) {
    this.chatId = chatId;
    this.lastSeq = null;
    this.status = "connecting";
    this.frames = [];
    this._frameListeners = new Set();
    this._statusListeners = new Set();
    this._retryMs = RETRY_MIN_MS;
    this._closed = false;
    this._socket = null;
    this._timer = null;
    this._open();
  }

  // `fn(frame)` for every frame from now on; with `replay`, first the frames since the snapshot.
  subscribe(fn, { replay = false } = {}) {
    if (replay) this.frames.forEach(fn);
    this._frameListeners.add(fn);
    return () => this._frameListeners.delete(fn);
  }

  onStatus(fn) {
    this._statusListeners.add(fn);
    fn(this.status);
    return () => this._statusListeners.delete(fn);
  }

  close() {
    this._closed = true;
    clearTimeout(this._timer);
    if (this._socket) this._socket.close(1000, "client left");
  }

  _open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const after = this.lastSeq === null ? "" : `?after_seq=${this.lastSeq}`;
    const socket = new WebSocket(`${scheme}://${location.host}/ws/chats/${this.chatId}${after}`);
    this._socket = socket;
    socket.onopen = () => {
      this._retryMs = RETRY_MIN_MS;
      this._setStatus("live");
    };
    socket.onmessage = (event) => this._receive(JSON.parse(event.data));
    socket.onclose = (event) => {
      if (this._closed) return;
      if (event.code === UNAUTHORIZED) return this._setStatus("unauthorized");
      if (event.code === NOT_FOUND) return this._setStatus("not-found");
      this._setStatus("reconnecting");
      this._timer = setTimeout(() => this._open(), this._retryMs);
      this._retryMs = Math.min(this._retryMs * 2, RETRY_MAX_MS);
    };
  }

  _receive(frame) {
    if (frame.type === "snapshot") {
      this.frames = [];
    } else if (this.lastSeq !== null && frame.seq <= this.lastSeq) {
      return; // already seen: the server never repeats, but be safe across reconnects
    }
    this.lastSeq = frame.seq;
    this.frames.push(frame);
    if (this.frames.length > KEPT_FRAMES) this.frames.splice(1, this.frames.length - KEPT_FRAMES);
    this._frameListeners.forEach((fn) => fn(frame));
  }

  _setStatus(status) {
    this.status = status;
    this._statusListeners.forEach((fn) => fn(status));
  }
}

// A connection to the chat `chatId` for as long as the calling component is on screen.
export function useChatConnection(chatId) {
  const connection = useMemo(() => new ChatConnection(chatId), [chatId]);
  useEffect(() => () => connection.close(), [connection]);
  return connection;
}
