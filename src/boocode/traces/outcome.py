"""How a call ends: a trace is `running` until it gets exactly one final outcome."""

from __future__ import annotations

from boocode.contracts.traces import TraceOutcome

FINAL = frozenset(TraceOutcome) - {TraceOutcome.RUNNING}


class InvalidOutcome(ValueError):
    pass


def check_finish(current: TraceOutcome, new: TraceOutcome) -> None:
    """Raise unless a call in `current` may end with `new`: only a running call ends, once."""
    if current is not TraceOutcome.RUNNING:
        raise InvalidOutcome(f"trace already ended as {current.value}")
    if new not in FINAL:
        raise InvalidOutcome(f"{new.value} is not how a call ends")
