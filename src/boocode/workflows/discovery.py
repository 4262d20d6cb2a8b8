"""Finding workflows by name: the project's, the user's, then the built-in catalog."""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from boocode.tools.textfile import read_beneath
from boocode.workflows.script import Script, ScriptError, ScriptMeta, load_script

CATALOG_DIR = Path(__file__).with_name("catalog")
_KEBAB_CASE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class DefinitionSource(StrEnum):
    """Where a workflow or agent definition was found, in order of precedence."""

    PROJECT = "project"
    GLOBAL = "global"
    BUILTIN = "builtin"


class WorkflowEntry(BaseModel):
    """One workflow file: its checked script, or the one-line error that keeps it from running."""

    model_config = ConfigDict(frozen=True)

    name: str
    path: Path
    source: DefinitionSource
    script: Script | None = Field(default=None, repr=False)
    text: str | None = Field(default=None, repr=False)
    """The file's text as it was read and checked: what runs, for the file is never read again
    by name (a command may have swapped it for a link since)."""
    error: str | None = None
    shadowed: tuple[WorkflowEntry, ...] = ()
    """Files of the same name that this one hides, highest precedence first."""

    @property
    def meta(self) -> ScriptMeta | None:
        return self.script.meta if self.script is not None else None


class WorkflowNotFound(LookupError):
    """No workflow file has the name asked for; the message lists the names there are."""


def discover(workspace: Path, home: Path) -> list[WorkflowEntry]:
    """Every workflow by name (sorted), each the file of highest precedence with the others it
    shadows; a file that cannot run is listed with its error, never hidden."""
    by_name: dict[str, list[tuple[DefinitionSource, Path]]] = {}
    for source, path in _candidates(workspace, home):
        by_name.setdefault(path.stem, []).append((source, path))
    return [_entry(by_name[name], workspace) for name in sorted(by_name)]


def find(workspace: Path, home: Path, name: str) -> WorkflowEntry:
    """The workflow called `name` (check its `error` before running it)."""
    found = [(source, path) for source, path in _candidates(workspace, home) if path.stem == name]
    if not found:
        names = sorted({path.stem for _, path in _candidates(workspace, home)})
        available = ", ".join(names) if names else "none"
        raise WorkflowNotFound(f"no workflow is named {name!r}; the workflows are: {available}")
    return _entry(found, workspace)


def definition_files(
    workspace: Path, home: Path, kind: str, pattern: str
) -> Iterator[tuple[DefinitionSource, Path]]:
    """The files matching `pattern` in each `.boocode/<kind>` and `.claude/<kind>` folder, in
    order of precedence: the project's before the user's, BooCode's folder before Claude Code's."""
    for source, root in ((DefinitionSource.PROJECT, workspace), (DefinitionSource.GLOBAL, home)):
        for folder in (root / ".boocode" / kind, root / ".claude" / kind):
            yield from ((source, path) for path in _files_in(folder, pattern))


def definition_text(source: DefinitionSource, path: Path, workspace: Path) -> str:
    """A definition file's text; the project's are read beneath the workspace (a command may
    have made one a link to a file outside it). Raises OSError or UnicodeDecodeError."""
    if source is DefinitionSource.PROJECT:
        return read_beneath(workspace, path)
    return path.read_text(encoding="utf-8")


def _candidates(workspace: Path, home: Path) -> Iterator[tuple[DefinitionSource, Path]]:
    """Every workflow file, in order of precedence."""
    yield from definition_files(workspace, home, "workflows", "*.js")
    yield from ((DefinitionSource.BUILTIN, path) for path in _files_in(CATALOG_DIR, "*.js"))


def _files_in(folder: Path, pattern: str) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.glob(pattern) if path.is_file())


def _entry(same_name: list[tuple[DefinitionSource, Path]], workspace: Path) -> WorkflowEntry:
    (source, path), *others = same_name
    entry = _loaded(source, path, workspace)
    shadowed = tuple(_loaded(*other, workspace) for other in others)
    return entry.model_copy(update={"shadowed": shadowed})


def _loaded(source: DefinitionSource, path: Path, workspace: Path) -> WorkflowEntry:
    name = path.stem
    try:
        text, script = _load(source, path, workspace)
    except ScriptError as error:
        return WorkflowEntry(name=name, path=path, source=source, error=str(error))
    return WorkflowEntry(name=name, path=path, source=source, script=script, text=text)


def _load(source: DefinitionSource, path: Path, workspace: Path) -> tuple[str, Script]:
    name = path.stem
    if not _KEBAB_CASE.fullmatch(name):
        raise ScriptError(
            f"{path.name}: a workflow's file name is its name in kebab-case, like deep-research.js"
        )
    try:
        text = definition_text(source, path, workspace)
    except (OSError, UnicodeDecodeError) as error:
        raise ScriptError(f"{path.name} cannot be read: {error}") from None
    script = load_script(text, name=name)
    if script.name != name:
        raise ScriptError(f"meta.name is {script.name!r} but the file is {path.name}; rename one")
    return text, script
