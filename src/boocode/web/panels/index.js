// Side-panel modules: each one calls registerPanel() from ../panels.js when it is imported.
// Add a line `import "./<your-panel>.js";` here for a new panel.
import "../timeline.js";
import "../files.js";
import "../traces.js";
import "../autofix.js";
import "../subagents.js";
import "../workflows.js";

export {};
