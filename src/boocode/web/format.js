// One way to write a number on the page: durations, token counts, "1 call" / "3 calls", dates;
// and one way to name a branch of a chat.

export function formatDuration(ms) {
  if (ms == null || !Number.isFinite(ms)) return "—";
  const value = Math.max(ms, 0); // a call that just began: the clocks may disagree by a little
  if (value < 10) return `${value.toFixed(1)} ms`;
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 10_000) return `${(value / 1000).toFixed(2)} s`;
  if (value < 60_000) return `${(value / 1000).toFixed(1)} s`;
  const minutes = Math.floor(value / 60_000);
  const seconds = Math.round((value % 60_000) / 1000);
  return `${minutes} min ${String(seconds).padStart(2, "0")} s`;
}

export function formatCount(n) {
  if (n == null) return "—";
  if (n < 10_000) return n.toLocaleString("en-US");
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 100_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

export function formatTokens(n) {
  return `${formatCount(n ?? 0)} ${n === 1 ? "token" : "tokens"}`;
}

// plural(1, "call") -> "1 call"; plural(3, "call") -> "3 calls"; plural(2, "match", "matches").
export function plural(n, one, many = `${one}s`) {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

// A moment: its time of day when it is today, else its date ("14:05", "Nov 24").
export function formatDate(iso) {
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleDateString([], { month: "short", day: "numeric" });
}

// "Main" is the chat as first written; a restore starts a branch named for where it forked.
export function branchName(branch) {
  if (branch.id === 0) return "Main";
  return branch.forked_at_turn ? `Restored after turn ${branch.forked_at_turn} (#${branch.id})` : `Branch #${branch.id}`;
}
