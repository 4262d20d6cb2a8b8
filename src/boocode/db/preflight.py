"""Storage checked before anything says it is running: one clear line for every fault.

A database that cannot be opened, is not a database, looks damaged, or cannot be migrated is
reported as a `StorageError` naming the file or URL, what is wrong and what to do. A
suspicious SQLite file is refused, never silently replaced by an empty one.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from boocode.config import Settings, redact_url
from boocode.db.engine import Database
from boocode.errors import StartupRefused

_SQLITE_HEADER = b"SQLite format 3\x00"


class StorageError(StartupRefused):
    """Storage BooCode cannot use, with what to do about it."""


def check_sqlite_file(path: Path) -> None:
    """Refuse a file that is not a SQLite database, or an empty one (a database BooCode made
    is never empty: a cut copy or a truncated file would otherwise start as a new, empty one).
    A missing file is fine: it is created."""
    folder = path.parent
    if folder.exists() and not os.access(folder, os.W_OK | os.X_OK):
        raise StorageError(f"cannot write to {folder}: check its permissions or BOOCODE_DATA_DIR")
    if not path.exists():
        return
    if path.is_dir():
        raise StorageError(f"{path} is a directory, not a database file")
    if path.stat().st_size == 0:
        wal = path.with_name(path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise StorageError(
                f"{path} is empty but its write-ahead log {wal.name} is not: the database looks "
                "damaged; restore it from a backup (or move both files away to start afresh)"
            )
        raise StorageError(
            f"{path} is empty, not a database: it may have been cut short; restore it from a "
            "backup, or delete it to start afresh"
        )
    with path.open("rb") as fh:
        header = fh.read(len(_SQLITE_HEADER))
    if header != _SQLITE_HEADER:
        raise StorageError(
            f"{path} is not a SQLite database; point BOOCODE_DATABASE_URL (or BOOCODE_DATA_DIR) "
            "elsewhere, or move the file away"
        )


async def open_database(settings: Settings) -> Database:
    """The migrated database of these settings, or a `StorageError` saying what is wrong."""
    url = settings.resolved_database_url
    for path in _sqlite_files(settings):
        check_sqlite_file(path)
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"cannot create the data dir {settings.data_dir}: {exc.strerror}"
        ) from None
    db = Database(url)
    try:
        await db.upgrade()
    except (OSError, SQLAlchemyError) as exc:
        await db.dispose()
        raise unusable(settings, exc) from None
    return db


def unusable(settings: Settings, exc: BaseException) -> StorageError:
    """The one line for a database that could not be opened or migrated, its URL redacted."""
    where = redact_url(settings.database_url or settings.resolved_database_url)
    return StorageError(f"cannot open or migrate the database at {where}: {_reason(exc)}")


def _sqlite_files(settings: Settings) -> list[Path]:
    files = []
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        files.append(Path(url.split(":///", 1)[1]))
    if not settings.is_postgres:
        files.append(settings.data_dir / "dbos.sqlite")
    return files


def _reason(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    text = " ".join(str(original).split())
    return text[:300] or type(original).__name__
