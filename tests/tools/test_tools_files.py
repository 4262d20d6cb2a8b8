import os
from pathlib import Path

import pytest

from boocode.tools import PathGuard, ToolError
from boocode.tools.files import (
    LIST_CAP,
    READ_CAP_BYTES,
    edit_file,
    list_files,
    read_file,
    write_file,
)
from boocode.tools.grep import grep
from boocode.tools.walk import walk
from support.hostile_paths import HOSTILE_PATHS, HostilePath, plant_links


def _assert_sentinel_untouched(outside: Path) -> None:
    assert (outside / "secret.txt").read_text().startswith("SENTINEL")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


# read_file


async def test_read_file_numbers_lines(guard: PathGuard, workspace: Path) -> None:
    (workspace / "a.txt").write_text("alpha\nbeta\r\ngamma")

    result = await read_file(guard, "a.txt")

    assert result.content == "    1\talpha\n    2\tbeta\n    3\tgamma\n"
    assert not result.is_error


async def test_read_file_line_range_is_one_based_and_inclusive(
    guard: PathGuard, workspace: Path
) -> None:
    (workspace / "a.txt").write_text("".join(f"line {n}\n" for n in range(1, 21)))

    assert (await read_file(guard, "a.txt", 12, 13)).content == "   12\tline 12\n   13\tline 13\n"
    assert (await read_file(guard, "a.txt", start_line=19)).content == (
        "   19\tline 19\n   20\tline 20\n"
    )
    assert (await read_file(guard, "a.txt", end_line=1)).content == "    1\tline 1\n"
    assert (await read_file(guard, "a.txt", 20, 500)).content == "   20\tline 20\n"


async def test_read_file_refuses_bad_ranges(guard: PathGuard, workspace: Path) -> None:
    (workspace / "a.txt").write_text("one\ntwo\n")

    with pytest.raises(ToolError, match=r"start_line 5 is past the end of a.txt \(2 lines\)"):
        await read_file(guard, "a.txt", 5)
    with pytest.raises(ToolError, match="invalid line range"):
        await read_file(guard, "a.txt", 2, 1)
    with pytest.raises(ToolError, match="invalid line range"):
        await read_file(guard, "a.txt", 0)


async def test_read_file_caps_output_and_says_where_to_continue(
    guard: PathGuard, workspace: Path
) -> None:
    line = "x" * 99 + "\n"
    (workspace / "big.txt").write_text(line * 5000)

    first = await read_file(guard, "big.txt")

    assert len(first.content.encode()) < READ_CAP_BYTES + 200
    assert "[truncated: output reached the 262144-byte limit" in first.content
    last_shown = int(first.content.splitlines()[-2].split("\t")[0])
    assert f"start_line={last_shown + 1}" in first.content
    second = await read_file(guard, "big.txt", start_line=last_shown + 1)
    assert second.content.startswith(f"{last_shown + 1:>5}\t")


async def test_read_file_cuts_one_enormous_line(guard: PathGuard, workspace: Path) -> None:
    (workspace / "min.js").write_text("a" * 1_000_000 + "\nsecond\n")

    content = (await read_file(guard, "min.js")).content

    assert "[line cut: " in content
    assert "    2\tsecond\n" in content
    assert len(content) < 20_000


async def test_read_file_refuses_binary_directories_and_fifos(
    guard: PathGuard, workspace: Path
) -> None:
    (workspace / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (workspace / "dir").mkdir()
    os.mkfifo(workspace / "pipe")

    with pytest.raises(ToolError, match=r"img.png is a binary file"):
        await read_file(guard, "img.png")
    with pytest.raises(ToolError, match="dir is a directory"):
        await read_file(guard, "dir")
    with pytest.raises(ToolError, match="pipe is not a regular file"):
        await read_file(guard, "pipe")
    with pytest.raises(ToolError, match=r"no such file: missing.txt"):
        await read_file(guard, "missing.txt")


async def test_read_file_never_reads_through_a_symlink_out(
    guard: PathGuard, workspace: Path, outside: Path
) -> None:
    (workspace / "leak.txt").symlink_to(outside / "secret.txt")
    (workspace / "leakdir").symlink_to(outside, target_is_directory=True)

    for path in ["leak.txt", "leakdir/secret.txt", "../outside/secret.txt"]:
        with pytest.raises(ToolError, match="outside the workspace") as caught:
            await read_file(guard, path)
        assert "SENTINEL" not in str(caught.value)


async def test_a_symlink_loop_is_a_clear_error(guard: PathGuard, workspace: Path) -> None:
    (workspace / "loop").symlink_to("loop")

    with pytest.raises(ToolError, match="cannot open loop: Too many levels of symbolic links"):
        await read_file(guard, "loop")
    with pytest.raises(ToolError, match="cannot write loop: Too many levels of symbolic links"):
        await write_file(guard, "loop", "x")


# write_file


async def test_write_file_creates_parents_and_reports_a_new_file(
    guard: PathGuard, workspace: Path
) -> None:
    result = await write_file(guard, "src/pkg/mod.py", "x = 1\r\ny = 2\n")

    assert (workspace / "src/pkg/mod.py").read_bytes() == b"x = 1\r\ny = 2\n"
    assert result.file_change is not None
    assert result.file_change.model_dump() == {
        "path": "src/pkg/mod.py",
        "before": None,
        "after": "x = 1\r\ny = 2\n",
    }
    assert result.content == "created src/pkg/mod.py (13 bytes, 2 lines)"


async def test_write_file_overwrite_keeps_the_before_image(
    guard: PathGuard, workspace: Path
) -> None:
    (workspace / "a.txt").write_text("old\n")

    result = await write_file(guard, "a.txt", "new\n")

    assert (workspace / "a.txt").read_text() == "new\n"
    assert result.file_change is not None
    assert (result.file_change.before, result.file_change.after) == ("old\n", "new\n")
    assert result.content.startswith("overwrote a.txt")


async def test_write_file_refuses_directories_and_binary_files(
    guard: PathGuard, workspace: Path
) -> None:
    (workspace / "dir").mkdir()
    (workspace / "blob.bin").write_bytes(b"\x00\x01\x02")

    with pytest.raises(ToolError, match="is a directory"):
        await write_file(guard, "dir", "x")
    with pytest.raises(ToolError, match="binary"):
        await write_file(guard, "blob.bin", "x")
    assert (workspace / "blob.bin").read_bytes() == b"\x00\x01\x02"


@pytest.mark.parametrize("hostile", HOSTILE_PATHS, ids=lambda h: repr(h.path)[:40])
async def test_write_file_never_writes_outside(
    guard: PathGuard, workspace: Path, outside: Path, hostile: HostilePath
) -> None:
    plant_links(workspace, outside)

    with pytest.raises(ToolError, match=hostile.refusal):
        await write_file(guard, hostile.spelled(outside), "pwned\n")

    _assert_sentinel_untouched(outside)


# edit_file


async def test_edit_file_replaces_a_unique_match(guard: PathGuard, workspace: Path) -> None:
    (workspace / "a.py").write_text("def f():\n    return 1\n\ndef g():\n    return 2\n")

    result = await edit_file(guard, "a.py", "    return 2\n", "    return 3\n")

    after = "def f():\n    return 1\n\ndef g():\n    return 3\n"
    assert (workspace / "a.py").read_text() == after
    assert result.content == "edited a.py: replaced 1 occurrence at line 5"
    assert result.file_change is not None
    assert result.file_change.after == after
    assert result.file_change.before == "def f():\n    return 1\n\ndef g():\n    return 2\n"


async def test_edit_file_with_no_match_says_so(guard: PathGuard, workspace: Path) -> None:
    (workspace / "a.py").write_text("x = 1\n")

    with pytest.raises(ToolError, match=r"not found in a.py \(0 matches\)"):
        await edit_file(guard, "a.py", "x  = 1", "x = 2")
    assert (workspace / "a.py").read_text() == "x = 1\n"


async def test_edit_file_with_two_matches_says_how_many(guard: PathGuard, workspace: Path) -> None:
    (workspace / "a.py").write_text("x = 1\nx = 1\n")

    with pytest.raises(ToolError, match=r"matches 2 times in a.py; it must match exactly once"):
        await edit_file(guard, "a.py", "x = 1", "x = 2")
    assert (workspace / "a.py").read_text() == "x = 1\nx = 1\n"


async def test_edit_file_counts_overlapping_matches(guard: PathGuard, workspace: Path) -> None:
    (workspace / "a.txt").write_text("aaa")

    with pytest.raises(ToolError, match="matches 2 times"):
        await edit_file(guard, "a.txt", "aa", "b")


async def test_edit_file_refuses_pointless_or_impossible_edits(
    guard: PathGuard, workspace: Path
) -> None:
    (workspace / "a.txt").write_text("hello")
    (workspace / "latin1.txt").write_bytes("café".encode("latin-1"))

    with pytest.raises(ToolError, match="old_string must not be empty"):
        await edit_file(guard, "a.txt", "", "x")
    with pytest.raises(ToolError, match="identical"):
        await edit_file(guard, "a.txt", "hello", "hello")
    with pytest.raises(ToolError, match=r"no such file: b.txt; use write_file"):
        await edit_file(guard, "b.txt", "x", "y")
    with pytest.raises(ToolError, match="not UTF-8"):
        await edit_file(guard, "latin1.txt", "caf", "cof")


async def test_edit_file_never_edits_through_a_symlink_out(
    guard: PathGuard, workspace: Path, outside: Path
) -> None:
    (workspace / "link.txt").symlink_to(outside / "secret.txt")

    with pytest.raises(ToolError, match="outside the workspace"):
        await edit_file(guard, "link.txt", "SENTINEL", "PWNED")

    _assert_sentinel_untouched(outside)


# list_files


def _make_tree(workspace: Path) -> None:
    for rel in ["b.txt", "a/z.py", "a/y.py", "a/deep/x.py", "app.log", "keep.log"]:
        (workspace / rel).parent.mkdir(parents=True, exist_ok=True)
        (workspace / rel).write_text("")
    (workspace / "node_modules/pkg").mkdir(parents=True)
    (workspace / "node_modules/pkg/index.js").write_text("")
    (workspace / ".git/objects").mkdir(parents=True)
    (workspace / ".git/HEAD").write_text("ref: refs/heads/main\n")
    (workspace / ".gitignore").write_text("node_modules/\n*.log\n!keep.log\n")
    (workspace / "a/.gitignore").write_text("y.py\n")


async def test_list_files_is_sorted_marks_dirs_and_hides_git_and_ignored(
    guard: PathGuard, workspace: Path
) -> None:
    _make_tree(workspace)

    result = await list_files(guard)

    assert result.content.splitlines() == [".gitignore", "a/", "b.txt", "keep.log"]


async def test_list_files_recursive_obeys_nested_gitignores(
    guard: PathGuard, workspace: Path
) -> None:
    _make_tree(workspace)

    result = await list_files(guard, ".", recursive=True)

    assert result.content.splitlines() == [
        ".gitignore",
        "a/",
        "a/.gitignore",
        "a/deep/",
        "a/deep/x.py",
        "a/z.py",
        "b.txt",
        "keep.log",
    ]


async def test_list_files_of_a_subdirectory_uses_workspace_paths(
    guard: PathGuard, workspace: Path
) -> None:
    _make_tree(workspace)

    assert (await list_files(guard, "a")).content.splitlines() == [
        "a/.gitignore",
        "a/deep/",
        "a/z.py",
    ]


async def test_list_files_shows_an_ignored_directory_asked_for_by_name(
    guard: PathGuard, workspace: Path
) -> None:
    _make_tree(workspace)

    result = await list_files(guard, "node_modules", recursive=True)

    assert result.content.splitlines() == ["node_modules/pkg/", "node_modules/pkg/index.js"]


async def test_list_files_caps_entries_and_counts_the_rest(
    guard: PathGuard, workspace: Path
) -> None:
    for n in range(LIST_CAP + 25):
        (workspace / f"f{n:05}.txt").write_text("")

    lines = (await list_files(guard)).content.splitlines()

    assert len(lines) == LIST_CAP + 1
    assert lines[0] == "f00000.txt"
    assert lines[-1] == "… 25 more entries omitted; list a subdirectory to see them"


async def test_list_files_refuses_files_missing_paths_and_escapes(
    guard: PathGuard, workspace: Path, outside: Path
) -> None:
    (workspace / "a.txt").write_text("")
    (workspace / "out").symlink_to(outside, target_is_directory=True)

    with pytest.raises(ToolError, match=r"a.txt is a file"):
        await list_files(guard, "a.txt")
    with pytest.raises(ToolError, match="no such directory: nope"):
        await list_files(guard, "nope")
    with pytest.raises(ToolError, match="outside the workspace"):
        await list_files(guard, "out")
    with pytest.raises(ToolError, match="outside the workspace"):
        await list_files(guard, "..")


async def test_list_files_lists_but_never_descends_a_symlink_out(
    guard: PathGuard, workspace: Path, outside: Path
) -> None:
    (workspace / "out").symlink_to(outside, target_is_directory=True)

    result = await list_files(guard, recursive=True)

    assert result.content.splitlines() == ["out/"]


# hard links and races


async def test_a_hard_link_to_a_file_outside_is_refused(
    guard: PathGuard, workspace: Path, outside: Path
) -> None:
    os.link(outside / "secret.txt", workspace / "linked.txt")

    for attempt in (
        read_file(guard, "linked.txt"),
        write_file(guard, "linked.txt", "overwritten"),
        edit_file(guard, "linked.txt", "SENTINEL", "changed"),
    ):
        with pytest.raises(ToolError, match=r"^linked.txt has 2 hard links; .* allow_hard_links"):
            await attempt
    assert (await grep(guard, "SENTINEL")).content == "no matches for 'SENTINEL' in ."
    (workspace / "linked.txt").unlink()
    _assert_sentinel_untouched(outside)


async def test_a_project_may_allow_hard_links(workspace: Path) -> None:
    (workspace / "a.txt").write_text("shared\n")
    os.link(workspace / "a.txt", workspace / "b.txt")
    guard = PathGuard(workspace, allow_hard_links=True)

    await edit_file(guard, "b.txt", "shared", "edited")

    assert (await read_file(guard, "a.txt")).content == "    1\tedited\n"


async def test_a_directory_swapped_for_a_symlink_after_the_check_is_not_followed(
    guard: PathGuard, workspace: Path, outside: Path
) -> None:
    (workspace / "sub").mkdir()
    (workspace / "sub" / "secret.txt").write_text("inside")
    target = guard.resolve("sub/secret.txt")
    # The race: between the check and the open, `sub` becomes a link to a directory outside.
    (workspace / "sub").rename(workspace / "old")
    (workspace / "sub").symlink_to(outside, target_is_directory=True)

    with pytest.raises(ToolError, match=r"a parent of 'sub/secret\.txt' became a symlink"):
        guard.open_beneath(target, os.O_RDONLY)
    with pytest.raises(ToolError, match=r"a parent of 'sub/secret\.txt' became a symlink"):
        guard.open_beneath(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, make_parents=True)
    _assert_sentinel_untouched(outside)


async def test_a_file_swapped_for_a_symlink_after_the_check_is_not_followed(
    guard: PathGuard, workspace: Path, outside: Path
) -> None:
    (workspace / "notes.txt").write_text("mine")
    target = guard.resolve("notes.txt")
    (workspace / "notes.txt").unlink()
    (workspace / "notes.txt").symlink_to(outside / "secret.txt")

    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        guard.open_beneath(target, os.O_RDWR)
    _assert_sentinel_untouched(outside)


async def test_a_directory_swapped_for_a_symlink_mid_walk_is_not_entered(
    guard: PathGuard, workspace: Path, outside: Path
) -> None:
    (workspace / "sub").mkdir()
    (workspace / "sub" / "inside.txt").write_text("x")
    walker = walk(guard, guard.workspace, recursive=True)

    first = next(walker)
    assert (first.rel, first.is_dir) == ("sub", True)
    # Listed as a directory; before the walk descends into it, it becomes a link out.
    (workspace / "sub").rename(workspace / "was-sub")
    (workspace / "sub").symlink_to(outside, target_is_directory=True)

    assert [entry.rel for entry in walker] == []
    _assert_sentinel_untouched(outside)
