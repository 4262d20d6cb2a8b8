from pathlib import Path

import pytest

from boocode.tools import PathGuard, ToolError
from boocode.tools.grep import MATCH_CAP, grep


def _write(workspace: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (workspace / rel).parent.mkdir(parents=True, exist_ok=True)
        (workspace / rel).write_text(text)


async def test_grep_prints_relpath_line_text(guard: PathGuard, workspace: Path) -> None:
    _write(workspace, {"src/app.py": "import os\n\ndef main():\n    os.getcwd()\n"})

    result = await grep(guard, r"os\.\w+\(")

    assert result.content == "src/app.py:4:     os.getcwd()"


async def test_grep_respects_gitignore_and_skips_git(guard: PathGuard, workspace: Path) -> None:
    _write(
        workspace,
        {
            ".gitignore": "build/\n*.min.js\n",
            "src/a.py": "needle = 1\n",
            "build/out.py": "needle = 2\n",
            "src/vendor.min.js": "needle\n",
            ".git/config": "needle\n",
        },
    )

    result = await grep(guard, "needle")

    assert result.content.splitlines() == ["src/a.py:1: needle = 1"]


async def test_grep_glob_filters_by_name_or_relative_path(
    guard: PathGuard, workspace: Path
) -> None:
    _write(
        workspace,
        {"a.py": "hit\n", "a.txt": "hit\n", "src/b.py": "hit\n", "tests/c.py": "hit\n"},
    )

    by_name = await grep(guard, "hit", glob="*.py")
    by_path = await grep(guard, "hit", glob="src/*")

    assert by_name.content.splitlines() == ["a.py:1: hit", "src/b.py:1: hit", "tests/c.py:1: hit"]
    assert by_path.content.splitlines() == ["src/b.py:1: hit"]


async def test_grep_in_a_subdirectory_or_a_single_file(guard: PathGuard, workspace: Path) -> None:
    _write(workspace, {"a.py": "hit\n", "src/b.py": "x\nhit\n"})

    assert (await grep(guard, "hit", "src")).content == "src/b.py:2: hit"
    assert (await grep(guard, "hit", "a.py")).content == "a.py:1: hit"


async def test_grep_skips_binary_files(guard: PathGuard, workspace: Path) -> None:
    (workspace / "blob.bin").write_bytes(b"needle\x00\x01")
    (workspace / "text.txt").write_text("needle\n")

    assert (await grep(guard, "needle")).content == "text.txt:1: needle"


async def test_grep_never_reads_through_a_symlink_out(
    guard: PathGuard, workspace: Path, outside: Path
) -> None:
    (workspace / "leak.txt").symlink_to(outside / "secret.txt")
    (workspace / "inside.txt").write_text("SENTINEL inside\n")
    (workspace / "alias.txt").symlink_to(workspace / "inside.txt")

    result = await grep(guard, "SENTINEL")

    assert result.content.splitlines() == [
        "alias.txt:1: SENTINEL inside",
        "inside.txt:1: SENTINEL inside",
    ]
    with pytest.raises(ToolError, match="outside the workspace"):
        await grep(guard, "SENTINEL", "leak.txt")


async def test_grep_caps_matches_with_a_note(guard: PathGuard, workspace: Path) -> None:
    (workspace / "many.txt").write_text("hit\n" * (MATCH_CAP + 10))

    lines = (await grep(guard, "hit")).content.splitlines()

    assert len(lines) == MATCH_CAP + 1
    assert lines[-1].startswith(f"[stopped after {MATCH_CAP} matches")


async def test_grep_reports_no_matches_and_bad_patterns(guard: PathGuard, workspace: Path) -> None:
    _write(workspace, {"a.py": "x\n"})

    assert (await grep(guard, "zzz")).content == "no matches for 'zzz' in ."
    with pytest.raises(ToolError, match=r"invalid regular expression '\(unclosed'"):
        await grep(guard, "(unclosed")
    with pytest.raises(ToolError, match="no such file or directory: missing"):
        await grep(guard, "x", "missing")
