"""The grep tool: a Python regular expression over the workspace's text files."""

import asyncio
import fnmatch
import os
import re
from collections.abc import Iterator
from pathlib import Path

from boocode.tools.errors import ToolError
from boocode.tools.path_guard import PathGuard
from boocode.tools.result import ToolResult
from boocode.tools.textfile import SNIFF_BYTES, iter_lines, looks_binary, open_regular
from boocode.tools.walk import walk

MATCH_CAP = 500
SHOWN_LINE_CHARS = 400
_MAX_LINE_BYTES = 64 * 1024


async def grep(
    guard: PathGuard, pattern: str, path: str = ".", glob: str | None = None
) -> ToolResult:
    """Search files under `path` for `pattern` (Python `re` syntax); lines as `relpath:line: text`.

    `.git`, gitignored and binary files are skipped; `glob` is matched against the relative
    path or the file name; at most MATCH_CAP matches are shown.
    """
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise ToolError(f"invalid regular expression {pattern!r}: {exc}") from None
    return await asyncio.to_thread(_grep, guard, regex, path, glob)


def _grep(guard: PathGuard, regex: re.Pattern[str], path: str, glob: str | None) -> ToolResult:
    start = guard.resolve(path)
    rel = guard.relative(start)
    if not start.exists():
        raise ToolError(f"no such file or directory: {rel}")
    lines: list[str] = []
    for file_rel, file_path in _candidate_files(guard, start, glob):
        for number, text in _matching_lines(guard, file_path, file_rel, regex):
            if len(lines) == MATCH_CAP:
                lines.append(
                    f"[stopped after {MATCH_CAP} matches; narrow the pattern, path or glob]"
                )
                return ToolResult(content="\n".join(lines), metadata={"matches": MATCH_CAP})
            lines.append(f"{file_rel}:{number}: {text}")
    if not lines:
        where = rel if glob is None else f"{rel} (glob {glob!r})"
        return ToolResult(content=f"no matches for {regex.pattern!r} in {where}")
    return ToolResult(content="\n".join(lines), metadata={"matches": len(lines)})


def _candidate_files(guard: PathGuard, start: Path, glob: str | None) -> Iterator[tuple[str, Path]]:
    paths: Iterator[tuple[str, Path]]
    if start.is_dir():
        paths = (
            (entry.rel, entry.path)
            for entry in walk(guard.workspace, start, recursive=True)
            if not entry.is_dir
        )
    else:
        paths = iter([(guard.relative(start), start)])
    for rel, path in paths:
        if glob is not None and not (
            fnmatch.fnmatchcase(rel, glob) or fnmatch.fnmatchcase(path.name, glob)
        ):
            continue
        real = Path(os.path.realpath(path))
        # A symlink met on the walk may lead outside the workspace: never read through it.
        if guard.is_inside(real):
            yield rel, real


def _matching_lines(
    guard: PathGuard, path: Path, rel: str, regex: re.Pattern[str]
) -> Iterator[tuple[int, str]]:
    try:
        file = open_regular(guard, path, rel)
    except ToolError:
        return
    with file:
        if looks_binary(file.read(SNIFF_BYTES)):
            return
        file.seek(0)
        for number, (raw, _cut) in enumerate(iter_lines(file, _MAX_LINE_BYTES), start=1):
            text = raw.decode("utf-8", "replace")
            if regex.search(text):
                yield number, _shorten(text)


def _shorten(text: str) -> str:
    if len(text) <= SHOWN_LINE_CHARS:
        return text
    return text[:SHOWN_LINE_CHARS] + " …"
