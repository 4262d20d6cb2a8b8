"""The stable head of every request: the system prompt.

It is byte-identical from request to request within a chat (no timestamps, nothing that moves),
so a provider's prefix cache can hit. The project's own instructions (`[agent] instructions` in
`<workspace>/.boocode/config.toml`) are appended; changing them changes the prompt from the
next model call on, which breaks the cached prefix once (the cache telemetry says so).
"""

from __future__ import annotations

from pathlib import Path

from boocode.tools.project_config import project_table

_SYSTEM_PROMPT = """You are BooCode, a coding agent working inside the project at {workspace}.
You read, edit and run code in that project with your tools:
- list_files, read_file, grep to look around; write_file and edit_file to change files;
- run_command to run a program (an argv list, no shell) inside the project.
Paths are relative to the project root; nothing outside it can be read or written.
Work in small verified steps: look before you change, run the project's checks after you change.
When you are done, answer with a short summary of what you did and what you found."""


def system_prompt(workspace: str, instructions: str | None = None, role: str | None = None) -> str:
    """The system prompt; `role` is an agent conversation's own (its agent type's body)."""
    prompt = _SYSTEM_PROMPT.format(workspace=workspace)
    if instructions:
        prompt += f"\n\nThe project's instructions:\n{instructions}"
    if role:
        prompt += f"\n\nYour role:\n{role}"
    return prompt


def project_instructions(workspace: Path) -> str | None:
    """`[agent] instructions` of the project's config file; None when absent or unreadable
    (a config that is a link leading outside the workspace is unreadable)."""
    table = project_table(workspace, "agent")
    instructions = table.get("instructions") if isinstance(table, dict) else None
    return instructions.strip() or None if isinstance(instructions, str) else None
