"""The one exception the provider layer raises, with a message fit to show a user."""

from __future__ import annotations

from typing import Literal

ProviderErrorKind = Literal[
    "auth",
    "unreachable",
    "rate_limit",
    "server",
    "bad_request",
    "timeout",
    "stalled",
    "incomplete",
    "malformed",
]

# A stream that stalled or was cut may well succeed when asked again.
RETRYABLE_KINDS: frozenset[ProviderErrorKind] = frozenset({"stalled", "incomplete"})


class ProviderError(Exception):
    """A model call failed; `str(error)` is a one-line message for the user, never a traceback."""

    def __init__(
        self, kind: ProviderErrorKind, message: str, status_code: int | None = None
    ) -> None:
        super().__init__(message)
        self.kind: ProviderErrorKind = kind
        self.message = message
        self.status_code = status_code

    def __reduce__(self) -> tuple[type[ProviderError], tuple[str, str, int | None]]:
        # Durable steps pickle exceptions; keep every field across the round trip.
        return (type(self), (self.kind, self.message, self.status_code))
