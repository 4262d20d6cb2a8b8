"""The bubblewrap command line that confines one command.

Inside: the workspace read-write at its real path; the system directories read-only; an empty
home and a private /tmp; a /proc that shows only the command's own processes; no network
unless asked. Everything else (the user's home, the data dir, other projects, /root, /run,
/var, /srv, /mnt, /media, /sys) does not exist there.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from boocode.sandbox.policy import WORKTREES, ShownDirectory, governing_workspace

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt")
"""Seen read-only; a merged-/usr symlink (`/bin -> usr/bin`) is recreated as a symlink."""
MASKED_FILES = ("/etc/shadow", "/etc/gshadow")
"""Replaced by an empty file: a command running as root could read them otherwise."""
SANDBOX_HOME = "/home/sandbox"
"""An empty, writable tmpfs, new for every command; HOME points at it."""
CONFIG_DIR = ".boocode"
"""Read-only inside the workspace: a command cannot rewrite the project's settings."""
GIT_SETTINGS = ("config", "hooks", "config.worktree")
"""Read-only in a repository's git dirs, where present: git outside the sandbox (yours, the
server's) reads them and runs what they name. `hooks/` is made first when missing."""
PLANTED_SETTINGS = ("commondir",)
"""Never part of a repository's own git dir (only a linked worktree's entry has one), yet git
would read its settings from wherever it points: removed before and after every command."""
NEW_SETTINGS = ("config.worktree",)
"""Read by git when the repository enables it: one a command creates is removed after it."""
_MODULE_GIT_DIRS = 64
"""At most this many submodule git dirs (under `.git/modules/`) are protected."""
WORKTREE_POINTERS = ("commondir", "gitdir")
"""Read-only in a linked worktree's entry under `.git/worktrees/`: they say where it belongs."""
_POINTER_BYTES = 4096


def bwrap_argv(
    bwrap: str,
    command: Sequence[str],
    *,
    workspace: Path,
    cwd: Path,
    network: bool,
    read_only: Sequence[ShownDirectory] = (),
    hidden: Sequence[Path] = (),
    git: GitProtection | None = None,
) -> list[str]:
    """`bwrap ... -- command`: bubblewrap's operations run in order, later mounts on top.

    `workspace` and `cwd` are resolved absolute paths; `hidden` paths (the data dir, a SQLite
    file) are covered with an empty tmpfs or file wherever they would otherwise show; `git` is
    the workspace's `git_protection`, made here when not given.
    """
    argv = [bwrap, "--unshare-all", "--die-with-parent", "--new-session"]
    if network:
        argv.append("--share-net")
    for system_dir in SYSTEM_DIRS:
        if os.path.islink(system_dir):
            argv += ["--symlink", os.readlink(system_dir), system_dir]
        elif os.path.isdir(system_dir):
            argv += ["--ro-bind", system_dir, system_dir]
    if network:
        argv += _resolver_outside_etc()
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm"]
    argv += ["--tmpfs", "/tmp", "--tmpfs", SANDBOX_HOME]
    for shown in _still_there(read_only):
        argv += ["--ro-bind", str(shown.real), str(shown.path)]
    argv += ["--bind", str(workspace), str(workspace)]
    argv += (git or git_protection(workspace)).binds
    config_dir = workspace / CONFIG_DIR
    if config_dir.is_dir() and not config_dir.is_symlink():
        argv += ["--ro-bind", str(config_dir), str(config_dir)]
    roots = visible_roots(workspace, read_only)
    for path in hidden:
        # Covering a directory that holds the workspace would hide the workspace too.
        if not is_under_any(path, roots) or is_under_any(workspace, [path]):
            continue
        if path.is_dir():
            argv += ["--tmpfs", str(path)]
        elif path.is_file():
            argv += ["--ro-bind", "/dev/null", str(path)]
    for masked in MASKED_FILES:
        if os.path.isfile(masked):
            argv += ["--ro-bind", "/dev/null", masked]
    argv += ["--remount-ro", "/", "--chdir", str(cwd), "--", *command]
    return argv


@dataclass(frozen=True)
class GitProtection:
    """What keeps a workspace's repository settings out of a confined command's reach."""

    binds: tuple[str, ...] = ()
    """bubblewrap operations, after the workspace's own bind."""
    planted: tuple[Path, ...] = ()
    """Settings files git outside the sandbox would read that a command could create: each
    that exists once the command has ended is removed (`remove_planted`)."""


def git_protection(workspace: Path) -> GitProtection:
    """Keep a repository's settings and hooks read-only (git outside the sandbox reads them).

    A `.git` directory becomes a mount point of its own, so it cannot be renamed aside and
    replaced; its `config`, `hooks/` and `config.worktree`, and those of its submodules' git
    dirs, are read-only. A `.git` file is read-only and leads nowhere, except in one of
    BooCode's own worktrees whose pointers name the repository it was made from: that
    repository's `.git` is bound writable (git commits there) with the same protection, and the
    worktree's pointer files in it read-only.

    The git dirs are made ready too: a missing `hooks/` is made (to be bound read-only), and
    every `commondir` in a repository's own git dirs is removed (git never makes one there, and
    one left by a command that outlived the server must not wait for the next).
    """
    marker = workspace / ".git"
    if marker.is_symlink():
        return GitProtection()
    if marker.is_dir():
        return _repository(["--bind", str(marker), str(marker)], marker, None)
    if not marker.is_file():
        return GitProtection()
    binds = ["--ro-bind", str(marker), str(marker)]
    if (linked := worktree_git_dirs(workspace)) is None:
        return GitProtection(tuple(binds))
    entry, common = linked
    return _repository([*binds, "--bind", str(common), str(common)], common, entry)


def _repository(binds: list[str], top: Path, entry: Path | None) -> GitProtection:
    """`binds` and the protection of the repository whose git dir is `top` (writable), with
    its submodules' git dirs and, for a worktree, its `entry`."""
    git_dirs = [top, *_module_git_dirs(top)]
    planted: list[Path] = []
    for git_dir in git_dirs:
        hooks = git_dir / "hooks"
        if not os.path.lexists(hooks):
            with contextlib.suppress(OSError):
                hooks.mkdir()
        binds += _read_only_in(git_dir, GIT_SETTINGS)
        for name in PLANTED_SETTINGS:
            _remove_file(git_dir / name)
            planted.append(git_dir / name)
    if entry is not None:
        binds += _read_only_in(entry, (*WORKTREE_POINTERS, *NEW_SETTINGS))
        git_dirs.append(entry)
    planted += [
        git_dir / name
        for git_dir in git_dirs
        for name in NEW_SETTINGS
        if not os.path.lexists(git_dir / name)
    ]
    return GitProtection(tuple(binds), tuple(planted))


def remove_planted(paths: Sequence[Path]) -> None:
    """Remove whichever of `paths` (`GitProtection.planted`) a command left behind."""
    for path in paths:
        _remove_file(path)


def _module_git_dirs(git_dir: Path) -> list[Path]:
    """Submodules' git dirs: any directory under `modules/` (nested ones in theirs) that holds
    a `HEAD`, no symlink followed, at most `_MODULE_GIT_DIRS` of them."""
    found: list[Path] = []
    pending = [git_dir / "modules"]
    while pending and len(found) < _MODULE_GIT_DIRS:
        directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            if not entry.is_dir(follow_symlinks=False):
                continue
            path = Path(entry.path)
            if (path / "HEAD").is_file():
                found.append(path)
                pending.append(path / "modules")
            else:
                pending.append(path)  # a submodule's name may hold slashes
    return found[:_MODULE_GIT_DIRS]


def _remove_file(path: Path) -> None:
    """Unlink `path` if it is anything but a directory; a directory there is left alone
    (git cannot read a directory as the file it expects)."""
    with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
        if not path.is_dir() or path.is_symlink():
            path.unlink()


def _read_only_in(directory: Path, names: Sequence[str]) -> list[str]:
    argv = []
    for name in names:
        path = directory / name
        if path.exists() and not path.is_symlink():
            argv += ["--ro-bind", str(path), str(path)]
    return argv


def worktree_git_dirs(workspace: Path) -> tuple[Path, Path] | None:
    """For one of BooCode's worktrees (`workspace`, resolved, is
    `<top>/.boocode/worktrees/<name>`): its entry `<top>/.git/worktrees/<name>` and the
    repository's `<top>/.git`, where git in the worktree keeps its objects and refs.

    A command writes the worktree's `.git` file and, from the tree it was made from, the
    entry's `commondir`, so both are trusted only when they name exactly these two directories,
    with no symlink on the way; otherwise None.
    """
    if workspace.parent.parts[-len(WORKTREES.parts) :] != WORKTREES.parts:
        return None
    common = governing_workspace(workspace) / ".git"
    entry = common / "worktrees" / workspace.name
    if not common.is_dir() or os.path.realpath(entry) != str(entry):
        return None
    gitdir = _pointer(workspace / ".git", "gitdir:")
    commondir = _pointer(entry / "commondir")
    if gitdir is None or commondir is None:
        return None
    if os.path.realpath(workspace / gitdir) != str(entry):
        return None
    if os.path.realpath(entry / commondir) != str(common):
        return None
    return entry, common


def _pointer(path: Path, prefix: str = "") -> str | None:
    """The one line of a small regular file (not followed if a symlink) after `prefix`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        text = os.read(fd, _POINTER_BYTES).decode("utf-8", "replace").strip()
    finally:
        os.close(fd)
    if not text.startswith(prefix) or "\n" in text:
        return None
    return text.removeprefix(prefix).strip() or None


def visible_roots(workspace: Path, read_only: Sequence[ShownDirectory] = ()) -> list[Path]:
    """The host directories whose content a confined command sees (its /tmp and home are new),
    each as spelled and as resolved."""
    system = [Path(d) for d in SYSTEM_DIRS if os.path.isdir(d)]
    listed = _still_there(read_only)
    shown = [*system, *(directory.path for directory in listed)]
    resolved = [*(Path(os.path.realpath(d)) for d in system), *(d.real for d in listed)]
    return list(dict.fromkeys([*shown, *resolved, workspace]))


def _still_there(read_only: Sequence[ShownDirectory]) -> list[ShownDirectory]:
    """The directories whose real path is still a directory with no symlink on the way: one a
    command replaced since the policy was made is not shown at all."""
    return [
        shown
        for shown in read_only
        if shown.real.is_dir() and os.path.realpath(shown.real) == str(shown.real)
    ]


def is_under_any(path: Path, roots: Sequence[Path]) -> bool:
    text = str(path)
    return any(text == str(root) or text.startswith(f"{root}/") for root in roots)


def _resolver_outside_etc() -> list[str]:
    """`/etc/resolv.conf` may point into /run (systemd-resolved): show its target too."""
    target = Path(os.path.realpath("/etc/resolv.conf"))
    if target.is_relative_to("/etc") or not target.is_file():
        return []
    return ["--ro-bind", str(target), str(target)]
