// The time now, redrawn every `everyMs` while something on screen is running.
import { useEffect, useState } from "./html.js";

export function useNow(running, everyMs) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!running) return undefined;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [running, everyMs]);
  return now;
}
