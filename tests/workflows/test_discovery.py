"""Workflows found by name: the project's, the user's (BooCode's and Claude Code's folders), then
the built-in catalog; a file that cannot run is listed with its error."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from boocode.contracts.workflows import WorkflowStart
from boocode.workflows import discovery, service
from boocode.workflows.discovery import (
    CATALOG_DIR,
    DefinitionSource,
    WorkflowEntry,
    WorkflowNotFound,
    discover,
    find,
)
from boocode.workflows.engine import EngineHost

BUILTIN_NAMES = ["deep-research", "fix-failing-tests", "multi-review"]


def write_workflow(folder: Path, name: str, description: str = "a test workflow") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.js"
    path.write_text(
        f"export const meta = {{ name: '{name}', description: '{description}' }}\nreturn 1\n"
    )
    return path


def by_name(entries: list[WorkflowEntry]) -> dict[str, WorkflowEntry]:
    return {entry.name: entry for entry in entries}


def test_the_builtin_catalog_is_there_with_nothing_else(tmp_path: Path) -> None:
    entries = discover(tmp_path / "workspace", tmp_path / "home")

    assert [entry.name for entry in entries] == BUILTIN_NAMES
    for entry in entries:
        assert entry.source == DefinitionSource.BUILTIN
        assert entry.error is None and entry.meta is not None and entry.meta.phases
        assert entry.path == CATALOG_DIR / f"{entry.name}.js"


def test_project_over_global_over_builtin_and_boocode_over_claude(tmp_path: Path) -> None:
    workspace, home = tmp_path / "workspace", tmp_path / "home"
    places = [
        workspace / ".boocode" / "workflows",
        workspace / ".claude" / "workflows",
        home / ".boocode" / "workflows",
        home / ".claude" / "workflows",
    ]
    paths = [write_workflow(folder, "deep-research") for folder in places]
    write_workflow(home / ".claude" / "workflows", "from-claude")

    entries = by_name(discover(workspace, home))

    research = entries["deep-research"]
    assert (research.path, research.source) == (paths[0], DefinitionSource.PROJECT)
    assert [(entry.path, entry.source) for entry in research.shadowed] == [
        (paths[1], DefinitionSource.PROJECT),
        (paths[2], DefinitionSource.GLOBAL),
        (paths[3], DefinitionSource.GLOBAL),
        (CATALOG_DIR / "deep-research.js", DefinitionSource.BUILTIN),
    ]
    assert entries["from-claude"].source == DefinitionSource.GLOBAL
    assert entries["multi-review"].shadowed == ()


def test_a_file_that_cannot_run_is_listed_with_its_error(tmp_path: Path) -> None:
    folder = tmp_path / "workspace" / ".boocode" / "workflows"
    write_workflow(folder, "My_Flow")
    write_workflow(folder, "renamed").write_text(
        "export const meta = { name: 'other', description: 'x' }\n"
    )
    (folder / "broken.js").write_text("export const meta = { name: 'broken', description: 'x' }\n}")
    (folder / "whale.js").write_text("export default async function main(args) { return args }\n")

    entries = by_name(discover(tmp_path / "workspace", tmp_path / "home"))

    assert entries["My_Flow"].error == (
        "My_Flow.js: a workflow's file name is its name in kebab-case, like deep-research.js"
    )
    assert entries["renamed"].error == "meta.name is 'other' but the file is renamed.js; rename one"
    assert entries["broken"].error == "syntax error at line 2, column 1: Unexpected token"
    assert all(entries[name].script is None for name in ("My_Flow", "renamed", "broken"))
    whale = entries["whale"]
    assert whale.error is None and whale.meta is None
    assert whale.script is not None and whale.script.name == "whale"


def test_find_gives_the_entry_of_highest_precedence_even_when_it_cannot_run(
    tmp_path: Path,
) -> None:
    workspace = tmp_path / "workspace"
    (workspace / ".claude" / "workflows").mkdir(parents=True)
    (workspace / ".claude" / "workflows" / "multi-review.js").write_text("return 1\n")

    entry = find(workspace, tmp_path / "home", "multi-review")

    assert entry.source == DefinitionSource.PROJECT
    assert entry.error is not None and entry.error.startswith("a workflow script begins with")
    assert [shadowed.source for shadowed in entry.shadowed] == [DefinitionSource.BUILTIN]
    assert find(workspace, tmp_path / "home", "deep-research").script is not None


def test_find_an_unknown_name_lists_the_workflows_there_are(tmp_path: Path) -> None:
    write_workflow(tmp_path / "home" / ".boocode" / "workflows", "mine")

    with pytest.raises(WorkflowNotFound) as raised:
        find(tmp_path / "workspace", tmp_path / "home", "deep-reserch")

    assert str(raised.value) == (
        "no workflow is named 'deep-reserch'; the workflows are: "
        "deep-research, fix-failing-tests, mine, multi-review"
    )


def test_a_project_workflow_linked_to_a_file_outside_is_not_read(tmp_path: Path) -> None:
    outside = write_workflow(tmp_path / "outside", "leak", "read through a link")
    folder = tmp_path / "workspace" / ".claude" / "workflows"
    folder.mkdir(parents=True)
    (folder / "leak.js").symlink_to(outside)
    write_workflow(tmp_path / "outside", "linked", "read through a hard link")
    (folder / "linked.js").hardlink_to(tmp_path / "outside" / "linked.js")

    entries = by_name(discover(tmp_path / "workspace", tmp_path / "home"))

    assert entries["leak"].script is None
    assert "cannot be read: path '.claude/workflows/leak.js' goes through a symlink" in str(
        entries["leak"].error
    )
    assert entries["linked"].script is None and "has 2 hard links" in str(entries["linked"].error)


async def test_a_workflow_swapped_for_a_link_after_its_check_runs_as_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Starting a workflow by name, and `workflow(name)` in a script, run the text discovery
    checked beneath the workspace: a command that swaps the file for a link to one outside
    between the check and the start leads the server nowhere."""
    workspace = tmp_path / "workspace"
    folder = workspace / ".boocode" / "workflows"
    write_workflow(folder, "tidy", "checked in the workspace")
    outside = write_workflow(tmp_path / "outside", "tidy", "SECRET outside the workspace")
    checked = discovery.find

    def find_then_swap(workspace: Path, home: Path, name: str) -> WorkflowEntry:
        entry = checked(workspace, home, name)
        entry.path.unlink()
        entry.path.symlink_to(outside)
        return entry

    monkeypatch.setattr(discovery, "find", find_then_swap)
    chat = SimpleNamespace(workspace=str(workspace))

    script, source = await service._source(chat, WorkflowStart(name="tidy"), tmp_path / "home")
    (folder / "tidy.js").unlink()  # the same race again, for `workflow(name)`
    write_workflow(folder, "tidy", "checked in the workspace")
    host = SimpleNamespace(chat=chat, _remember=lambda kind, text: None)
    inline = await EngineHost.load_workflow(host, "tidy")

    assert "checked in the workspace" in source and "SECRET" not in source
    for loaded in (script, inline):
        assert loaded.meta is not None and loaded.meta.description == "checked in the workspace"
