"""A fresh git worktree for a subagent that asked for isolation.

Planned when the subagent is spawned (so a workspace that is not a git repository is a tool
error at once), created when it starts, and at its end removed if nothing changed, or kept with
its changes committed on its own branch and reported with a diff stat.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from boocode.contracts.subagents import WorktreeReport

WORKTREES = Path(".boocode") / "worktrees"
"""Under the repository's top level; git is told to ignore the directory."""

_GIT_TIMEOUT_S = 60.0


class WorktreeError(RuntimeError):
    pass


class WorktreePlan:
    """Where the worktree goes, its branch, and the commit it starts from."""

    def __init__(self, root: Path, branch: str, base: str, subdir: str) -> None:
        self.root = root
        self.branch = branch
        self.base = base
        # The workspace may be a directory inside the repository: the same one in the worktree.
        self.subdir = subdir

    @property
    def workspace(self) -> Path:
        return self.root / self.subdir if self.subdir else self.root


def planned(root: str | None, branch: str | None, base: str | None, subdir: str) -> WorktreePlan:
    """The plan stored with a run (its spec's fields), read back."""
    assert root and branch and base, "a worktree run is stored with its plan"
    return WorktreePlan(root=Path(root), branch=branch, base=base, subdir=subdir)


async def plan(workspace: Path, name: str) -> WorktreePlan:
    """Check that `workspace` is in a git repository with a commit; name the worktree."""
    try:
        top = Path(await git(workspace, "rev-parse", "--show-toplevel"))
    except WorktreeError:
        raise WorktreeError(
            f'isolation "worktree" needs a git repository; {workspace} is not in one'
        ) from None
    try:
        base = await git(workspace, "rev-parse", "--verify", "HEAD^{commit}")
    except WorktreeError:
        raise WorktreeError(
            'isolation "worktree" needs a commit to start from; the repository has none yet'
        ) from None
    subdir = os.path.relpath(os.path.realpath(workspace), os.path.realpath(top))
    return WorktreePlan(
        root=top / WORKTREES / name,
        branch=f"boocode/{name}",
        base=base,
        subdir="" if subdir == "." else subdir,
    )


async def create(plan: WorktreePlan) -> None:
    """Add the worktree on a new branch at the base commit; a worktree already there stays."""
    if (plan.root / ".git").exists():
        return
    plan.root.parent.mkdir(parents=True, exist_ok=True)
    await _ignore_worktrees(plan.root.parent.parent.parent)
    await git(
        plan.root.parent, "worktree", "add", "-q", "-b", plan.branch, str(plan.root), plan.base
    )


async def finish(plan: WorktreePlan) -> WorktreeReport:
    """Commit what the subagent changed on its branch and report it; remove an unchanged one.

    Safe to repeat: a second call finds the commit made by the first.
    """
    if not (plan.root / ".git").exists():
        return WorktreeReport(path=str(plan.root), branch=plan.branch, kept=False)
    await git(plan.root, "add", "-A")
    if await git(plan.root, "status", "--porcelain"):
        await git(
            plan.root,
            *await _identity(plan.root),
            "commit",
            "-q",
            "--no-verify",
            "-m",
            f"subagent work on {plan.branch}",
        )
    stat = await git(plan.root, "diff", "--stat", plan.base, "HEAD")
    if not stat:
        await git(plan.root.parent, "worktree", "remove", "--force", str(plan.root))
        await git(plan.root.parent, "branch", "-D", plan.branch)
        return WorktreeReport(path=str(plan.root), branch=plan.branch, kept=False)
    head = await git(plan.root, "rev-parse", "HEAD")
    return WorktreeReport(
        path=str(plan.root), branch=plan.branch, kept=True, diff_stat=stat, commit=head
    )


async def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` and return its stripped output; WorktreeError with its message."""
    process = await asyncio.create_subprocess_exec(
        "git",
        *args,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), _GIT_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        raise WorktreeError(f"git {args[0]} took longer than {_GIT_TIMEOUT_S:.0f} s") from None
    if process.returncode != 0:
        message = err.decode(errors="replace").strip().splitlines()
        raise WorktreeError(f"git {args[0]} failed: {message[-1] if message else 'no message'}")
    return out.decode(errors="replace").strip()


async def _identity(cwd: Path) -> list[str]:
    """The user's git identity if it has one, else BooCode's, for the subagent's commit."""
    try:
        await git(cwd, "config", "user.email")
        return []
    except WorktreeError:
        return ["-c", "user.name=BooCode subagent", "-c", "user.email=boocode@localhost"]


async def _ignore_worktrees(top: Path) -> None:
    """Keep the worktrees out of the main tree's `git status` (locally, nothing committed)."""
    exclude = Path(await git(top, "rev-parse", "--git-path", "info/exclude"))
    if not exclude.is_absolute():
        exclude = top / exclude
    entry = f"/{WORKTREES.as_posix()}/"
    existing = exclude.read_text() if exclude.is_file() else ""
    if entry not in existing.splitlines():
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with exclude.open("a") as fh:
            fh.write(("" if existing.endswith("\n") or not existing else "\n") + entry + "\n")
