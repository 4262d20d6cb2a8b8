import json
import sys
from pathlib import Path

import pytest

from boocode.sandbox import Sandbox
from boocode.tools import WRITE_TOOLS, ToolRegistry, ToolResult, files

TOOL_NAMES = ["list_files", "read_file", "write_file", "edit_file", "grep", "run_command"]


@pytest.fixture
def tools(workspace: Path) -> ToolRegistry:
    return ToolRegistry(workspace, sandbox=Sandbox.unsandboxed(workspace))


def test_schemas_are_byte_identical_across_registries(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first = ToolRegistry(tmp_path / "one", sandbox=Sandbox.unsandboxed(tmp_path))
    second = ToolRegistry(
        tmp_path / "two", command_timeout_s=5, sandbox=Sandbox.unsandboxed(tmp_path)
    )

    schemas = first.schemas()
    schemas[0]["function"]["name"] = "mutated by a caller"

    assert json.dumps(first.schemas()) == json.dumps(second.schemas())
    assert [tool["function"]["name"] for tool in second.schemas()] == TOOL_NAMES


def test_schemas_are_openai_tools_with_closed_parameters(tools: ToolRegistry) -> None:
    expected = {
        "list_files": ({"path", "recursive"}, []),
        "read_file": ({"path", "start_line", "end_line"}, ["path"]),
        "write_file": ({"path", "content"}, ["path", "content"]),
        "edit_file": ({"path", "old_string", "new_string"}, ["path", "old_string", "new_string"]),
        "grep": ({"pattern", "path", "glob"}, ["pattern"]),
        "run_command": ({"argv", "cwd", "timeout_s"}, ["argv"]),
    }

    for tool in tools.schemas():
        assert tool["type"] == "function"
        function = tool["function"]
        parameters = function["parameters"]
        properties, required = expected[function["name"]]
        assert function["description"]
        assert parameters["type"] == "object"
        assert parameters["additionalProperties"] is False
        assert set(parameters["properties"]) == properties
        assert parameters.get("required", []) == required
        assert "title" not in json.dumps(parameters)


def test_run_command_schema_is_exactly_as_documented(tools: ToolRegistry) -> None:
    parameters = tools.schemas()[5]["function"]["parameters"]

    assert parameters["properties"]["argv"]["type"] == "array"
    assert parameters["properties"]["argv"]["items"] == {"type": "string"}
    assert parameters["properties"]["timeout_s"]["maximum"] == 600
    assert parameters["properties"]["cwd"] == {
        "default": ".",
        "description": "Working directory, relative to the workspace root.",
        "type": "string",
    }


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("read_file", '{"path": ', "arguments for read_file are not valid JSON"),
        ("read_file", '["a.txt"]', "arguments for read_file must be a JSON object"),
        ("read_file", "{}", "invalid arguments for read_file: path: Field required"),
        ("read_file", '{"path": 7}', "path: Input should be a valid string"),
        ("read_file", '{"path": "a", "start_line": "3"}', "start_line: Input should be a valid"),
        ("read_file", '{"path": "a", "start_line": 0}', "start_line: Input should be greater"),
        ("read_file", '{"path": "a", "mode": "r"}', "mode: Extra inputs are not permitted"),
        ("run_command", '{"argv": "ls -la"}', "argv: Input should be a valid list"),
        ("run_command", '{"argv": []}', "argv: List should have at least 1 item"),
        ("run_command", '{"argv": ["ls"], "timeout_s": 601}', "timeout_s: Input should be less"),
        ("rm_rf", "{}", "unknown tool 'rm_rf'; the tools are: list_files, read_file"),
    ],
)
async def test_bad_calls_become_error_results(
    tools: ToolRegistry, name: str, arguments: str, message: str
) -> None:
    result = await tools.execute(name, arguments)

    assert result.is_error
    assert message in result.content


async def test_tool_errors_become_error_results(tools: ToolRegistry) -> None:
    result = await tools.execute("read_file", '{"path": "../outside.txt"}')

    assert result == ToolResult(
        content="path '../outside.txt' is outside the workspace", is_error=True
    )


async def test_unexpected_exceptions_become_internal_error_results(
    tools: ToolRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> ToolResult:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(files, "read_file", broken)

    result = await tools.execute("read_file", '{"path": "a.txt"}')

    assert result.is_error
    assert result.content == "internal error in read_file: disk on fire"


async def test_write_tools_return_file_changes(tools: ToolRegistry, workspace: Path) -> None:
    created = await tools.execute("write_file", '{"path": "a.txt", "content": "one\\n"}')
    edited = await tools.execute(
        "edit_file", '{"path": "a.txt", "old_string": "one", "new_string": "two"}'
    )
    listed = await tools.execute("list_files", "")

    assert {"write_file", "edit_file"} == WRITE_TOOLS
    assert created.file_change is not None and created.file_change.before is None
    assert edited.file_change is not None
    assert (edited.file_change.before, edited.file_change.after) == ("one\n", "two\n")
    assert (workspace / "a.txt").read_text() == "two\n"
    assert listed.content == "a.txt"


async def test_read_and_grep_through_the_registry(tools: ToolRegistry, workspace: Path) -> None:
    (workspace / "a.py").write_text("x = 1\ny = 2\n")

    read = await tools.execute("read_file", '{"path": "a.py", "start_line": 2, "end_line": null}')
    found = await tools.execute("grep", '{"pattern": "y =", "glob": "*.py"}')

    assert read.content == "    2\ty = 2\n"
    assert found.content == "a.py:2: y = 2"


async def test_nonzero_exit_is_a_normal_result(tools: ToolRegistry) -> None:
    arguments = json.dumps({"argv": [sys.executable, "-c", "print('boom'); exit(3)"]})

    result = await tools.execute("run_command", arguments)

    assert not result.is_error
    assert result.content.startswith("exit code: 3 (")
    assert result.content.endswith("\nboom\n")
    assert result.metadata["exit_code"] == 3
    assert result.timed_out is False
    assert result.metadata["truncated_bytes"] == 0
    assert result.metadata["duration_ms"] > 0


async def test_timeout_is_an_error_result(workspace: Path) -> None:
    tools = ToolRegistry(workspace, command_timeout_s=0.3, sandbox=Sandbox.unsandboxed(workspace))
    arguments = json.dumps({"argv": [sys.executable, "-c", "import time; time.sleep(30)"]})

    result = await tools.execute("run_command", arguments)

    assert result.is_error
    assert result.timed_out is True
    assert result.metadata["exit_code"] is None
    assert "timed out" in result.content


async def test_run_command_cwd_is_guarded(tools: ToolRegistry, workspace: Path) -> None:
    (workspace / "sub").mkdir()

    inside = await tools.execute("run_command", '{"argv": ["pwd"], "cwd": "sub"}')
    outside = await tools.execute("run_command", '{"argv": ["pwd"], "cwd": ".."}')

    assert inside.content.endswith(f"\n{workspace.resolve() / 'sub'}\n")
    assert outside.is_error
    assert outside.content == "path '..' is outside the workspace"
