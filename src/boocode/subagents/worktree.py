"""A fresh git worktree for a subagent that asked for isolation.

Planned when the subagent is spawned (so a workspace that is not a git repository is a tool
error at once), created when it starts, and at its end removed if nothing changed, or kept with
its changes committed on its own branch and reported with a diff stat.
"""

from __future__ import annotations

import os
from pathlib import Path

from boocode.contracts.subagents import WorktreeReport
from boocode.sandbox import host_git, policy

WORKTREES = policy.WORKTREES
"""Under the repository's top level, in the directory commands cannot write; its own
`.gitignore` keeps it out of the main tree's `git status`. A worktree's commands run with the
sandbox policy of the tree it was made from."""


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
    await _check_git_dir(top)
    subdir = os.path.relpath(os.path.realpath(workspace), os.path.realpath(top))
    if subdir == ".." or subdir.startswith("../"):
        raise WorktreeError(f"{workspace} is not inside its repository's working tree {top}")
    return WorktreePlan(
        root=top / WORKTREES / name,
        branch=f"boocode/{name}",
        base=base,
        subdir="" if subdir == "." else subdir,
    )


async def _check_git_dir(top: Path) -> None:
    """The repository's git dir is inside its working tree, or is a linked worktree's entry
    that names this tree back: a `.git` file a command wrote must not make the server add
    worktrees and branches to another repository on the machine."""
    git_dir = Path(os.path.realpath(await git(top, "rev-parse", "--absolute-git-dir")))
    if git_dir.is_relative_to(os.path.realpath(top)):
        return
    back = git_dir / "gitdir"
    named = back.read_text(errors="replace").strip() if back.is_file() else ""
    if named and os.path.realpath(named) == os.path.realpath(top / ".git"):
        return
    raise WorktreeError(
        f"the .git file at {top} leads to {git_dir}, outside the working tree, which does not "
        'name it back as one of its worktrees; isolation "worktree" does not follow it'
    )


async def create(plan: WorktreePlan) -> None:
    """Add the worktree on a new branch at the base commit; a worktree already there stays."""
    if (plan.root / ".git").exists():
        return
    _make_worktrees_dir(plan.root.parent)
    await git(
        plan.root.parent, "worktree", "add", "-q", "-b", plan.branch, str(plan.root), plan.base
    )


async def finish(plan: WorktreePlan) -> WorktreeReport:
    """Commit what the subagent changed on its branch and report it; remove an unchanged one.

    Safe to repeat: a second call finds the commit made by the first.
    """
    if not (plan.root / ".git").exists():
        return WorktreeReport(path=str(plan.root), branch=plan.branch, kept=False)
    await _check_pointer(plan)
    await git(plan.root, "add", "-A")
    if await git(plan.root, "status", "--porcelain", "--ignore-submodules=all"):
        await git(
            plan.root,
            *await _identity(plan.root),
            "commit",
            "-q",
            "--no-verify",
            "-m",
            f"subagent work on {plan.branch}",
        )
    stat = await git(
        plan.root, "diff", "--no-ext-diff", "--no-textconv", "--stat", plan.base, "HEAD"
    )
    if not stat:
        await git(plan.root.parent, "worktree", "remove", "--force", str(plan.root))
        await git(plan.root.parent, "branch", "-D", plan.branch)
        return WorktreeReport(path=str(plan.root), branch=plan.branch, kept=False)
    head = await git(plan.root, "rev-parse", "HEAD")
    return WorktreeReport(
        path=str(plan.root), branch=plan.branch, kept=True, diff_stat=stat, commit=head
    )


async def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd`, hardened (see `host_git`): its stripped output, or WorktreeError."""
    try:
        return await host_git.git(cwd, *args)
    except host_git.HostGitError as exc:
        raise WorktreeError(str(exc)) from None


async def _check_pointer(plan: WorktreePlan) -> None:
    """The worktree's `.git` file must still name the worktree's entry in its repository: a
    command in the worktree could rewrite it to lead the server's git into another one."""
    top = plan.root.parent.parent.parent
    common = await git(top, "rev-parse", "--path-format=absolute", "--git-common-dir")
    marker = plan.root / ".git"
    line = (
        "" if marker.is_symlink() or not marker.is_file() else marker.read_text("utf-8", "replace")
    )
    gitdir = Path(os.path.realpath(plan.root / line.strip().removeprefix("gitdir:").strip()))
    if (
        not line.startswith("gitdir:")
        or gitdir.parent != Path(os.path.realpath(common)) / "worktrees"
    ):
        raise WorktreeError(f"{marker} no longer names its repository; the worktree is left as is")


async def _identity(cwd: Path) -> list[str]:
    """The user's git identity if it has one, else BooCode's, for the subagent's commit."""
    try:
        await git(cwd, "config", "user.email")
        return []
    except WorktreeError:
        return ["-c", "user.name=BooCode subagent", "-c", "user.email=boocode@localhost"]


def _make_worktrees_dir(directory: Path) -> None:
    """Create `.boocode/worktrees` with a `.gitignore` of `*`, through no symlink."""
    top = directory.parent.parent
    for path in (directory.parent, directory):
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            raise WorktreeError(f"{path.relative_to(top)} must be a directory, not a link or file")
        path.mkdir(exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
    descriptor = os.open(directory / ".gitignore", flags, 0o644)
    with os.fdopen(descriptor, "w") as fh:
        fh.write("*\n")
