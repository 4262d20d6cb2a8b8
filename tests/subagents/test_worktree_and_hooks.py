"""Subagents in git worktrees, and the project's subagent hooks, on a server whose workspace is a
git repository."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from boocode.subagents import worktree
from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer, fake_model_env, frames_until, make_workspace, turn_ended
from support.processes import wait_for

from .test_subagents_api import wait_quiet

HOOKS = """
[hooks]
subagent_start = [["sh", "-c", "cat >> hooks.log; echo >> hooks.log"]]
subagent_stop = ["sh", "-c", "cat >> hooks.log; echo >> hooks.log"]
"""
COMMITTED_SANDBOX = """
[sandbox]
mode = "off"
network = true
env = ["GITHUB_TOKEN"]
"""
TOKEN = "ghp_" + secrets.token_hex(12)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def git_server(
    tmp_path_factory: pytest.TempPathFactory, fake_model_server: FakeModelServer
) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("subagents-git")
    workspace = make_workspace(root)
    (workspace / ".boocode").mkdir()
    # The commit carries a table that would unconfine a worktree checked out from it; the
    # working tree's table, the one the server reads, has the hooks alone.
    (workspace / ".boocode" / "config.toml").write_text(HOOKS + COMMITTED_SANDBOX)
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "add", "-A")
    git(workspace, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    (workspace / ".boocode" / "config.toml").write_text(HOOKS)
    env = {**fake_model_env(fake_model_server), "GITHUB_TOKEN": TOKEN}
    server = LiveServer.start(root, env=env)
    yield server
    server.stop()


def _isolated(body: dict[str, Any]) -> Reply:
    messages = body["messages"]
    first = next(m["content"] for m in messages if m["role"] == "user")
    last = messages[-1]
    tool_results = [m["content"] for m in messages if m["role"] == "tool"]
    if first == "task edit":
        if len(tool_results) == 0:
            return Reply.tool_calls([("write_file", {"path": "notes.txt", "content": "found\n"})])
        if len(tool_results) == 1:
            return Reply.tool_calls([("run_command", {"argv": ["git", "status", "--short"]})])
        return Reply.text("edited: " + tool_results[-1].splitlines()[1])
    if first == "task look":
        return Reply.text("looked, changed nothing")
    if last["role"] == "user" and last["content"] == "isolate":
        return Reply.tool_calls(
            [
                (
                    "spawn_subagent",
                    {"prompt": f"task {name}", "label": name, "isolation": "worktree"},
                )
                for name in ("edit", "look")
            ]
        )
    return Reply.text("noted")


async def test_worktree_subagents_keep_changes_on_a_branch_and_run_the_hooks(
    git_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.responder = _isolated
    chat_id = git_server.new_chat()["id"]
    async with git_server.ws(chat_id) as ws:
        async with git_server.async_client() as http:
            await http.post(f"/api/chats/{chat_id}/messages", json={"content": "isolate"})
        await frames_until(ws, turn_ended)
    by_label = {s["label"]: s for s in wait_quiet(git_server, chat_id)}
    workspace = git_server.workspace

    edit = by_label["edit"]
    assert edit["status"] == "succeeded", edit
    # git works inside the sandbox of a worktree: it saw the new file.
    assert edit["answer"] == "edited: ?? notes.txt"
    tree = edit["worktree"]
    assert tree["kept"] and tree["branch"].startswith("boocode/")
    assert "notes.txt | 1 +" in tree["diff_stat"]
    assert git(workspace, "show", f"{tree['branch']}:notes.txt") == "found"
    assert (Path(tree["path"]) / "notes.txt").read_text() == "found\n"
    assert not (workspace / "notes.txt").exists()  # the main tree is untouched

    look = by_label["look"]["worktree"]
    assert not look["kept"] and not Path(look["path"]).exists()
    assert git(workspace, "branch", "--list", look["branch"]) == ""
    assert ".boocode/worktrees" not in git(workspace, "status", "--porcelain")

    notices = "".join(
        m["content"]
        for m in git_server.client().get(f"/api/chats/{chat_id}/messages").json()
        if m["tool_name"] == "subagent_notification"
    )
    assert f"worktree: kept at {tree['path']}, branch {tree['branch']}" in notices
    assert "worktree: no changes, removed" in notices

    events = [
        json.loads(line) for line in (workspace / "hooks.log").read_text().splitlines() if line
    ]
    seen = sorted((e["event"], e["subagent"]["label"]) for e in events)
    assert seen == [
        ("subagent_start", "edit"),
        ("subagent_start", "look"),
        ("subagent_stop", "edit"),
        ("subagent_stop", "look"),
    ]
    stops = [e["subagent"] for e in events if e["event"] == "subagent_stop"]
    assert all(s["status"] == "succeeded" and s["answer"] for s in stops)


def _workflow_agent(body: dict[str, Any]) -> Reply:
    tools = [m for m in body["messages"] if m["role"] == "tool"]
    if not tools:
        return Reply.tool_calls(
            [("write_file", {"path": "wf.txt", "content": "from a workflow\n"})]
        )
    return Reply.text("wrote wf.txt")


def test_a_workflow_agent_in_a_worktree_reports_its_branch_in_the_runs_log(
    git_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.responder = _workflow_agent
    chat_id = git_server.new_chat()["id"]
    script = (
        "export const meta = {name: 'isolated', description: 'one agent in a worktree'}\n"
        "return await agent('edit in isolation', {isolation: 'worktree', label: 'editor'})"
    )
    with git_server.client() as http:
        run_id = http.post(f"/api/chats/{chat_id}/workflows", json={"script": script}).json()[
            "run_id"
        ]
        run = wait_for(
            lambda: (
                (r := http.get(f"/api/workflow-runs/{run_id}").json())["status"]
                in ("succeeded", "failed")
                and r
            ),
            timeout=60,
        )
    assert run["status"] == "succeeded" and run["result"] == "wrote wf.txt", run
    (line,) = [e["text"] for e in run["log"] if "worktree" in e["text"]]
    assert line.startswith("editor: worktree kept at ")
    branch = line.split("branch ")[1].split("\n")[0]
    assert git(git_server.workspace, "show", f"{branch}:wf.txt") == "from a workflow"
    assert not (git_server.workspace / "wf.txt").exists()


def _probe(body: dict[str, Any]) -> Reply:
    messages = body["messages"]
    first = next(m["content"] for m in messages if m["role"] == "user")
    if first == "task probe":
        if not any(m["role"] == "tool" for m in messages):
            return Reply.tool_calls([("run_command", {"argv": ["env"]})])
        return Reply.text("probed")
    if messages[-1]["role"] == "user" and messages[-1]["content"] == "probe":
        spawn = {"prompt": "task probe", "label": "probe", "isolation": "worktree"}
        return Reply.tool_calls([("spawn_subagent", spawn)])
    return Reply.text("noted")


async def test_a_worktree_keeps_its_parents_sandbox_not_the_table_in_its_checkout(
    git_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.responder = _probe
    chat_id = git_server.new_chat()["id"]
    async with git_server.ws(chat_id) as ws:
        async with git_server.async_client() as http:
            await http.post(f"/api/chats/{chat_id}/messages", json={"content": "probe"})
        await frames_until(ws, turn_ended)
    probe = wait_quiet(git_server, chat_id)[0]
    with git_server.client() as http:
        messages = http.get(f"/api/chats/{probe['conversation_id']}/messages").json()

    env = next(m["content"] for m in messages if m["tool_name"] == "run_command")
    # The worktree was checked out from a commit whose table says `mode = "off"`.
    assert 'mode = "off"' in git(git_server.workspace, "show", "HEAD:.boocode/config.toml")
    assert env.startswith("exit code: 0") and "HOME=/home/sandbox" in env  # still confined
    assert TOKEN not in env and "GITHUB_TOKEN" not in env


async def test_worktree_plan_follows_a_linked_worktree_not_a_planted_pointer(
    tmp_path: Path,
) -> None:
    """A workspace that is the user's own linked worktree (its entry names it back) gets a
    subagent worktree; a `.git` file naming another repository's `.git` is refused."""
    main = tmp_path / "main"
    main.mkdir()
    git(main, "init", "-q", "-b", "main")
    git(
        main,
        "-c",
        "user.name=u",
        "-c",
        "user.email=u@u",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "a",
    )
    git(main, "worktree", "add", "-q", "-b", "feature", str(tmp_path / "linked"))
    plan = await worktree.plan(tmp_path / "linked", "sub-1")
    assert plan.root == (tmp_path / "linked").resolve() / ".boocode" / "worktrees" / "sub-1"

    pointer = tmp_path / "planted"
    pointer.mkdir()
    (pointer / ".git").write_text(f"gitdir: {main}/.git\n")
    with pytest.raises(worktree.WorktreeError, match="does not name it back"):
        await worktree.plan(pointer, "sub-2")
