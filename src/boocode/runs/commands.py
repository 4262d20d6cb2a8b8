"""Commands while they run: recorded at spawn, so a crash cannot leave one running twice.

A tool step records the process group of the command it starts, and the command's result as
soon as it ends; its run forgets both when it ends. If the process running the step dies, the
record outlives it, and the step run again (after a restart, or on another worker) finds it:
a command that had ended gives its recorded result and is not run again; one that had not is
killed first — the pid and its start time must both match, so a reused pid is never hit — then
run again, and the model is told so.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from boocode.db.engine import Database
from boocode.db.tables import RunningCommand
from boocode.tools.result import ToolResult

RERUN_NOTE = (
    "[the previous attempt of this command was interrupted when its process stopped; "
    "it was killed and the command was run again]\n"
)
_HOST = socket.gethostname()[:255]
_GONE_WAIT_S = 5.0


def _proc_stat(pid: int) -> list[bytes] | None:
    """Fields 3 onwards of /proc/PID/stat (state, ppid, …), or None if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    return stat[stat.rindex(b")") + 2 :].split()


def process_start_time(pid: int) -> int | None:
    """The start time of `pid` in clock ticks since boot (field 22 of /proc/PID/stat)."""
    fields = _proc_stat(pid)
    return None if fields is None else int(fields[19])


class CommandRecords:
    """The `running_commands` rows of one tool step."""

    def __init__(self, db: Database, run_id: str, step_key: str) -> None:
        self._db = db
        self._run_id = run_id
        self._step_key = step_key

    async def started(self, pid: int) -> None:
        row = {
            "step_key": self._step_key,
            "run_id": self._run_id,
            "host": _HOST,
            "pid": pid,
            "proc_start": process_start_time(pid) or 0,
            "started_at": datetime.now(UTC),
        }

        def write(conn: Connection) -> None:
            conn.execute(delete(RunningCommand).where(RunningCommand.step_key == self._step_key))
            conn.execute(insert(RunningCommand), row)

        await self._db.transact(write)

    async def finished(self, result: ToolResult) -> None:
        """Keep the ended command's result: from here on the step never runs it again."""
        await self._db.transact(
            lambda conn: conn.execute(
                update(RunningCommand)
                .where(RunningCommand.step_key == self._step_key)
                .values(result=result.model_dump(mode="json"))
            )
        )

    async def leftover(self) -> Leftover:
        """What an earlier attempt of this step left: nothing, the result of a command that
        ended, or a command that did not end (killed now if it still runs)."""
        row = await self._db.read(
            lambda session: session.execute(
                _RECORD, {"record_step_key": self._step_key}
            ).scalar_one_or_none()
        )
        if row is None:
            return Leftover()
        if row.result is not None:
            return Leftover(result=ToolResult.model_validate(row.result))
        if row.host == _HOST and process_start_time(row.pid) == row.proc_start:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(row.pid, signal.SIGKILL)
            await _until_gone(row.pid, row.proc_start)
        await self._db.transact(
            lambda conn: conn.execute(
                delete(RunningCommand).where(RunningCommand.step_key == self._step_key)
            )
        )
        return Leftover(interrupted=True)


# Built once: constructing a statement costs more than SQLite takes to run it.
_RECORD = select(RunningCommand).where(RunningCommand.step_key == bindparam("record_step_key"))


@dataclass(frozen=True)
class Leftover:
    result: ToolResult | None = None
    interrupted: bool = False


def forget_run(conn: Connection, run_id: str) -> None:
    """The run ended: none of its steps runs again, so their records can go (in the caller's
    transaction)."""
    conn.execute(delete(RunningCommand).where(RunningCommand.run_id == run_id))


async def _until_gone(pid: int, proc_start: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _GONE_WAIT_S
    while process_start_time(pid) == proc_start and loop.time() < deadline:
        # A killed child of a dead parent is reaped by init; until then it shows as a zombie.
        if _is_zombie(pid):
            return
        await asyncio.sleep(0.01)


def _is_zombie(pid: int) -> bool:
    fields = _proc_stat(pid)
    return fields is None or fields[0] == b"Z"
