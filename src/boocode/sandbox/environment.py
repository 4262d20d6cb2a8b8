"""The environment a command gets: an allow-list, never the server's whole environment."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

LOCALE_NAMES = (
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_ADDRESS",
    "LC_COLLATE",
    "LC_CTYPE",
    "LC_IDENTIFICATION",
    "LC_MEASUREMENT",
    "LC_MESSAGES",
    "LC_MONETARY",
    "LC_NAME",
    "LC_NUMERIC",
    "LC_PAPER",
    "LC_TELEPHONE",
    "LC_TIME",
    "TZ",
)
TERMINAL_NAMES = ("TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "CLICOLOR", "COLUMNS", "LINES")
PASSED_NAMES = (*LOCALE_NAMES, *TERMINAL_NAMES)
"""Passed through when the server has them; exact names, no patterns."""
SERVER_OWN_PREFIX = "BOOCODE_"
SERVER_OWN_NAMES = ("DEEPSEEK_API_KEY",)
"""The server's own settings and keys: never passed, whoever lists them."""


def is_server_own(name: str) -> bool:
    return name.startswith(SERVER_OWN_PREFIX) or name in SERVER_OWN_NAMES


def child_environment(
    source: Mapping[str, str],
    *,
    path: str,
    home: str,
    extra_names: Iterable[str] = (),
    tmpdir: str | None = None,
) -> dict[str, str]:
    """PATH, HOME, locale and terminal variables, and the `extra_names` the settings list
    (never one of the server's own)."""
    names = (*PASSED_NAMES, *(name for name in extra_names if not is_server_own(name)))
    env = {name: source[name] for name in names if name in source}
    env["PATH"] = path
    env["HOME"] = home
    if tmpdir is not None:
        env["TMPDIR"] = tmpdir
    return env


def server_path() -> str:
    return os.environ.get("PATH", os.defpath)
