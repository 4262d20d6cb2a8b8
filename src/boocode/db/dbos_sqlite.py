"""DBOS's own SQLite file, committed the way BooCode commits its own: `synchronous=NORMAL`,
and written from the event loop's thread, as BooCode's own file is.

The file is in WAL mode (set at start); with WAL, NORMAL loses nothing to a process crash and
keeps the file consistent through a power failure: see docs/decisions/0070.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from dbos import _dbos as dbos_module

log = logging.getLogger(__name__)
T = TypeVar("T")


class _NormalSyncConnection(sqlite3.Connection):
    """A connection that commits without an fsync; WAL keeps it consistent and crash-safe."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA synchronous=NORMAL")


def engine_kwargs() -> dict[str, Any]:
    """DBOS's `db_engine_kwargs` for a SQLite system database: every connection at NORMAL, and
    no `SELECT 1` before each transaction (DBOS pings pooled connections, for a server that
    may have dropped them; a file's connection cannot go stale)."""
    return {"connect_args": {"factory": _NormalSyncConnection}, "pool_pre_ping": False}


# DBOS's bookkeeping around a step or a workflow, by the names DBOS gives it: each is a short
# transaction on this file. Anything else given to DBOS's executor (a tool's blocking
# call, a synchronous workflow) still runs on its threads.
_BOOKKEEPING = frozenset(
    {
        "invoke_step.<locals>.check_existing_result",
        "invoke_step.<locals>.record_step_result",
        "Pending.then.<locals>.<lambda>.<locals>.<lambda>",  # hands over the recorder
        "_get_wf_invoke_func.<locals>.persist",
        "_init_workflow",  # a workflow's status row, when it starts
    }
)


class _InlineBookkeeping(ThreadPoolExecutor):
    """DBOS's executor, except that its bookkeeping runs on the calling thread.

    An async step costs DBOS three `asyncio.to_thread` calls (look up a recorded result, take
    the recorder, record the result), each well under a millisecond of SQLite work; the hand-off
    to a thread and back costs more, and under load every hand-off also keeps the event loop
    waiting for the GIL behind the thread.
    """

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        super().__init__(max_workers=1)  # submit() is overridden: this pool starts no thread
        self.executor = executor

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        if _bookkeeping(fn):
            done: Future[T] = Future()
            try:
                done.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to the awaiting coroutine, as a thread would
                done.set_exception(exc)
            return done
        return self.executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.executor.shutdown(wait=wait, cancel_futures=cancel_futures)


def _bookkeeping(fn: Callable[..., Any]) -> bool:
    # asyncio.to_thread submits functools.partial(context.run, func, *args).
    if isinstance(fn, functools.partial) and fn.args:
        fn = fn.args[0]
    return getattr(fn, "__qualname__", None) in _BOOKKEEPING


def run_bookkeeping_inline() -> bool:
    """Once DBOS has launched on a SQLite system database: run its bookkeeping on the thread
    that asks for it. False (and nothing changed) if this DBOS is not built as expected."""
    instance = getattr(dbos_module, "_dbos_global_instance", None)
    executor = getattr(instance, "_executor_field", None)
    if instance is None or not isinstance(executor, ThreadPoolExecutor):
        log.warning("DBOS's bookkeeping stays on its threads: its executor was not found")
        return False
    if not isinstance(executor, _InlineBookkeeping):
        instance._executor_field = _InlineBookkeeping(executor)
    return True
