"""Who this process is to DBOS: a stable executor id, held by a lock while the process lives.

Each engine process (`serve`, `worker`, `run`) claims the first free slot of its role —
`serve-0`, `worker-0`, `worker-1`, `run-0`, … — and holds that slot's lock until it exits. DBOS
resumes, at launch, the pending runs of the executor id it is given, so a process only ever
resumes the work of a dead process of its own role that held the same slot, never a live one's.
A slot whose lock nobody holds belongs to a dead process: any engine process may then recover
its pending runs (`boocode.runs.recovery`).

On SQLite the locks are `flock`s on files in the data dir (one machine); on PostgreSQL they
are session advisory locks, so workers on several machines see each other.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import zlib
from pathlib import Path
from typing import Any, Protocol

from boocode.config import Settings
from boocode.errors import StartupRefused

_MAX_SLOTS = 64
# The first key of every advisory lock BooCode takes ("boo").
_LOCK_CLASS = 0x626F6F


class ExecutorBusy(StartupRefused):
    """The executor id asked for is held by a live process."""


class _Locks(Protocol):
    def try_hold(self, name: str) -> bool: ...
    def held_elsewhere(self, name: str) -> bool: ...
    def holder(self, name: str) -> str: ...
    def close(self) -> None: ...


class _FileLocks:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._folder = folder
        self._held: dict[str, int] = {}

    def _path(self, name: str) -> Path:
        return self._folder / f"{name}.lock"

    def try_hold(self, name: str) -> bool:
        fd = os.open(self._path(name), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._held[name] = fd
        return True

    def held_elsewhere(self, name: str) -> bool:
        if name in self._held:
            return False
        path = self._path(name)
        if not path.exists():
            return False
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops a lock taken just to look
        return False

    def holder(self, name: str) -> str:
        with contextlib.suppress(OSError):
            return f"pid {self._path(name).read_text().strip()}"
        return "another process"

    def close(self) -> None:
        for fd in self._held.values():
            os.close(fd)
        self._held.clear()


class _AdvisoryLocks:
    def __init__(self, url: str) -> None:
        import psycopg

        self._conn: Any = psycopg.connect(url, autocommit=True)
        self._held: set[str] = set()

    def try_hold(self, name: str) -> bool:
        got = self._conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", (_LOCK_CLASS, _key(name))
        ).fetchone()[0]
        if got:
            self._held.add(name)
        return bool(got)

    def held_elsewhere(self, name: str) -> bool:
        if name in self._held:
            return False
        if not self.try_hold(name):
            return True
        self._held.discard(name)
        self._conn.execute("SELECT pg_advisory_unlock(%s, %s)", (_LOCK_CLASS, _key(name)))
        return False

    def holder(self, name: str) -> str:
        return "another process"

    def close(self) -> None:
        self._conn.close()


def _key(name: str) -> int:
    value = zlib.crc32(name.encode())
    return value - (1 << 32) if value >= (1 << 31) else value


class ExecutorLease:
    """This process's executor id and the lock that proves it is alive."""

    def __init__(self, executor_id: str, locks: _Locks) -> None:
        self.executor_id = executor_id
        self._locks = locks

    def is_alive(self, executor_id: str) -> bool:
        """Whether a live process holds `executor_id` (this one counts as alive)."""
        return executor_id == self.executor_id or self._locks.held_elsewhere(executor_id)

    def release(self) -> None:
        self._locks.close()


def claim(settings: Settings, role: str) -> ExecutorLease:
    """Take this process's executor id: `settings.executor_id` if set, else a free slot."""
    locks: _Locks
    if settings.is_postgres:
        locks = _advisory_locks(settings)
    else:
        locks = _FileLocks(settings.data_dir / "executors")
    try:
        return ExecutorLease(_take(settings, role, locks), locks)
    except BaseException:
        locks.close()
        raise


def _advisory_locks(settings: Settings) -> _AdvisoryLocks:
    """The lock connection, or the storage check's one line if the database cannot be reached
    (this is the first thing a process connects to)."""
    import psycopg

    from boocode.db.preflight import unusable

    try:
        return _AdvisoryLocks(settings.dbos_system_database_url)
    except psycopg.Error as exc:
        raise unusable(settings, exc) from None


def _take(settings: Settings, role: str, locks: _Locks) -> str:
    if settings.executor_id:
        if not locks.try_hold(settings.executor_id):
            raise ExecutorBusy(
                f"executor id {settings.executor_id!r} is in use by "
                f"{locks.holder(settings.executor_id)}; give this process another one"
            )
        return settings.executor_id
    # One server per SQLite data dir: two would both serve the same chats from one file.
    slots = 1 if role == "serve" and not settings.is_postgres else _MAX_SLOTS
    for slot in range(slots):
        if locks.try_hold(f"{role}-{slot}"):
            return f"{role}-{slot}"
    if slots == 1:
        raise ExecutorBusy(
            f"another boocode serve ({locks.holder(f'{role}-0')}) is already using the data dir "
            f"{settings.data_dir}; stop it first, or use `boocode run` beside it"
        )
    raise ExecutorBusy(f"all {slots} {role} slots are taken by live processes")
