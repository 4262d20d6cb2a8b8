"""Turn status and its allowed transitions, in one place."""

from __future__ import annotations

from boocode.contracts.chats import TurnStatus

_ALLOWED: dict[TurnStatus, frozenset[TurnStatus]] = {
    TurnStatus.QUEUED: frozenset({TurnStatus.RUNNING, TurnStatus.CANCELLED, TurnStatus.FAILED}),
    TurnStatus.RUNNING: frozenset(
        {TurnStatus.SUCCEEDED, TurnStatus.FAILED, TurnStatus.CANCELLED, TurnStatus.RUNNING}
    ),
    TurnStatus.SUCCEEDED: frozenset(),
    TurnStatus.FAILED: frozenset(),
    TurnStatus.CANCELLED: frozenset(),
}

ACTIVE = frozenset({TurnStatus.QUEUED, TurnStatus.RUNNING})


class InvalidTransition(Exception):
    pass


def check_transition(current: TurnStatus, new: TurnStatus) -> None:
    """Raise unless a turn in `current` may move to `new` (RUNNING→RUNNING is a resume)."""
    if new not in _ALLOWED[current]:
        raise InvalidTransition(f"a {current.value} turn cannot become {new.value}")
