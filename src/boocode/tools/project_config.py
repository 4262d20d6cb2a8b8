"""The project's settings file, `<workspace>/.boocode/config.toml`, read like the file tools read.

A command may have written it (or replaced it with a link), so the server reads it through
`read_beneath`: a symlink leading outside the workspace or a file with several hard links is
refused, never followed to a file outside.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from boocode.tools.textfile import read_beneath

CONFIG_PATH = Path(".boocode") / "config.toml"


def read_project_config(workspace: Path) -> dict[str, Any]:
    """The parsed file, or an empty table when there is none.

    Raises PermissionError for a link that leads outside (or a hard link), another OSError
    when it cannot be read, UnicodeDecodeError or tomllib.TOMLDecodeError when it is not TOML.
    """
    path = workspace / CONFIG_PATH
    if not path.is_file():
        return {}
    return tomllib.loads(read_beneath(workspace, path))


def project_table(workspace: Path, name: str) -> Any:
    """The `[name]` table of the file, `{}` when absent; None when the file is unreadable, a
    link that leads outside, or not TOML (for settings that fall back to their defaults)."""
    try:
        return read_project_config(workspace).get(name, {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
