// One import for every view module: `html` templates (htm bound to Preact) and the hooks.
import { h, render } from "./vendor/preact.module.js";
import htm from "./vendor/htm.module.js";

export { h, render };
export {
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useReducer,
  useRef,
  useState,
} from "./vendor/hooks.module.js";
export const html = htm.bind(h);
