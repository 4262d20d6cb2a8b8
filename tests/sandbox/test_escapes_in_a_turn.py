"""The escapes an unconfined `run_command` and the file tools left open, tried again through a
real turn (the scripted model calls the tools over the server's real code path; the file tools
get the whole hostile-path corpus of the unit tests) against a server whose commands must run
inside bubblewrap. None may read or change anything outside the workspace, see the server's
environment, or outlive its command."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

from sandbox.conftest import SENTINEL, outside_of, run_turn, server_secrets
from subagents.test_subagents_api import wait_quiet
from support.fake_model import FakeModelServer, Reply
from support.hostile_paths import HOSTILE_PATHS, plant_links
from support.live_server import LiveServer, frames_until, turn_ended
from support.processes import boocode_env, processes_with, spawn_boocode, wait_for
from support.sandbox import require_bubblewrap


def _command(*argv: str, timeout_s: float | None = None) -> tuple[str, dict[str, Any]]:
    args: dict[str, Any] = {"argv": list(argv)}
    if timeout_s is not None:
        args["timeout_s"] = timeout_s
    return ("run_command", args)


def _assert_nothing_leaked(server: LiveServer, results: list[dict[str, Any]]) -> None:
    for result in results:
        text = str(result["content"])
        assert SENTINEL.strip() not in text, result
        for value in server_secrets(server):
            assert value not in text, (value, result)


async def test_commands_cannot_read_or_write_outside_the_workspace(
    confined_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    outside = outside_of(confined_server)
    secret = f"{outside}/secret.txt"
    data_dir = confined_server.data_dir
    calls = [
        # A symlink named without a '/', then read through it.
        _command("ln", "-s", str(outside), "door"),
        _command("cat", "door/secret.txt"),
        _command("ln", "-s", secret, "door2"),
        _command("cat", "door2"),
        # dd's operands carry no leading '-' and no '/'-free spelling to check.
        _command("dd", f"if={secret}", "of=copied.txt"),
        _command("dd", "if=README.md", f"of={outside}/pwned-by-dd"),
        # Paths attached to short options.
        _command("sort", f"-o{outside}/pwned-by-sort", "README.md"),
        _command("tar", "-cf", "stolen.tar", f"-C{outside}", "secret.txt"),
        # A file:// URL.
        _command(
            "python3",
            "-c",
            f"import urllib.request; print(urllib.request.urlopen('file://{secret}').read())",
        ),
        # The data dir (database, token) and the user's home.
        _command("python3", "-c", f"print(open('{data_dir}/boocode.sqlite', 'rb').read(64))"),
        _command("ls", "-A", str(Path.home())),
        _command("touch", "/usr/pwned-by-touch"),
        # What a command may do: write in the workspace, use its empty home and private /tmp.
        _command("sh", "-c", 'touch made-here && ls -A "$HOME" /tmp && echo home=$HOME'),
    ]

    results = await run_turn(confined_server, fake_model_server, calls)

    assert [r["tool_name"] for r in results] == ["run_command"] * len(calls)
    _assert_nothing_leaked(confined_server, results)
    outputs = [str(r["content"]) for r in results]
    assert outputs[0].startswith("exit code: 0")  # the symlink is made; it leads nowhere inside
    for index in (1, 3, 4, 7, 8, 9, 10):
        assert not outputs[index].startswith("exit code: 0"), outputs[index]
    assert "No such file or directory" in outputs[1]
    assert "Read-only file system" in outputs[11]
    assert outputs[12].startswith("exit code: 0") and "home=/home/sandbox" in outputs[12]
    assert (confined_server.workspace / "made-here").exists()
    copied = confined_server.workspace / "copied.txt"
    assert not copied.exists() or SENTINEL not in copied.read_text()
    assert not Path("/usr/pwned-by-touch").exists()
    # The fixture checks on teardown that outside/ still holds only the untouched secret.txt.
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == SENTINEL


async def test_commands_see_an_allow_listed_environment_and_no_server_process(
    confined_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    calls = [
        _command("env"),
        _command("ps", "eww", "ax"),
        _command("ps", "eww", "-C", "boocode"),
        _command("sh", "-c", "cat /proc/[0-9]*/environ | tr '\\0' '\\n'"),
    ]

    results = await run_turn(confined_server, fake_model_server, calls)

    _assert_nothing_leaked(confined_server, results)
    env_names = {line.split("=", 1)[0] for line in str(results[0]["content"]).splitlines()[1:]}
    assert {"PATH", "HOME", "TMPDIR"} <= env_names
    allowed = {"PATH", "HOME", "TMPDIR", "PWD", "LANG", "LANGUAGE", "TERM", "LC_ALL", "TZ"}
    assert env_names <= allowed  # PWD is set by bubblewrap's --chdir
    processes = str(results[1]["content"])
    assert "bwrap" in processes and "uvicorn" not in processes
    # bwrap's own command line names the workspace's `.boocode`; no other process shows.
    assert "boocode" not in processes.replace("/.boocode", "")
    assert "BOOCODE_" not in str(results[3]["content"])


async def test_the_file_tools_refuse_hard_links_and_hostile_paths(
    confined_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    workspace = confined_server.workspace
    outside = outside_of(confined_server)
    os.link(outside / "secret.txt", workspace / "hard-linked.txt")
    links = plant_links(workspace, outside)
    hostile = [h.spelled(outside) for h in HOSTILE_PATHS]
    try:
        calls = [
            ("read_file", {"path": "hard-linked.txt"}),
            ("write_file", {"path": "hard-linked.txt", "content": "overwritten"}),
            (
                "edit_file",
                {"path": "hard-linked.txt", "old_string": "SENTINEL", "new_string": "X"},
            ),
            ("grep", {"pattern": "SENTINEL"}),
            *[("read_file", {"path": path}) for path in hostile],
            *[("write_file", {"path": path, "content": "pwned"}) for path in hostile],
            # The project's settings (they could widen the sandbox) and git's hooks.
            ("write_file", {"path": ".boocode/config.toml", "content": "[sandbox]\n"}),
            ("write_file", {"path": ".boocode/new/config.toml", "content": "[sandbox]\n"}),
            ("write_file", {"path": ".git/hooks/post-checkout", "content": "#!/bin/sh\n"}),
        ]

        results = await run_turn(confined_server, fake_model_server, calls)
    finally:
        for made in (workspace / "hard-linked.txt", *links):
            made.unlink()

    _assert_nothing_leaked(confined_server, results)
    assert len(results) == len(calls)
    for result in results[:3]:
        assert "has 2 hard links" in result["content"] and result["is_error"], result
    assert results[3]["content"].startswith("no matches for 'SENTINEL'")
    reads, writes = results[4 : 4 + len(hostile)], results[4 + len(hostile) : -3]
    for expected, read, write in zip(HOSTILE_PATHS, reads, writes, strict=True):
        for result in (read, write):
            assert result["is_error"] and re.search(expected.refusal, result["content"]), (
                expected.path,
                result["content"],
            )
    for result in results[-3:]:
        assert "is read-only to the agent: the project's settings" in result["content"]
    assert not (workspace / ".boocode" / "config.toml").exists()
    assert not (workspace / ".git").exists()
    assert not (outside / "new.txt").exists() and not (outside / "does-not-exist-yet.txt").exists()
    assert (outside / "secret.txt").read_text() == SENTINEL
    assert not Path("/etc/passwd").read_text().startswith("pwned")


async def _until(predicate: Any, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


# setsid, setsid -w, a double fork with setsid, setpgid: each leaves the process group.
ESCAPER = """
import os, subprocess, sys, time
tag = sys.argv[1]
subprocess.Popen(["setsid", "sleep", f"911.{tag}"])
subprocess.Popen(["setsid", "-w", "sleep", f"912.{tag}"])
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", f"913.{tag}"])
    os._exit(0)
if os.fork() == 0:
    os.setpgid(0, 0)
    os.execvp("sleep", ["sleep", f"914.{tag}"])
time.sleep(600)
"""


def _escapees(tag: str) -> list[list[int]]:
    return [processes_with(f"91{n}.{tag}") for n in range(1, 5)]


async def _start_escaping_turn(
    server: LiveServer, fake_model: FakeModelServer, tag: str, timeout_s: float
) -> str:
    fake_model.reset()
    call = _command("python3", "-c", ESCAPER, tag, timeout_s=timeout_s)
    fake_model.script([Reply.tool_calls([call]), Reply.text("done")])
    chat = server.new_chat()
    async with server.async_client() as http:
        await http.post(f"/api/chats/{chat['id']}/messages", json={"content": "escape"})
    await _until(lambda: all(_escapees(tag)), timeout=60)
    return str(chat["id"])


async def _turn_finished(server: LiveServer, chat_id: str) -> list[dict[str, Any]]:
    async with server.async_client() as http:
        while (await http.post(f"/api/chats/{chat_id}/cancel")).json()["cancelled"]:
            await asyncio.sleep(0.05)
        messages = (await http.get(f"/api/chats/{chat_id}/messages")).json()
    return [m for m in messages if m["role"] == "tool"]


async def test_every_descendant_dies_at_the_timeout(
    confined_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    tag = f"{secrets.randbelow(10**8):08d}"  # sleep takes "911.<tag>" as seconds
    # Long enough for all four to start on a loaded machine before the timeout fires.
    chat_id = await _start_escaping_turn(confined_server, fake_model_server, tag, timeout_s=8)

    await _until(lambda: not any(_escapees(tag)))
    async with confined_server.async_client() as http:
        for _ in range(600):
            messages = (await http.get(f"/api/chats/{chat_id}/messages")).json()
            if any(m["role"] == "tool" for m in messages):
                break
            await asyncio.sleep(0.05)
    tool = next(m for m in messages if m["role"] == "tool")
    assert "[timed out after" in tool["content"]


async def test_every_descendant_dies_when_the_turn_is_cancelled(
    confined_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    tag = f"{secrets.randbelow(10**8):08d}"  # sleep takes "911.<tag>" as seconds
    chat_id = await _start_escaping_turn(confined_server, fake_model_server, tag, timeout_s=300)

    async with confined_server.async_client() as http:
        assert (await http.post(f"/api/chats/{chat_id}/cancel")).json()["cancelled"] is True
    tools = await _turn_finished(confined_server, chat_id)

    await _until(lambda: not any(_escapees(tag)))
    assert [t["content"] for t in tools] == ["cancelled by the user while it ran"]


def test_every_descendant_dies_with_the_server(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer
) -> None:
    require_bubblewrap()
    tag = f"{secrets.randbelow(10**8):08d}"
    call = _command("python3", "-c", ESCAPER, tag, timeout_s=300)
    fake_model.script([Reply.tool_calls([call]), Reply.text("never reached", delay_s=30)])
    env = boocode_env(tmp_path / "data", workspace, fake_model, BOOCODE_SANDBOX_MODE="required")
    server = spawn_boocode("run", "escape", env=env)
    try:
        wait_for(lambda: all(_escapees(tag)), timeout=60)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)

    wait_for(lambda: not any(_escapees(tag)), timeout=30)


def _leak(outside: Path, name: str) -> str:
    """Shell that writes the environment to `outside/name` (a path no sandbox has), then
    passes stdin on (a filter's duty)."""
    return f'env > "{outside}/{name}" 2>/dev/null; cat'


def _plant(outside: Path) -> str:
    """A repository made by a command, whose settings and hooks each run a command on git's
    every step: the server's own git must run none of them."""
    hooks = (
        "post-checkout",
        "post-commit",
        "pre-commit",
        "prepare-commit-msg",
        "reference-transaction",
        "post-index-change",
    )
    lines = [
        "set -e",
        "git init -q -b main",
        f"printf '#!/bin/sh\\n{_leak(outside, 'fsmonitor')} </dev/null\\n' > fsmonitor.sh",
        "chmod +x fsmonitor.sh",
        *(
            f"printf '#!/bin/sh\\n{_leak(outside, hook)} </dev/null\\n' > .git/hooks/{hook} && "
            f"chmod +x .git/hooks/{hook}"
            for hook in hooks
        ),
        'git config core.fsmonitor "$PWD/fsmonitor.sh"',
        *(
            f"git config filter.evil.{step} '{_leak(outside, 'filter-' + step)}'"
            for step in ("clean", "smudge")
        ),
        f"git config diff.evil.textconv '{_leak(outside, 'textconv')}'",
        f"git config diff.external '{_leak(outside, 'external-diff')}'",
        "git config commit.gpgSign true",
        f"git config gpg.program '{_leak(outside, 'gpg')}'",
        "echo '* filter=evil diff=evil' > .gitattributes",
        "git add -A",
        "git -c core.hooksPath=/dev/null -c commit.gpgSign=false -c user.name=a "
        "-c user.email=a@a commit -qm planted",
        "echo planted",
    ]
    return "\n".join(lines)


# Once the repository exists, its settings and hooks, its `.git` and `.boocode` are fixed.
_TAMPER = [
    "echo x >> .git/hooks/post-merge",
    "git config core.editor vi",
    "mv .git moved-git",
    "mkdir -p .boocode && echo '[sandbox]' > .boocode/config.toml",
    "mv .boocode moved-boocode",
]


def _plant_then_isolate(outside: Path) -> Any:
    def respond(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        first = next(m["content"] for m in messages if m["role"] == "user")
        tools = [m for m in messages if m["role"] == "tool"]
        last = messages[-1]
        if first == "work in a worktree":
            if not tools:
                return Reply.tool_calls([("write_file", {"path": "notes.txt", "content": "n\n"})])
            return Reply.text("wrote notes.txt")
        if last["role"] == "user" and last["content"] == "plant":
            return Reply.tool_calls(
                [_command("sh", "-c", _plant(outside)), *(_command("sh", "-c", t) for t in _TAMPER)]
            )
        if last["role"] == "user" and last["content"] == "isolate":
            spawn = {"prompt": "work in a worktree", "label": "tree", "isolation": "worktree"}
            return Reply.tool_calls([("spawn_subagent", spawn)])
        return Reply.text("noted")

    return respond


async def test_the_servers_git_runs_no_hook_or_setting_a_command_planted(
    confined_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    workspace, outside = confined_server.workspace, outside_of(confined_server)
    fake_model_server.reset()
    fake_model_server.responder = _plant_then_isolate(outside)
    chat_id = confined_server.new_chat()["id"]
    try:
        async with confined_server.ws(chat_id) as ws:
            for content in ("plant", "isolate"):
                async with confined_server.async_client() as http:
                    await http.post(f"/api/chats/{chat_id}/messages", json={"content": content})
                await frames_until(ws, turn_ended, timeout=90)
        subagent = wait_quiet(confined_server, chat_id, timeout=90)[0]
        with confined_server.client() as http:
            messages = http.get(f"/api/chats/{chat_id}/messages").json()
    finally:
        for made in (".git", ".boocode/worktrees", "moved-git", "moved-boocode"):
            shutil.rmtree(workspace / made, ignore_errors=True)
        for made in (".gitattributes", "fsmonitor.sh"):
            (workspace / made).unlink(missing_ok=True)

    outputs = [str(m["content"]) for m in messages if m["tool_name"] == "run_command"]
    assert outputs[0].startswith("exit code: 0") and "planted" in outputs[0], outputs[0]
    assert "cannot create .git/hooks/post-merge: Read-only file system" in outputs[1]
    # git writes a new config beside the old and renames it over: the mount refuses.
    assert "could not write config file .git/config: Device or resource busy" in outputs[2]
    assert "cannot move '.git' to 'moved-git': Device or resource busy" in outputs[3]
    assert "cannot create .boocode/config.toml: Read-only file system" in outputs[4]
    assert "cannot move '.boocode' to 'moved-boocode': Device or resource busy" in outputs[5]
    assert subagent["status"] == "succeeded", subagent
    tree = subagent["worktree"]
    assert tree["kept"] and "notes.txt | 1 +" in tree["diff_stat"], tree
    # Nothing ran outside the sandbox: outside/ still holds only the secret.
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def _other_repository(server: LiveServer) -> Path:
    """A repository beside the workspace, without `hooks/`, with a secret in its `.git`."""
    other = server.workspace.parent / "other-repo"
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    shutil.rmtree(other / ".git" / "hooks")
    (other / ".git" / "secret.txt").write_text(SENTINEL)
    return other


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


async def test_a_git_file_a_command_planted_opens_no_other_repository(
    confined_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    workspace, outside = confined_server.workspace, outside_of(confined_server)
    other = _other_repository(confined_server)
    before = _tree(other)
    hook = other / ".git" / "hooks" / "post-checkout"
    plant = (
        "echo 'gitdir: fake' > .git && mkdir fake && "
        f"echo '{other}/.git' > fake/commondir && echo planted"
    )
    try:
        planted = await run_turn(confined_server, fake_model_server, [_command("sh", "-c", plant)])
        results = await run_turn(
            confined_server,
            fake_model_server,
            [
                _command("cat", f"{other}/.git/secret.txt"),
                _command("ls", "-A", f"{other}/.git"),
                _command(
                    "sh",
                    "-c",
                    f"mkdir -p {hook.parent} && printf '#!/bin/sh\\ntouch {outside}/pwned\\n' "
                    f"> {hook} && chmod +x {hook}",
                ),
                _command("sh", "-c", f"echo '[core]' >> {other}/.git/config"),
                _command("sh", "-c", "echo 'gitdir: elsewhere' > .git"),
                _command("rm", "-f", ".git"),
            ],
        )
    finally:
        (workspace / ".git").unlink(missing_ok=True)
        shutil.rmtree(workspace / "fake", ignore_errors=True)
        after = _tree(other)
        shutil.rmtree(other)

    assert str(planted[0]["content"]).startswith("exit code: 0"), planted
    _assert_nothing_leaked(confined_server, results)
    outputs = [str(r["content"]) for r in results]
    # The hook's directories may be made in the command's private /tmp, which dies with it.
    for output in outputs[:2] + outputs[3:]:
        assert not output.startswith("exit code: 0"), output
    assert "No such file or directory" in outputs[0] and "No such file or directory" in outputs[1]
    # The `.git` file itself is read-only now, and a mount point.
    assert "Read-only file system" in outputs[4]
    assert "Device or resource busy" in outputs[5]
    assert after == before  # nothing read through it was changed, and no hook was made


def _host_git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """git as the user runs it outside the sandbox: plain, honouring the repository's settings."""
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def _user_repository(workspace: Path) -> None:
    """The workspace as a user's checkout: one commit, no `hooks/`, per-worktree settings on,
    and a submodule's git dir under `.git/modules/` without `hooks/` either."""
    identity = ("-c", "user.name=u", "-c", "user.email=u@u")
    _host_git(workspace, "init", "-q", "-b", "main")
    _host_git(workspace, "config", "extensions.worktreeConfig", "true")
    _host_git(workspace, "add", "README.md")
    _host_git(workspace, *identity, "commit", "-qm", "first")
    _host_git(workspace, "init", "-q", "--bare", ".git/modules/lib/sub")
    for git_dir in (workspace / ".git", workspace / ".git/modules/lib/sub"):
        shutil.rmtree(git_dir / "hooks")


def _fsmonitor_config(outside: Path, name: str) -> str:
    return f"printf '[core]\\n\\tfsmonitor = \"{_leak(outside, name)}\"\\n'"


async def test_a_command_plants_no_setting_the_users_own_git_reads(
    confined_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    """In the user's own repository a command may commit, but may not leave a setting or a
    hook behind for git run outside the sandbox: a `commondir` pointing at a repository it
    made, a `config.worktree`, a hook where `hooks/` was missing, a submodule's config."""
    workspace, outside = confined_server.workspace, outside_of(confined_server)
    _user_repository(workspace)
    evil = workspace / "evil"
    attempts = [
        f"git init -q {evil} && {_fsmonitor_config(outside, 'commondir')} >> {evil}/.git/config "
        f"&& echo {evil}/.git > .git/commondir && echo planted",
        f"{_fsmonitor_config(outside, 'config-worktree')} > .git/config.worktree && echo planted",
        f"mkdir -p .git/hooks && printf '#!/bin/sh\\n{_leak(outside, 'hook')}\\n' "
        "> .git/hooks/post-checkout && chmod +x .git/hooks/post-checkout",
        f"{_fsmonitor_config(outside, 'submodule')} >> .git/modules/lib/sub/config",
        "echo x > .git/modules/lib/sub/hooks/post-checkout",
        "echo work > work.txt && git add work.txt && "
        "git -c user.name=a -c user.email=a@a commit -qm work && echo committed",
    ]
    try:
        results = await run_turn(
            confined_server, fake_model_server, [_command("sh", "-c", a) for a in attempts]
        )
        left = {
            name: (workspace / ".git" / name).exists() for name in ("commondir", "config.worktree")
        }
        status = _host_git(workspace, "status", "--short")
        checkout = _host_git(workspace, "checkout", "-q", "-b", "other")
        submodule = _host_git(workspace / ".git/modules/lib/sub", "status")
        log = _host_git(workspace, "log", "--format=%s").stdout.split()
    finally:
        for made in (".git", "evil"):
            shutil.rmtree(workspace / made, ignore_errors=True)
        (workspace / "work.txt").unlink(missing_ok=True)

    outputs = [str(r["content"]) for r in results]
    assert outputs[0].startswith("exit code: 0") and "planted" in outputs[0], outputs[0]
    assert outputs[1].startswith("exit code: 0") and "planted" in outputs[1], outputs[1]
    for output in outputs[2:5]:
        assert "Read-only file system" in output, output
    assert "committed" in outputs[5], outputs[5]  # the repository itself stays writable
    assert left == {"commondir": False, "config.worktree": False}
    assert status.returncode == 0 and checkout.returncode == 0, (status, checkout)
    assert submodule.returncode != 0 or "fatal" not in submodule.stderr
    assert log == ["work", "first"]
    # Nothing ran outside the sandbox: outside/ still holds only the secret.
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


async def test_a_git_file_a_command_planted_gets_no_worktree_in_another_repository(
    confined_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    """Where the workspace is no repository, a command can write a `.git` file naming any
    repository on the machine: the server's own git must not add a worktree or a branch there
    for an isolated subagent. A linked worktree of the user's own stays usable."""
    workspace = confined_server.workspace
    other = _other_repository(confined_server)
    identity = ("-c", "user.name=u", "-c", "user.email=u@u")
    assert (
        _host_git(other, *identity, "commit", "-q", "--allow-empty", "-m", "first").returncode == 0
    )
    before = _tree(other)
    spawn = {"prompt": "work", "label": "tree", "isolation": "worktree"}
    try:
        planted = await run_turn(
            confined_server,
            fake_model_server,
            [_command("sh", "-c", f"echo 'gitdir: {other}/.git' > .git && echo planted")],
        )
        refused = await run_turn(confined_server, fake_model_server, [("spawn_subagent", spawn)])
        after = _tree(other)
        branches = _host_git(other, "branch", "--format=%(refname:short)").stdout.split()
    finally:
        (workspace / ".git").unlink(missing_ok=True)
        shutil.rmtree(other)

    assert str(planted[0]["content"]).startswith("exit code: 0"), planted
    text = str(refused[0]["content"])
    assert "does not name it back" in text and 'isolation "worktree"' in text, text
    assert after == before and len(branches) == 1, branches
