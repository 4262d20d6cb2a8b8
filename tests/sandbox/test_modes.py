"""The modes said out loud: auto falls back with a warning, required refuses, off is off; the
settings come from the environment and the project's `[sandbox]` table."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from boocode.agent.prompt import project_instructions
from boocode.autofix.config import ProjectConfigError, read_project_autofix
from boocode.config import Settings
from boocode.sandbox import Sandbox, SandboxMode, SandboxPolicy, probe
from boocode.sandbox.policy import ProjectAllowance
from boocode.subagents.hooks import configured
from boocode.tools import PathGuard, ToolError
from boocode.tools.run_command import run_argv
from sandbox.conftest import NO_USERNS, broken_bwrap
from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer
from support.processes import boocode_env, run_boocode
from support.sandbox import require_bubblewrap


def test_the_probe_reports_why_bubblewrap_cannot_run(tmp_path: Path) -> None:
    missing = probe(str(tmp_path / "no-such-bwrap"))
    refused = probe(str(broken_bwrap(tmp_path)))

    assert not missing.works and "is not installed" in str(missing.problem)
    assert "apt-get install bubblewrap" in str(missing.problem)
    assert not refused.works
    assert str(refused.problem).endswith(f"cannot create a sandbox on this machine: {NO_USERNS}")


async def test_auto_runs_unsandboxed_and_required_refuses(workspace: Path, tmp_path: Path) -> None:
    program = str(broken_bwrap(tmp_path / "bin"))
    guard = PathGuard(workspace)
    auto = Sandbox.open(SandboxPolicy(mode=SandboxMode.AUTO), workspace, program=program)
    required = Sandbox.open(SandboxPolicy(mode=SandboxMode.REQUIRED), workspace, program=program)

    ran = await run_argv(["echo", "hi"], cwd=workspace, guard=guard, sandbox=auto)
    with pytest.raises(ToolError, match='commands are refused: \\[sandbox\\] mode is "required"'):
        await run_argv(["echo", "hi"], cwd=workspace, guard=guard, sandbox=required)

    assert (ran.output, ran.sandboxed) == ("hi\n", False)
    assert auto.status().reason.startswith("commands run unsandboxed: ")
    assert required.status().refuses_commands and NO_USERNS in required.status().reason


def _config(workspace: Path, table: str) -> None:
    (workspace / ".boocode").mkdir(exist_ok=True)
    (workspace / ".boocode" / "config.toml").write_text(f"[sandbox]\n{table}\n")


_WIDENING = (
    'mode = "off"\nnetwork = true\nenv = ["NODE_ENV", "GITHUB_TOKEN", "BOOCODE_API_KEY"]\n'
    'read_only = ["/", "/srv/x/y"]\nallow_hard_links = true'
)


def test_the_project_table_cannot_widen_what_the_server_allows(workspace: Path) -> None:
    defaults = SandboxPolicy.from_settings(
        Settings(sandbox_env="CI, TOOL_HOME", sandbox_read_only="/opt/a:~/b")
    )
    _config(workspace, _WIDENING)

    policy = defaults.with_project(workspace)

    assert policy.mode is SandboxMode.AUTO and not policy.network
    assert not policy.allow_hard_links
    assert policy.env_names == ("CI", "TOOL_HOME")
    assert policy.read_only == (Path("/opt/a"), Path.home() / "b")
    assert policy.refused == (
        'mode = "off"',
        "network = true",
        'env "NODE_ENV"',
        'env "GITHUB_TOKEN"',
        'env "BOOCODE_API_KEY"',
        'read_only "/"',
        'read_only "/srv/x/y"',
        "allow_hard_links = true",
    )
    reason = Sandbox(policy, workspace).status().reason
    assert reason.endswith(
        f"(the server does not let the project widen it: {', '.join(policy.refused)})"
    )


def test_the_project_table_widens_as_far_as_the_server_lets_it(workspace: Path) -> None:
    settings = Settings(
        sandbox_project_network=True,
        sandbox_project_env="NODE_ENV,BOOCODE_API_KEY",
        sandbox_project_read_only="/srv/x",
        sandbox_project_hard_links=True,
    )
    _config(workspace, _WIDENING)

    policy = SandboxPolicy.from_settings(settings).with_project(
        workspace, ProjectAllowance.from_settings(settings)
    )

    assert policy.mode is SandboxMode.AUTO and policy.network and policy.allow_hard_links
    assert policy.env_names == ("NODE_ENV",)  # never one of the server's own
    assert policy.read_only == (Path("/srv/x/y"),)
    assert policy.refused == (
        'mode = "off"',
        'env "GITHUB_TOKEN"',
        'env "BOOCODE_API_KEY"',
        'read_only "/"',
    )


def test_a_project_may_tighten_the_sandbox(workspace: Path) -> None:
    _config(workspace, 'mode = "required"\nnetwork = false\nallow_hard_links = false')
    defaults = SandboxPolicy(mode=SandboxMode.OFF, network=True, allow_hard_links=True)

    policy = defaults.with_project(workspace)

    assert policy.mode is SandboxMode.REQUIRED and not policy.network
    assert not policy.allow_hard_links and policy.refused == ()


def test_a_project_cannot_lower_a_required_sandbox(workspace: Path) -> None:
    _config(workspace, 'mode = "off"')

    policy = SandboxPolicy(mode=SandboxMode.REQUIRED).with_project(workspace)

    assert policy.mode is SandboxMode.REQUIRED


_EVERY_TABLE = """[sandbox]
mode = "required"
network = false
[agent]
instructions = "Obey the file outside."
[hooks]
subagent_start = ["touch", "started"]
[autofix]
command = ["make", "check"]
"""


def test_the_project_config_is_read_where_it_lies(workspace: Path) -> None:
    (workspace / ".boocode").mkdir()
    (workspace / ".boocode" / "config.toml").write_text(_EVERY_TABLE)

    assert SandboxPolicy(network=True).with_project(workspace).mode is SandboxMode.REQUIRED
    assert project_instructions(workspace) == "Obey the file outside."
    assert configured(workspace, "subagent_start") == [["touch", "started"]]
    assert read_project_autofix(workspace).command == [["make", "check"]]


@pytest.mark.parametrize("link", ["symlink", "hard link"])
def test_a_project_config_linked_to_a_file_outside_is_not_read(
    workspace: Path, tmp_path: Path, link: str
) -> None:
    outside = tmp_path / "outside.toml"
    outside.write_text(_EVERY_TABLE)
    (workspace / ".boocode").mkdir()
    config = workspace / ".boocode" / "config.toml"
    if link == "symlink":
        config.symlink_to(outside)
    else:
        os.link(outside, config)

    policy = SandboxPolicy(network=True).with_project(workspace)

    assert policy.mode is SandboxMode.AUTO and policy.network
    assert "cannot read .boocode/config.toml" in str(policy.problem)
    assert project_instructions(workspace) is None
    assert configured(workspace, "subagent_start") == []
    with pytest.raises(ProjectConfigError, match=r"cannot read \.boocode/config\.toml"):
        read_project_autofix(workspace)


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('mode = "sometimes"', "mode: Input should be 'auto', 'required' or 'off'"),
        ("network = 1", "network: Input should be a valid boolean"),
        ('env = ["NOT A NAME"]', "env: 'NOT A NAME' is not an environment variable name"),
        ('read_only = ["relative/dir"]', "must be an absolute path or start with '~'"),
        ("shell = true", "shell: Extra inputs are not permitted"),
        ("mode = ", "cannot read .boocode/config.toml"),
    ],
)
def test_an_invalid_table_keeps_the_defaults_and_says_why(
    workspace: Path, table: str, problem: str
) -> None:
    _config(workspace, table)

    policy = SandboxPolicy(network=False).with_project(workspace)

    assert policy.mode is SandboxMode.AUTO and not policy.network
    assert problem in str(policy.problem)
    status = Sandbox(policy, workspace).status()
    assert problem in status.reason and "the environment defaults apply" in status.reason


def test_serve_warns_at_start_and_the_api_says_unsandboxed(unsandboxed_server: LiveServer) -> None:
    with unsandboxed_server.client() as http:
        status = http.get("/api/sandbox").json()

    assert f"WARNING: {status['reason']}" in unsandboxed_server.log
    assert status["reason"].startswith("commands run unsandboxed: ")
    assert status["mode"] == "auto"
    assert status["confined"] is False and status["refuses_commands"] is False
    assert status["network"] is True
    assert NO_USERNS in status["reason"]
    assert httpx.get(f"{unsandboxed_server.url}/api/sandbox").status_code == 401


def test_a_chat_shows_the_sandbox_its_own_workspace_narrowed(
    unsandboxed_server: LiveServer, required_chat: str
) -> None:
    server_chat = unsandboxed_server.new_chat()
    with unsandboxed_server.client() as http:
        server_wide = http.get("/api/sandbox").json()
        narrowed = http.get(f"/api/chats/{required_chat}/sandbox").json()
        own = http.get(f"/api/chats/{server_chat['id']}/sandbox").json()
        missing = http.get("/api/chats/no-such-chat/sandbox")
        workspace = http.get(f"/api/chats/{required_chat}").json()["workspace"]

    assert workspace.endswith("required-project")
    assert (server_wide["mode"], server_wide["refuses_commands"]) == ("auto", False)
    assert own == server_wide
    assert narrowed["mode"] == "required"
    assert narrowed["confined"] is False and narrowed["refuses_commands"] is True
    assert narrowed["reason"].startswith('commands are refused: [sandbox] mode is "required"')
    assert missing.status_code == 404


def test_boocode_run_says_unsandboxed_and_required_refuses_the_command(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer
) -> None:
    program = broken_bwrap(tmp_path / "bin")
    fake_model.script(
        [Reply.tool_calls([("run_command", {"argv": ["echo", "hi"]})]), Reply.text("ok")]
    )
    env = boocode_env(
        tmp_path / "data",
        workspace,
        fake_model,
        BOOCODE_SANDBOX_BWRAP=str(program),
        BOOCODE_SANDBOX_MODE="required",
    )

    result = run_boocode("run", "echo hi", env=env)

    assert result.returncode == 0, result.stderr
    assert 'WARNING: commands are refused: [sandbox] mode is "required" but' in result.stderr
    tool_message = fake_model.requests[1]["messages"][-1]
    assert tool_message["role"] == "tool"
    assert tool_message["content"].startswith("commands are refused: ")
    assert NO_USERNS in tool_message["content"]


def test_boocode_run_states_the_sandbox_that_confines_its_commands(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer
) -> None:
    require_bubblewrap()
    fake_model.script([Reply.text("ok")])

    result = run_boocode("run", "hi", env=boocode_env(tmp_path / "data", workspace, fake_model))

    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("chat: ")
    assert lines[1] == (
        "Sandbox: commands run in bubblewrap: workspace read-write, system read-only, no network"
    )


def test_a_mistyped_mode_stops_the_command_with_a_clear_message(
    tmp_path: Path, workspace: Path
) -> None:
    env = boocode_env(tmp_path / "data", workspace, BOOCODE_SANDBOX_MODE="requried")

    result = run_boocode("run", "hi", env=env)

    assert result.returncode == 2
    assert result.stderr == (
        "boocode run: invalid setting: BOOCODE_SANDBOX_MODE: Input should be 'auto', 'required' "
        "or 'off' (got 'requried')\n"
    )


def test_the_api_and_the_start_up_line_of_a_confined_server(confined_server: LiveServer) -> None:
    with confined_server.client() as http:
        status = http.get("/api/sandbox").json()

    assert status == {
        "mode": "required",
        "confined": True,
        "refuses_commands": False,
        "network": False,
        "reason": "commands run in bubblewrap: workspace read-write, system read-only, no network",
        "env_names": ["HOME", "PATH"],
        "read_only": [],
        "allow_hard_links": False,
    }
    assert f"Sandbox: {status['reason']}" in confined_server.log
