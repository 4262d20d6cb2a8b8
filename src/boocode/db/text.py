"""Text that every engine can store: PostgreSQL text holds no NUL and no lone surrogate.

A NUL becomes a visible `␀` (U+2400) and a lone surrogate `�` (U+FFFD), on SQLite as on
PostgreSQL, so a chat reads the same on both and a command printing `a\\0b` cannot fail a turn.
"""

from __future__ import annotations

import re
from typing import Any

NUL_MARK = "\u2400"
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", NUL_MARK)
    if text.isascii():
        return text
    return _SURROGATE.sub("\ufffd", text)


def storable_json(value: Any) -> Any:
    """`value` with every string in it (keys too) made storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(str(key)): storable_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(item) for item in value]
    return value
