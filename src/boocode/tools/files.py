"""The file tools: list_files, read_file, write_file, edit_file.

Each is an async function over a PathGuard; the blocking file work runs in a thread.
"""

import asyncio
import os
from typing import BinaryIO

from boocode.tools.errors import ToolError
from boocode.tools.path_guard import PathGuard
from boocode.tools.result import FileChange, ToolResult
from boocode.tools.textfile import SNIFF_BYTES, iter_lines, looks_binary, open_regular
from boocode.tools.walk import walk

LIST_CAP = 1000
READ_CAP_BYTES = 256 * 1024
MAX_LINE_BYTES = 16 * 1024
MAX_EDIT_BYTES = 4 * 1024 * 1024


async def list_files(guard: PathGuard, path: str = ".", recursive: bool = False) -> ToolResult:
    """List a directory (or its whole tree) as sorted workspace-relative paths, dirs ending '/'.

    `.git` and paths ignored by `.gitignore` are left out; at most LIST_CAP entries are shown.
    """
    return await asyncio.to_thread(_list_files, guard, path, recursive)


async def read_file(
    guard: PathGuard, path: str, start_line: int | None = None, end_line: int | None = None
) -> ToolResult:
    """Read a text file with line numbers; `start_line`/`end_line` are 1-based and inclusive.

    Output stops at READ_CAP_BYTES with a note saying where to continue.
    """
    return await asyncio.to_thread(_read_file, guard, path, start_line, end_line)


async def write_file(guard: PathGuard, path: str, content: str) -> ToolResult:
    """Create or overwrite a text file, creating parent directories; returns its FileChange."""
    return await asyncio.to_thread(_write_file, guard, path, content)


async def edit_file(guard: PathGuard, path: str, old_string: str, new_string: str) -> ToolResult:
    """Replace `old_string` with `new_string`; `old_string` must match exactly once."""
    return await asyncio.to_thread(_edit_file, guard, path, old_string, new_string)


def _list_files(guard: PathGuard, path: str, recursive: bool) -> ToolResult:
    directory = guard.resolve(path)
    rel = guard.relative(directory)
    if not directory.exists():
        raise ToolError(f"no such directory: {rel}")
    if not directory.is_dir():
        raise ToolError(f"{rel} is a file, not a directory; use read_file to read it")
    lines: list[str] = []
    total = 0
    for entry in walk(guard.workspace, directory, recursive=recursive):
        total += 1
        if total <= LIST_CAP:
            lines.append(entry.rel + "/" if entry.is_dir else entry.rel)
    if total == 0:
        return ToolResult(content=f"{rel}: empty directory (after .gitignore)")
    if total > LIST_CAP:
        lines.append(f"… {total - LIST_CAP} more entries omitted; list a subdirectory to see them")
    return ToolResult(content="\n".join(lines), metadata={"entries": total})


def _read_file(
    guard: PathGuard, path: str, start_line: int | None, end_line: int | None
) -> ToolResult:
    first = 1 if start_line is None else start_line
    if first < 1 or (end_line is not None and end_line < first):
        raise ToolError(
            f"invalid line range {start_line}..{end_line}: lines are numbered from 1 "
            "and end_line must not be before start_line"
        )
    target = guard.resolve(path)
    rel = guard.relative(target)
    if target.is_dir():
        raise ToolError(f"{rel} is a directory; use list_files to list it")
    out: list[str] = []
    size = 0
    line_count = 0
    note = ""
    with open_regular(guard, target, rel) as file:
        if looks_binary(file.read(SNIFF_BYTES)):
            raise ToolError(f"{rel} is a binary file; read_file only reads text")
        file.seek(0)
        for number, (raw, cut) in enumerate(iter_lines(file, MAX_LINE_BYTES), start=1):
            line_count = number
            if number < first:
                continue
            if end_line is not None and number > end_line:
                break
            text = raw.decode("utf-8", "replace")
            if cut:
                text += f" … [line cut: {cut} more bytes]"
            numbered = f"{number:>5}\t{text}\n"
            size += len(numbered.encode("utf-8"))
            if size > READ_CAP_BYTES:
                note = (
                    f"[truncated: output reached the {READ_CAP_BYTES}-byte limit; "
                    f"call read_file with start_line={number} to continue]"
                )
                break
            out.append(numbered)
    if line_count == 0:
        return ToolResult(content=f"{rel} is empty")
    if first > line_count:
        raise ToolError(f"start_line {first} is past the end of {rel} ({line_count} lines)")
    return ToolResult(content="".join(out) + note)


def _write_file(guard: PathGuard, path: str, content: str) -> ToolResult:
    target = guard.resolve(path)
    rel = guard.relative(target)
    if target.is_dir():
        raise ToolError(f"{rel} is a directory; give a file path")
    data = _encode(content, rel)
    created = False
    try:
        file = open_regular(guard, target, rel, writable=True)
    except ToolError:
        if os.path.lexists(target):
            raise
        file = open_regular(guard, target, rel, writable=True, create=True)
        created = True
    with file:
        before = None if created else _read_text(file, rel)
        _replace_content(file, rel, data)
    verb = "created" if before is None else "overwrote"
    return ToolResult(
        content=f"{verb} {rel} ({len(data)} bytes, {_count_lines(content)} lines)",
        file_change=FileChange(path=rel, before=before, after=content),
    )


def _edit_file(guard: PathGuard, path: str, old_string: str, new_string: str) -> ToolResult:
    if not old_string:
        raise ToolError("old_string must not be empty; use write_file to create or replace a file")
    if old_string == new_string:
        raise ToolError("old_string and new_string are identical; nothing would change")
    target = guard.resolve(path)
    rel = guard.relative(target)
    if not target.exists():
        raise ToolError(f"no such file: {rel}; use write_file to create it")
    with open_regular(guard, target, rel, writable=True) as file:
        before = _read_text(file, rel)
        after = _edited(before, old_string, new_string, rel)
        _replace_content(file, rel, _encode(after, rel))
    line = before.count("\n", 0, before.index(old_string)) + 1
    return ToolResult(
        content=f"edited {rel}: replaced 1 occurrence at line {line}",
        file_change=FileChange(path=rel, before=before, after=after),
    )


def _edited(before: str, old_string: str, new_string: str, rel: str) -> str:
    """`before` with its one occurrence of `old_string` replaced; refuses 0 or 2+ matches."""
    positions = _match_positions(before, old_string)
    if not positions:
        raise ToolError(
            f"old_string was not found in {rel} (0 matches); it must match the file exactly, "
            "including whitespace and indentation"
        )
    if len(positions) > 1:
        raise ToolError(
            f"old_string matches {len(positions)} times in {rel}; it must match exactly once, "
            "so include more surrounding lines"
        )
    at = positions[0]
    return before[:at] + new_string + before[at + len(old_string) :]


def _match_positions(text: str, needle: str) -> list[int]:
    """Every start index of `needle` in `text`, overlapping ones included."""
    positions = []
    at = text.find(needle)
    while at != -1:
        positions.append(at)
        at = text.find(needle, at + 1)
    return positions


def _read_text(file: BinaryIO, rel: str) -> str:
    """The whole file as UTF-8 text, for a before-image; binary or huge files are refused."""
    data = file.read(MAX_EDIT_BYTES + 1)
    if len(data) > MAX_EDIT_BYTES:
        raise ToolError(f"{rel} is larger than {MAX_EDIT_BYTES} bytes; it cannot be edited here")
    if looks_binary(data):
        raise ToolError(f"{rel} is a binary file; only text files can be written or edited")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"{rel} is not UTF-8 text; it cannot be edited here") from None


def _encode(content: str, rel: str) -> bytes:
    try:
        return content.encode("utf-8")
    except UnicodeEncodeError:
        raise ToolError(f"content for {rel} is not valid Unicode text") from None


def _replace_content(file: BinaryIO, rel: str, data: bytes) -> None:
    try:
        file.seek(0)
        file.truncate()
        file.write(data)
    except OSError as exc:
        raise ToolError(f"cannot write {rel}: {exc.strerror or exc}") from None


def _count_lines(text: str) -> int:
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)
