"""Agent types: Claude Code's markdown definitions read from the project and the home, BooCode's
tool names for Claude Code's, and general-purpose with a warning for a type that cannot be used."""

from __future__ import annotations

from pathlib import Path

from boocode.workflows.agent_types import AgentType, list_types, resolve
from boocode.workflows.discovery import DefinitionSource

REVIEWER = """\
---
name: reviewer
description: Reviews a change for bugs.
tools: Read, Grep, Glob, Bash, WebFetch
model: sonnet
---

You review code. Report bugs with file and line.
"""


def write_agent(folder: Path, file_name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name
    path.write_text(text)
    return path


def definition(name: str, description: str, extra: str = "") -> str:
    return f"---\nname: {name}\ndescription: {description}\n{extra}---\nBe {description}.\n"


def test_the_builtins_are_general_purpose_and_a_read_only_explorer(tmp_path: Path) -> None:
    default = resolve(tmp_path, tmp_path / "home", None)
    explore = resolve(tmp_path, tmp_path / "home", "Explore")

    assert (default.name, default.tools, default.system_prompt, default.warning) == (
        "general-purpose",
        None,
        None,
        None,
    )
    assert explore.tools == ("list_files", "read_file", "grep")
    assert explore.system_prompt is not None and "Never change anything" in explore.system_prompt
    assert [agent.name for agent in list_types(tmp_path, tmp_path / "home")] == [
        "Explore",
        "general-purpose",
    ]


def test_a_claude_code_definition_gets_boocodes_tool_names(tmp_path: Path) -> None:
    path = write_agent(tmp_path / ".claude" / "agents", "code-reviewer.md", REVIEWER)

    reviewer = resolve(tmp_path, tmp_path / "home", "reviewer")

    assert reviewer == AgentType(
        name="reviewer",
        description="Reviews a change for bugs.",
        tools=("read_file", "grep", "list_files", "run_command"),
        model="sonnet",
        system_prompt="You review code. Report bugs with file and line.",
        source=DefinitionSource.PROJECT,
        path=path,
        warning="agent type 'reviewer' ignores tools BooCode does not have: WebFetch",
    )


def test_tools_as_a_list_boocode_names_and_an_inherited_model(tmp_path: Path) -> None:
    write_agent(
        tmp_path / "home" / ".boocode" / "agents",
        "editor.md",
        "---\ndescription: edits\ntools:\n  - Edit\n  - MultiEdit\n  - read_file\n"
        "model: inherit\n---\n",
    )

    editor = resolve(tmp_path, tmp_path / "home", "editor")

    assert (editor.name, editor.source) == ("editor", DefinitionSource.GLOBAL)
    assert editor.tools == ("edit_file", "read_file")
    assert editor.model is None and editor.system_prompt is None and editor.warning is None


def test_project_over_global_boocode_over_claude_and_both_over_builtins(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_agent(home / ".boocode" / "agents", "a.md", definition("reviewer", "global"))
    write_agent(tmp_path / ".claude" / "agents", "a.md", definition("reviewer", "claude"))
    write_agent(tmp_path / ".boocode" / "agents", "b.md", definition("reviewer", "boocode"))
    write_agent(home / ".claude" / "agents", "explore.md", definition("Explore", "mine"))

    assert resolve(tmp_path, home, "reviewer").description == "boocode"
    explore = resolve(tmp_path, home, "Explore")
    assert (explore.description, explore.tools) == ("mine", None)
    assert [(agent.name, agent.source) for agent in list_types(tmp_path, home)] == [
        ("Explore", DefinitionSource.GLOBAL),
        ("general-purpose", DefinitionSource.BUILTIN),
        ("reviewer", DefinitionSource.PROJECT),
    ]


def test_an_unknown_type_is_general_purpose_with_a_warning(tmp_path: Path) -> None:
    agent = resolve(tmp_path, tmp_path / "home", "reviewr")

    assert agent.name == "general-purpose" and agent.tools is None
    assert agent.warning == (
        "unknown agent type 'reviewr' (the types are: Explore, general-purpose); "
        "using general-purpose"
    )


def test_a_broken_definition_is_general_purpose_with_the_reason(tmp_path: Path) -> None:
    folder = tmp_path / ".claude" / "agents"
    plain = write_agent(folder, "plain.md", "You are a plain agent.\n")
    bad_yaml = write_agent(folder, "bad-yaml.md", "---\nname: [unclosed\n---\nbody\n")
    bad_tools = write_agent(folder, "bad-tools.md", "---\nname: bad-tools\ntools: 3\n---\n")
    # A broken definition in the project still hides the global one of its name.
    write_agent(tmp_path / "home" / ".claude" / "agents", "plain.md", definition("plain", "ok"))

    def warning(name: str) -> str | None:
        agent = resolve(tmp_path, tmp_path / "home", name)
        assert agent.name == "general-purpose"
        return agent.warning

    assert warning("plain") == (
        f"agent type 'plain' ({plain}): it does not begin with YAML front matter between two "
        "`---` lines; using general-purpose"
    )
    assert (warning("bad-yaml") or "").startswith(
        f"agent type 'bad-yaml' ({bad_yaml}): its front matter is not valid YAML: "
    )
    assert warning("bad-tools") == (
        f"agent type 'bad-tools' ({bad_tools}): front matter tools: Input should be a valid "
        "list; using general-purpose"
    )
    assert "plain" not in [agent.name for agent in list_types(tmp_path, tmp_path / "home")]


def test_a_project_definition_linked_to_a_file_outside_is_not_read(tmp_path: Path) -> None:
    secret = write_agent(tmp_path / "outside", "leak.md", definition("leak", "SECRET-ROLE"))
    folder = tmp_path / "workspace" / ".claude" / "agents"
    folder.mkdir(parents=True)
    (folder / "leak.md").symlink_to(secret)

    agent = resolve(tmp_path / "workspace", tmp_path / "home", "leak")

    assert agent.name == "general-purpose" and "SECRET-ROLE" not in str(agent.system_prompt)
    assert "goes through a symlink that points outside the workspace" in str(agent.warning)
