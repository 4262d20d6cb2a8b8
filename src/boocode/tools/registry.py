"""The agent's tool set: the schemas the model sees, and one entry point that runs a call."""

import copy
import json
import logging
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from boocode.sandbox import Sandbox
from boocode.tools import files
from boocode.tools.errors import ToolError
from boocode.tools.grep import grep
from boocode.tools.path_guard import PathGuard
from boocode.tools.result import ToolResult
from boocode.tools.run_command import ProcessObserver, format_for_model, run_argv

logger = logging.getLogger(__name__)

A = TypeVar("A", bound=BaseModel)

WRITE_TOOLS = frozenset({"write_file", "edit_file"})
"""Tools that change files; their results carry a FileChange."""
MAX_COMMAND_TIMEOUT_S = 600


class _ToolArgs(BaseModel, ABC):
    """The validated arguments of one tool call, which know how to run it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @abstractmethod
    async def run(self, tools: "ToolRegistry") -> ToolResult: ...


class ListFilesArgs(_ToolArgs):
    path: str = Field(".", description="Directory, relative to the workspace root.")
    recursive: bool = Field(False, description="List the whole tree below the directory.")

    async def run(self, tools: "ToolRegistry") -> ToolResult:
        return await files.list_files(tools.guard, self.path, self.recursive)


class ReadFileArgs(_ToolArgs):
    path: str = Field(description="File, relative to the workspace root.")
    start_line: int | None = Field(None, ge=1, description="First line to read (1-based).")
    end_line: int | None = Field(None, ge=1, description="Last line to read (inclusive).")

    async def run(self, tools: "ToolRegistry") -> ToolResult:
        return await files.read_file(tools.guard, self.path, self.start_line, self.end_line)


class WriteFileArgs(_ToolArgs):
    path: str = Field(description="File, relative to the workspace root.")
    content: str = Field(description="The complete new content of the file.")

    async def run(self, tools: "ToolRegistry") -> ToolResult:
        return await files.write_file(tools.guard, self.path, self.content)


class EditFileArgs(_ToolArgs):
    path: str = Field(description="File, relative to the workspace root.")
    old_string: str = Field(description="Exact text to replace; must occur exactly once.")
    new_string: str = Field(description="Text to put in its place.")

    async def run(self, tools: "ToolRegistry") -> ToolResult:
        return await files.edit_file(tools.guard, self.path, self.old_string, self.new_string)


class GrepArgs(_ToolArgs):
    pattern: str = Field(description="Python regular expression to search for.")
    path: str = Field(".", description="File or directory to search, relative to the root.")
    glob: str | None = Field(None, description="Only files whose path or name match, e.g. *.py")

    async def run(self, tools: "ToolRegistry") -> ToolResult:
        return await grep(tools.guard, self.pattern, self.path, self.glob)


class RunCommandArgs(_ToolArgs):
    argv: list[str] = Field(
        min_length=1, description='Program and arguments, e.g. ["pytest", "-q", "tests"].'
    )
    cwd: str = Field(".", description="Working directory, relative to the workspace root.")
    timeout_s: float | None = Field(
        None, gt=0, le=MAX_COMMAND_TIMEOUT_S, description="Time limit in seconds."
    )

    async def run(self, tools: "ToolRegistry") -> ToolResult:
        result = await run_argv(
            self.argv,
            cwd=tools.guard.resolve(self.cwd),
            guard=tools.guard,
            sandbox=tools.sandbox,
            timeout_s=self.timeout_s or tools.command_timeout_s,
            on_start=tools.on_process_start,
        )
        return ToolResult(
            content=format_for_model(result),
            is_error=result.timed_out,
            timed_out=result.timed_out,
            metadata={
                "exit_code": result.exit_code,
                "duration_ms": result.duration_ms,
                "truncated_bytes": result.truncated_bytes,
                "sandboxed": result.sandboxed,
            },
        )


_TOOLS: dict[str, tuple[str, type[_ToolArgs]]] = {
    "list_files": (
        "List a directory of the workspace, or its whole tree with recursive=true. "
        "Directories end with '/'; .git and .gitignored paths are left out.",
        ListFilesArgs,
    ),
    "read_file": (
        "Read a text file of the workspace, with line numbers. "
        "Use start_line/end_line to read part of a long file.",
        ReadFileArgs,
    ),
    "write_file": (
        "Create a file, or replace a file's whole content. Parent directories are created.",
        WriteFileArgs,
    ),
    "edit_file": (
        "Replace old_string with new_string in a file. old_string must match the file "
        "exactly, whitespace included, and occur exactly once.",
        EditFileArgs,
    ),
    "grep": (
        "Search the workspace's text files for a regular expression. "
        "Prints matching lines as path:line: text; .gitignored files are skipped.",
        GrepArgs,
    ),
    "run_command": (
        "Run a program in the workspace, without a shell: argv is the program and its "
        "arguments, so pipes, redirects and $VARS are not interpreted. Returns the exit "
        "code and the combined stdout/stderr (long output keeps its start and end).",
        RunCommandArgs,
    ),
}


class _ParametersSchema(GenerateJsonSchema):
    """Pydantic's JSON Schema trimmed for a model: no titles; optional means omittable."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        json_schema = super().default_schema(schema)
        if json_schema.get("default", "") is None:
            del json_schema["default"]
        return json_schema


def openai_tool(name: str, description: str, args: type[BaseModel]) -> dict[str, Any]:
    """A tool in OpenAI "tools" format, its parameters the JSON Schema of `args`."""
    parameters = args.model_json_schema(schema_generator=_ParametersSchema)
    del parameters["title"]
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


# Built once: the provider's prompt cache needs the same bytes on every call.
TOOL_SCHEMAS: tuple[dict[str, Any], ...] = tuple(
    openai_tool(name, description, args) for name, (description, args) in _TOOLS.items()
)


class ToolRegistry:
    """The tools of one workspace: their schemas, and `execute` for a model's tool call.

    `sandbox` confines run_command and says whether the file tools open hard-linked files.
    """

    def __init__(
        self,
        workspace: Path,
        command_timeout_s: float = 30.0,
        *,
        sandbox: Sandbox,
        on_process_start: ProcessObserver | None = None,
    ) -> None:
        self._guard = PathGuard(workspace, allow_hard_links=sandbox.policy.allow_hard_links)
        self._command_timeout_s = command_timeout_s
        self._sandbox = sandbox
        self.on_process_start = on_process_start

    @property
    def guard(self) -> PathGuard:
        return self._guard

    @property
    def sandbox(self) -> Sandbox:
        return self._sandbox

    @property
    def command_timeout_s(self) -> float:
        return self._command_timeout_s

    def schemas(self) -> list[dict[str, Any]]:
        """The tools in OpenAI "tools" format, in a fixed order, identical on every call."""
        return copy.deepcopy(list(TOOL_SCHEMAS))

    async def execute(self, name: str, arguments_json: str) -> ToolResult:
        """Run one tool call; every failure comes back as an `is_error` result, never raised."""
        try:
            args = _parse_arguments(name, arguments_json)
            return await args.run(self)
        except ToolError as exc:
            return ToolResult(content=str(exc), is_error=True)
        except Exception as exc:
            logger.exception("tool %s failed unexpectedly", name)
            return ToolResult(content=f"internal error in {name}: {exc}", is_error=True)


def _parse_arguments(name: str, arguments_json: str) -> _ToolArgs:
    if name not in _TOOLS:
        raise ToolError(f"unknown tool {name!r}; the tools are: {', '.join(_TOOLS)}")
    return parse_arguments(name, arguments_json, _TOOLS[name][1])


def parse_arguments(name: str, arguments_json: str, args_model: type[A]) -> A:
    """A model's arguments for tool `name`, validated; a ToolError that says what is wrong."""
    try:
        data = json.loads(arguments_json or "{}")
    except json.JSONDecodeError as exc:
        raise ToolError(
            f"arguments for {name} are not valid JSON: {exc.msg} at position {exc.pos}"
        ) from None
    if not isinstance(data, dict):
        raise ToolError(f"arguments for {name} must be a JSON object")
    try:
        return args_model.model_validate(data)
    except ValidationError as exc:
        raise ToolError(f"invalid arguments for {name}: {_describe(exc)}") from None


def _describe(error: ValidationError) -> str:
    problems = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"]) or "arguments"
        problems.append(f"{where}: {problem['msg']}")
    return "; ".join(problems)
