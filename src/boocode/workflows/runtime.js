// The globals of a workflow script, installed in the child's isolate before the script runs.
// install(hostCall, configJson) returns run(body). hostCall is the isolate's only way out: it
// takes one JSON request and resolves to one JSON reply (see protocol.py). run(body) resolves to
// {finished, hostCalls}: the last line for the host, and how many calls came before it.
(function install(hostCall, configJson) {
  "use strict";
  const config = JSON.parse(configJson);
  const SCRIPT_URL = "workflow.js";
  const MAX_LOG_CHARS = 65536;
  // The result goes to the run's record, its `ended` frame and the chat's notification.
  const MAX_RESULT_CHARS = 16 * 1024 * 1024;
  const evaluate = eval; // indirect: the script is compiled in the global scope, not in here
  let spent = config.spent;
  let currentPhase = null;
  let nextId = 1;
  let hostCalls = 0;

  function callHost(message) {
    hostCalls += 1;
    return hostCall(toJson(message));
  }

  // JSON of `value` whose strings (keys too) are well-formed: a lone surrogate becomes U+FFFD,
  // as it would in storage, since the host's JSON reader refuses one.
  function toJson(value) {
    return JSON.stringify(value, function (key, item) {
      if (typeof item === "string") return item.toWellFormed();
      if (item === null || typeof item !== "object" || Array.isArray(item)) return item;
      if (Object.keys(item).every((name) => name.isWellFormed())) return item;
      return Object.fromEntries(Object.entries(item).map(([name, inner]) => [name.toWellFormed(), inner]));
    });
  }

  function describe(value) {
    if (value === null || value === undefined) return String(value);
    if (Array.isArray(value)) return "an array";
    if (typeof value.then === "function") return "a Promise";
    return /^[aeiou]/.test(typeof value) ? `an ${typeof value}` : `a ${typeof value}`;
  }

  function text(value) {
    if (typeof value === "string") return value;
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      return String(value);
    }
  }

  async function request(message) {
    const reply = JSON.parse(await callHost({ ...message, id: nextId++ }));
    spent = reply.spent;
    if (!reply.ok) throw new Error(reply.error);
    return reply.value;
  }

  function notify(message) {
    callHost(message);
  }

  const AGENT_OPTIONS = {
    label: "string",
    phase: "string",
    schema: "object",
    model: "string",
    effort: "string",
    isolation: "string",
    agentType: "string",
  };

  function agentOptions(opts) {
    if (opts === undefined || opts === null) return {};
    if (typeof opts !== "object" || Array.isArray(opts)) {
      throw new TypeError(`agent(prompt, opts) takes an options object, got ${describe(opts)}`);
    }
    const options = {};
    for (const [key, value] of Object.entries(opts)) {
      if (!Object.hasOwn(AGENT_OPTIONS, key)) {
        throw new TypeError(`agent() has no option "${key}"; it takes ${Object.keys(AGENT_OPTIONS).join(", ")}`);
      }
      if (value === undefined || value === null) continue;
      const expected = AGENT_OPTIONS[key];
      if (typeof value !== expected || Array.isArray(value)) {
        const wanted = expected === "object" ? "an object (a JSON Schema)" : "a string";
        throw new TypeError(`agent() option "${key}" must be ${wanted}, got ${describe(value)}`);
      }
      options[key] = value;
    }
    return options;
  }

  async function agent(prompt, opts) {
    if (typeof prompt !== "string") {
      throw new TypeError(`agent(prompt, opts) takes a prompt string, got ${describe(prompt)}`);
    }
    const options = agentOptions(opts);
    if (options.phase === undefined && currentPhase !== null) options.phase = currentPhase;
    return request({ type: "agent", prompt, options });
  }

  // Another workflow, run inline: its body gets its own args and shares everything else (agent
  // slots, the agent count, the budget, phases and log). One level: it cannot nest again.
  async function workflow(nameOrRef, args) {
    if (typeof nameOrRef !== "string" || nameOrRef === "") {
      throw new TypeError(`workflow(nameOrRef, args) takes a workflow name, got ${describe(nameOrRef)}`);
    }
    const loaded = await request({ type: "workflow", name: nameOrRef });
    const inner = evaluate(
      `(async function (args, workflow) {"use strict";\n${loaded.body}\n})\n//# sourceURL=workflow-${loaded.name}.js`,
    );
    return inner(args === undefined ? null : args, nestedWorkflow);
  }

  async function nestedWorkflow(nameOrRef) {
    throw new Error(
      `workflow(${JSON.stringify(nameOrRef)}) inside a workflow that workflow() started: ` +
        "workflows nest one level only",
    );
  }

  function checkCount(name, what, count) {
    if (count > config.maxItems) {
      throw new RangeError(
        `${name}() takes at most ${config.maxItems.toLocaleString("en-US")} ${what} per call, ` +
          `got ${count.toLocaleString("en-US")}; split the work into batches`,
      );
    }
  }

  async function parallel(thunks) {
    if (!Array.isArray(thunks)) {
      throw new TypeError(`parallel(thunks) takes an array of functions, got ${describe(thunks)}`);
    }
    checkCount("parallel", "functions", thunks.length);
    thunks.forEach((thunk, index) => {
      if (typeof thunk !== "function") {
        throw new TypeError(
          `parallel() takes functions that start the work, like () => agent(...); ` +
            `item ${index} is ${describe(thunk)}`,
        );
      }
    });
    return Promise.all(thunks.map((thunk) => settle(() => thunk())));
  }

  async function pipeline(items, ...stages) {
    if (!Array.isArray(items)) {
      throw new TypeError(`pipeline(items, ...stages) takes an array of items, got ${describe(items)}`);
    }
    checkCount("pipeline", "items", items.length);
    stages.forEach((stage, index) => {
      if (typeof stage !== "function") {
        throw new TypeError(`pipeline() stages are functions (prev, item, index); stage ${index + 1} is ${describe(stage)}`);
      }
    });
    return Promise.all(
      items.map((item, index) =>
        settle(async () => {
          let value = item;
          for (const stage of stages) value = await stage(value, item, index);
          return value;
        }),
      ),
    );
  }

  // A failed branch becomes null, so one bad item never sinks its siblings.
  async function settle(start) {
    try {
      return await start();
    } catch {
      return null;
    }
  }

  function phase(title) {
    if (typeof title !== "string") throw new TypeError(`phase(title) takes a string, got ${describe(title)}`);
    currentPhase = title;
    notify({ type: "phase", title });
  }

  function log(...values) {
    const message = values.map(text).join(" ");
    notify({ type: "log", message: message.length > MAX_LOG_CHARS ? `${message.slice(0, MAX_LOG_CHARS)}…` : message });
  }

  const budget = Object.freeze({
    total: config.budgetTotal,
    spent: () => spent,
    remaining: () => (config.budgetTotal === null ? Infinity : Math.max(0, config.budgetTotal - spent)),
  });

  function unavailable(what) {
    return () => {
      throw new Error(
        `${what} is not available in a workflow script: a workflow must replay the same way when it ` +
          "is resumed; pass the value in through args",
      );
    };
  }

  const RealDate = Date;
  function GuardedDate(...values) {
    if (!new.target || values.length === 0) unavailable("The current date (Date() or new Date())")();
    return Reflect.construct(RealDate, values, new.target);
  }
  GuardedDate.prototype = RealDate.prototype;
  GuardedDate.UTC = RealDate.UTC;
  GuardedDate.parse = RealDate.parse;
  GuardedDate.now = unavailable("Date.now()");
  RealDate.prototype.constructor = GuardedDate;
  Math.random = unavailable("Math.random()");
  for (const name of Object.getOwnPropertyNames(Temporal.Now)) {
    Temporal.Now[name] = unavailable(`Temporal.Now.${name}()`);
  }
  // Formatting no date formats the current one.
  const dateFormat = Intl.DateTimeFormat.prototype;
  const boundFormat = Object.getOwnPropertyDescriptor(dateFormat, "format").get;
  const formatToParts = dateFormat.formatToParts;
  const noDate = unavailable("Formatting the current date (Intl.DateTimeFormat with no date)");
  Object.defineProperty(dateFormat, "format", {
    get() {
      const format = boundFormat.call(this);
      return (date) => (date === undefined ? noDate() : format(date));
    },
  });
  dateFormat.formatToParts = function (date) {
    return date === undefined ? noDate() : formatToParts.call(this, date);
  };

  const globals = {
    agent,
    parallel,
    pipeline,
    workflow,
    phase,
    log,
    budget,
    args: config.args,
    Date: GuardedDate,
    console: Object.freeze({ log, info: log, warn: log, error: log, debug: log }),
  };
  for (const [name, value] of Object.entries(globals)) {
    Object.defineProperty(globalThis, name, { value, writable: false, enumerable: false, configurable: false });
  }

  function scriptLine(error) {
    const match = /workflow\.js:(\d+):\d+/.exec(String(error?.stack ?? ""));
    return match ? Number(match[1]) - 1 : null; // the wrapper below takes the first line
  }

  function finished(fields) {
    return toJson({ finished: { type: "finished", ...fields }, hostCalls });
  }

  function failure(error) {
    const line = scriptLine(error);
    const what = error instanceof Error ? `${error.name}: ${error.message}` : `the script threw ${text(error)}`;
    const oneLine = what.replace(/\s*\n\s*/g, " ").slice(0, 2000);
    return finished({ ok: false, error: line === null ? oneLine : `${oneLine} (line ${line})`, line });
  }

  return async function run(body) {
    try {
      const script = evaluate(`(async function () {"use strict";\n${body}\n})\n//# sourceURL=${SCRIPT_URL}`);
      const result = await script();
      let json;
      try {
        json = toJson(result === undefined ? null : result) ?? "null";
      } catch (error) {
        const why = error.message.split("\n")[0];
        return finished({ ok: false, error: `the script's result cannot be sent as JSON: ${why}` });
      }
      if (json.length > MAX_RESULT_CHARS) {
        return finished({
          ok: false,
          error:
            `the script's result has ${json.length.toLocaleString("en-US")} characters as JSON; ` +
            `a workflow's result may have ${MAX_RESULT_CHARS.toLocaleString("en-US")} (16 MiB)`,
        });
      }
      return finished({ ok: true, result: JSON.parse(json) });
    } catch (error) {
      return failure(error);
    }
  };
});
//# sourceURL=boocode-workflow-runtime.js
