// The chat as the page draws it, rebuilt from frames: `applyFrame(state, frame) -> state`.

export const EMPTY_CHAT = { chat: null, messages: [], turn: null, errors: [], ended: null };

export function applyFrame(state, frame) {
  switch (frame.type) {
    case "snapshot":
      return {
        chat: frame.chat,
        messages: frame.messages,
        turn: frame.turn ? { ...frame.turn } : null,
        errors: [],
        ended: null,
      };
    case "turn_start":
      return {
        ...state,
        turn: { turn: frame.turn, task_id: frame.task_id, status: "running", text: "", reasoning: "" },
        ended: null,
      };
    case "message_delta":
      // `restart`: a model call began again after a crash; what it streamed before is gone.
      return withTurn(state, frame.turn, (turn) => ({
        ...turn,
        text: (frame.restart ? "" : turn.text) + frame.text,
      }));
    case "reasoning_delta":
      return withTurn(state, frame.turn, (turn) => ({
        ...turn,
        reasoning: (frame.restart ? "" : turn.reasoning) + frame.text,
      }));
    case "message":
      return withMessage(state, frame.message);
    case "turn_end":
      return {
        ...state,
        turn: null,
        ended: { turn: frame.turn, status: frame.status, error: frame.error },
      };
    case "error":
      if (state.errors.some((e) => e.turn === frame.turn && e.message === frame.message)) {
        return state; // a failed turn reports its error when it happens and again at its end
      }
      return { ...state, errors: [...state.errors, { turn: frame.turn, message: frame.message }] };
    default:
      return state; // frames for other panels
  }
}

function withTurn(state, number, update) {
  const turn = state.turn && state.turn.turn === number
    ? state.turn
    : { turn: number, task_id: "", status: "running", text: "", reasoning: "" };
  return { ...state, turn: update(turn) };
}

function withMessage(state, message) {
  const index = state.messages.findIndex((m) => m.id === message.id);
  const messages = index === -1
    ? [...state.messages, message]
    : state.messages.map((m, i) => (i === index ? message : m));
  // A stored assistant message replaces the text streamed so far.
  const turn = message.role === "assistant" && state.turn && state.turn.turn === message.turn
    ? { ...state.turn, text: "", reasoning: "" }
    : state.turn;
  return { ...state, messages, turn };
}

// Tool results by the id of the call they answer.
export function toolResults(messages) {
  const results = new Map();
  for (const m of messages) if (m.role === "tool" && m.tool_call_id) results.set(m.tool_call_id, m);
  return results;
}

// The text of a message whose content is a string or a list of OpenAI content parts.
export function textOf(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.filter((p) => p.type === "text").map((p) => p.text).join("\n");
  }
  return content == null ? "" : JSON.stringify(content);
}

export function imagesOf(content) {
  if (!Array.isArray(content)) return [];
  return content.filter((p) => p.type === "image_url").map((p) => p.image_url.url);
}
