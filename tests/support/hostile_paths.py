"""Paths a model may send to reach outside the workspace: the path guard's unit tests and the
attacks through a real turn feed the same corpus.

    links = plant_links(workspace, outside)   # the symlinks some of them go through
    for hostile in HOSTILE_PATHS:
        path = hostile.spelled(outside)        # "{outside}" becomes the real directory
        ...                                    # the refusal matches `hostile.refusal`

The workspace and `outside` are siblings (`<root>/workspace`, `<root>/outside`), and `outside`
holds `secret.txt`, as the tools tests and the confined server lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

OUTSIDE = "is outside the workspace"
THROUGH_A_LINK = "symlink that points outside the workspace"


@dataclass(frozen=True)
class HostilePath:
    path: str
    """The path as a model sends it; `{outside}` stands for the directory beside the workspace."""
    refusal: str
    """A regular expression the tool's error matches."""

    def spelled(self, outside: Path) -> str:
        return self.path.replace("{outside}", str(outside))


HOSTILE_PATHS = (
    # `..` escapes.
    HostilePath("..", OUTSIDE),
    HostilePath("../outside/secret.txt", OUTSIDE),
    HostilePath("../outside/new.txt", OUTSIDE),
    HostilePath("a/../../outside", OUTSIDE),
    HostilePath("a/b/../../..", OUTSIDE),
    # Absolute paths elsewhere.
    HostilePath("/", OUTSIDE),
    HostilePath("/etc/passwd", OUTSIDE),
    HostilePath("{outside}/secret.txt", OUTSIDE),
    # Symlinks planted in the workspace (`plant_links`): to a file, a directory, a file that
    # does not exist yet, through a chain.
    HostilePath("link.txt", THROUGH_A_LINK),
    HostilePath("linked", THROUGH_A_LINK),
    HostilePath("linked/secret.txt", THROUGH_A_LINK),
    HostilePath("linked/new-file.txt", THROUGH_A_LINK),
    HostilePath("linked/a/b/c.txt", THROUGH_A_LINK),
    HostilePath("dangling", THROUGH_A_LINK),
    HostilePath("out1", THROUGH_A_LINK),
    # Home directories.
    HostilePath("~", "starts with '~'"),
    HostilePath("~/.ssh/id_rsa", "starts with '~'"),
    HostilePath("~root/.bashrc", "starts with '~'"),
    # A NUL byte cutting the path short, and paths the kernel would refuse to spell.
    HostilePath("a.txt\x00../../etc/passwd", "NUL"),
    HostilePath("a" * 256, "component .* is too long"),
    HostilePath("ab/" * 1366, "path is too long"),
)


def plant_links(workspace: Path, outside: Path) -> list[Path]:
    """Make the symlinks the corpus goes through; returns them, for the caller to remove."""
    targets = {
        "link.txt": outside / "secret.txt",
        "linked": outside,
        "dangling": outside / "does-not-exist-yet.txt",
        "out2": outside / "secret.txt",
        "out1": Path("out2"),
    }
    links = []
    for name, target in targets.items():
        link = workspace / name
        link.symlink_to(target, target_is_directory=target == outside)
        links.append(link)
    return links
