"""DBOS's own SQLite file, committed the way BooCode commits its own: `synchronous=NORMAL`.

The file is in WAL mode (set at start); with WAL, NORMAL loses nothing to a process crash and
keeps the file consistent through a power failure: see docs/decisions/0070.
"""

from __future__ import annotations

import sqlite3
from typing import Any


class _NormalSyncConnection(sqlite3.Connection):
    """A connection that commits without an fsync; WAL keeps it consistent and crash-safe."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA synchronous=NORMAL")


def engine_kwargs() -> dict[str, Any]:
    """DBOS's `db_engine_kwargs` for a SQLite system database: every connection at NORMAL."""
    return {"connect_args": {"factory": _NormalSyncConnection}}
