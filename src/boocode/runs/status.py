"""A run's status and its allowed transitions, in one place.

Transitions are idempotent: asking for the status a run already has is a no-op, so a step
re-run after a crash can repeat its transition safely. The same rule is applied in SQL by
`boocode.runs.store` (an UPDATE guarded by the statuses it may leave).
"""

from __future__ import annotations

from boocode.contracts.runs import RunStatus

_ALLOWED: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.CANCELLED, RunStatus.FAILED}),
    RunStatus.RUNNING: frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED}),
    RunStatus.SUCCEEDED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.CANCELLED: frozenset(),
}

ACTIVE = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})
FINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})

# What a run that BooCode itself broke shows: the cause (perhaps SQL with its parameters) is
# in the server log and the run's traces, never in the chat.
INTERNAL_ERROR = "internal error: the run stopped (see the server log)"


class InvalidTransition(Exception):
    pass


def sources_of(new: RunStatus) -> frozenset[RunStatus]:
    """The statuses a run may leave for `new` (not counting `new` itself)."""
    return frozenset(old for old, targets in _ALLOWED.items() if new in targets)


def check_transition(current: RunStatus, new: RunStatus) -> None:
    """Raise unless a run in `current` may move to `new`; staying put is always allowed."""
    if new is not current and new not in _ALLOWED[current]:
        raise InvalidTransition(f"a {current.value} run cannot become {new.value}")
