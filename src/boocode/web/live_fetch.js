// REST data a panel shows, fetched again whenever a turn ends or the chat resynchronises.
import { useEffect, useState } from "./html.js";

const REFRESH_ON = new Set(["snapshot", "turn_end"]);

export function useLiveFetch(connection, load, deps) {
  const [data, setData] = useState(null);
  const [problem, setProblem] = useState(null);
  const [version, setVersion] = useState(0);

  useEffect(() => connection.subscribe((frame) => {
    if (REFRESH_ON.has(frame.type)) setVersion((v) => v + 1);
  }), [connection]);

  useEffect(() => {
    let live = true;
    load()
      .then((value) => { if (live) { setData(value); setProblem(null); } })
      .catch((error) => { if (live) setProblem(error.message); });
    return () => { live = false; };
  }, [...deps, version]);

  const refresh = () => setVersion((v) => v + 1);
  return { data, problem, setProblem, refresh };
}
