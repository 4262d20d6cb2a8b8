"""Agent types, the `agentType` of `agent(prompt, {agentType})`: markdown definitions with YAML
front matter (Claude Code's form), read from the project and the user's home, and two built-ins."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError, field_validator

from boocode.tools.registry import TOOL_SCHEMAS
from boocode.workflows.discovery import DefinitionSource, definition_files, definition_text

GENERAL_PURPOSE = "general-purpose"
EXPLORE = "Explore"
BOOCODE_TOOLS: tuple[str, ...] = tuple(schema["function"]["name"] for schema in TOOL_SCHEMAS)
# Claude Code's tool names for what BooCode's tools do; BooCode's own names are taken as they are.
CLAUDE_CODE_TOOLS = {
    "Read": "read_file",
    "Write": "write_file",
    "Edit": "edit_file",
    "MultiEdit": "edit_file",
    "Grep": "grep",
    "Glob": "list_files",
    "LS": "list_files",
    "Bash": "run_command",
}
_FRONT_MATTER = re.compile(
    r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?$\n?(.*)\Z", re.DOTALL | re.MULTILINE
)

_EXPLORE_PROMPT = """\
You are an explorer. Investigate the codebase to answer the question you are given: list \
directories, read files and grep for names, following the code wherever the answer leads.

Never change anything: you have no tools that write, and you do not suggest that you ran \
anything you did not. Report what you found, plainly, with the file paths and line numbers \
that support each point, and say what you could not determine."""


class AgentType(BaseModel):
    """What an agent of this type is given: its tools (None: all), model and system prompt.

    `warning` is a line for the run's log: a tool name that was ignored, or why the type asked
    for could not be used and general-purpose serves instead.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    tools: tuple[str, ...] | None = None
    model: str | None = None
    system_prompt: str | None = None
    source: DefinitionSource = DefinitionSource.BUILTIN
    path: Path | None = None
    warning: str | None = None


BUILTIN_TYPES = (
    AgentType(
        name=GENERAL_PURPOSE,
        description="A general-purpose agent with every tool: research, edit, run commands.",
    ),
    AgentType(
        name=EXPLORE,
        description="A read-only explorer: finds and reads code, then reports; changes nothing.",
        tools=("list_files", "read_file", "grep"),
        system_prompt=_EXPLORE_PROMPT,
    ),
)


class _FrontMatter(BaseModel):
    """The keys of a definition's front matter that BooCode uses; others are ignored."""

    name: StrictStr | None = None
    description: StrictStr = ""
    tools: list[StrictStr] | None = None
    model: StrictStr | None = None

    @field_validator("tools", mode="before")
    @classmethod
    def _split_comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class _BrokenDefinition(BaseModel):
    name: str
    path: Path
    error: str


def resolve(workspace: Path, home: Path, name: str | None) -> AgentType:
    """The type called `name` (None: general-purpose); an unknown or broken one falls back to
    general-purpose with a `warning` that says why."""
    name = name or GENERAL_PURPOSE
    definitions = _definitions(workspace, home)
    definition = definitions.get(name)
    if isinstance(definition, _BrokenDefinition):
        return _fallback(f"agent type {name!r} ({definition.path}): {definition.error}")
    if definition is None:
        names = ", ".join(sorted(known.name for known in _usable(definitions)))
        return _fallback(f"unknown agent type {name!r} (the types are: {names})")
    return definition


def list_types(workspace: Path, home: Path) -> list[AgentType]:
    """The usable types by name, each the definition of highest precedence."""
    return sorted(_usable(_definitions(workspace, home)), key=lambda known: known.name)


def _fallback(reason: str) -> AgentType:
    return BUILTIN_TYPES[0].model_copy(update={"warning": f"{reason}; using {GENERAL_PURPOSE}"})


def _usable(definitions: dict[str, AgentType | _BrokenDefinition]) -> list[AgentType]:
    return [known for known in definitions.values() if isinstance(known, AgentType)]


def _definitions(workspace: Path, home: Path) -> dict[str, AgentType | _BrokenDefinition]:
    """Each name's definition of highest precedence; a broken one hides those below it too."""
    found: dict[str, AgentType | _BrokenDefinition] = {}
    for source, path in definition_files(workspace, home, "agents", "*.md"):
        definition = _read(path, source, workspace)
        found.setdefault(definition.name, definition)
    for builtin in BUILTIN_TYPES:
        found.setdefault(builtin.name, builtin)
    return found


def _read(path: Path, source: DefinitionSource, workspace: Path) -> AgentType | _BrokenDefinition:
    try:
        front_matter, body = _parse(definition_text(source, path, workspace))
        fields = _FrontMatter.model_validate(front_matter)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return _BrokenDefinition(name=path.stem, path=path, error=_one_line(error))
    name = fields.name or path.stem
    tools, ignored = _boocode_tools(fields.tools)
    warning = None
    if ignored:
        warning = f"agent type {name!r} ignores tools BooCode does not have: {', '.join(ignored)}"
    return AgentType(
        name=name,
        description=fields.description,
        tools=tools,
        model=None if fields.model == "inherit" else fields.model,
        system_prompt=body.strip() or None,
        source=source,
        path=path,
        warning=warning,
    )


def _parse(text: str) -> tuple[object, str]:
    """The front matter's YAML value and the body after it."""
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if match is None:
        raise ValueError("it does not begin with YAML front matter between two `---` lines")
    try:
        front_matter = yaml.safe_load(match[1])
    except yaml.YAMLError as error:
        raise ValueError(f"its front matter is not valid YAML: {error}") from None
    if not isinstance(front_matter, dict):
        raise ValueError("its front matter is not a mapping of keys (name, description, tools)")
    return front_matter, match[2]


def _boocode_tools(names: list[str] | None) -> tuple[tuple[str, ...] | None, list[str]]:
    """BooCode's tools for the names a definition lists, and the names it cannot map."""
    if names is None:
        return None, []
    tools: list[str] = []
    ignored: list[str] = []
    for name in names:
        tool = CLAUDE_CODE_TOOLS.get(name, name)
        if tool not in BOOCODE_TOOLS:
            ignored.append(name)
        elif tool not in tools:
            tools.append(tool)
    return tuple(tools), ignored


def _one_line(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        return f"front matter {field}: {first['msg']}"
    return " ".join(str(error).split())
