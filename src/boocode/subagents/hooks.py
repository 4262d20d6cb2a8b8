"""User hooks on subagent events: commands from the project's config, event JSON on stdin.

```toml
[hooks]
subagent_start = [["python3", "scripts/announce.py"]]
subagent_stop = [["notify-send", "BooCode", "a subagent ended"]]
```

Each runs in the workspace through the command sandbox, like `run_command`; a hook that fails
is logged and changes nothing about the subagent.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from boocode.config import Settings
from boocode.contracts.subagents import HookEvent, SubagentHookEvent, SubagentOut
from boocode.sandbox import sandbox_for
from boocode.tools import PathGuard, ToolError
from boocode.tools.project_config import CONFIG_PATH, project_table
from boocode.tools.run_command import run_argv

log = logging.getLogger(__name__)

HOOK_TIMEOUT_S = 30.0


def configured(workspace: Path, event: HookEvent) -> list[list[str]]:
    """The commands of `event` in `[hooks]`: a list of argv lists (one argv list is fine); none
    when the config is unreadable or a link leading outside the workspace."""
    table = project_table(workspace, "hooks")
    commands: Any = table.get(event, []) if isinstance(table, dict) else []
    if commands and all(isinstance(part, str) for part in commands):
        commands = [commands]
    if not isinstance(commands, list):
        return []
    valid = [
        c for c in commands if isinstance(c, list) and c and all(isinstance(a, str) for a in c)
    ]
    if len(valid) != len(commands):
        log.warning("[hooks] %s in %s: every entry must be a list of strings", event, CONFIG_PATH)
    return valid


async def run_hooks(
    settings: Settings, workspace: Path, event: HookEvent, subagent: SubagentOut
) -> None:
    commands = configured(workspace, event)
    if not commands:
        return
    data = SubagentHookEvent(event=event, subagent=subagent).model_dump_json().encode()
    sandbox = sandbox_for(settings, workspace)
    guard = PathGuard(workspace, allow_hard_links=sandbox.policy.allow_hard_links)
    for argv in commands:
        try:
            result = await run_argv(
                argv,
                cwd=workspace,
                guard=guard,
                sandbox=sandbox,
                timeout_s=HOOK_TIMEOUT_S,
                stdin=data,
            )
        except ToolError as exc:
            log.warning("%s hook %s did not run: %s", event, argv[0], exc)
            continue
        if result.timed_out or result.exit_code != 0:
            log.warning(
                "%s hook %s ended with %s: %s",
                event,
                argv[0],
                "a timeout" if result.timed_out else f"exit code {result.exit_code}",
                result.output[-500:],
            )
