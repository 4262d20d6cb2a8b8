"""A model request cut into segments in prompt order, each with its exact bytes and a hash.

The request's canonical form is its segments' bytes end to end: the system message, the tool
schemas, then each conversation message, as compact JSON. A user message with attachments is cut
further: its text, then one segment per attachment part.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from boocode.autofix import AUTOFIX_MESSAGE
from boocode.contracts.cache import SegmentKind
from boocode.contracts.subagents import SUBAGENT_NOTIFICATION
from boocode.db.tables import Message


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Segment:
    kind: SegmentKind
    label: str
    body: bytes = field(repr=False)
    attachment_id: str | None = None

    @property
    def size(self) -> int:
        return len(self.body)

    @cached_property
    def hash(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:32]

    def record(self) -> dict[str, Any]:
        """What is stored per call (the body is stored once, by hash, elsewhere)."""
        return dict(self._record)

    @cached_property
    def _record(self) -> dict[str, Any]:
        # Built once: a run's segments go into each of its later calls' records.
        record = {
            "kind": self.kind.value,
            "label": self.label,
            "bytes": self.size,
            "hash": self.hash,
        }
        if self.attachment_id:
            record["attachment_id"] = self.attachment_id
        return record


def head_segments(system: dict[str, Any], tools: list[dict[str, Any]]) -> list[Segment]:
    return [
        Segment(SegmentKind.SYSTEM, "system prompt", dumps(system).encode()),
        Segment(SegmentKind.TOOLS, f"tool schemas ({len(tools)})", dumps(tools).encode()),
    ]


def message_segments(message: dict[str, Any], row: Message, turn: int) -> list[Segment]:
    """One segment per message; a user message's attachment parts each get their own."""
    kind = _kind(row, turn)
    label = _label(row)
    content = message.get("content")
    records = row.attachments or []
    if row.role != "user" or not records or not isinstance(content, list):
        return [Segment(kind, label, dumps(message).encode())]
    # dumps(message) == head + "," + part1 + … + "]}" with the keys in this order.
    pieces = ['{"role":"user","content":[' + dumps(content[0])]
    pieces += ["," + dumps(part) for part in content[1:]]
    pieces[-1] += "]}"
    segments = [Segment(kind, label, pieces[0].encode())]
    for piece, record in zip(pieces[1:], records, strict=True):
        what = "image" if record["kind"] == "image" else "file"
        segments.append(
            Segment(
                SegmentKind.ATTACHMENT,
                f"{what} {record['name']}",
                piece.encode(),
                attachment_id=record["id"],
            )
        )
    return segments


_NOTES = {AUTOFIX_MESSAGE: "auto-fix note", SUBAGENT_NOTIFICATION: "subagent notification"}
"""User-role messages the server injects for the model, by `tool_name`, and their labels."""


def _kind(row: Message, turn: int) -> SegmentKind:
    if row.role == "user" and row.tool_name in _NOTES:
        return SegmentKind.NOTE
    return SegmentKind.TURN if row.turn_number == turn else SegmentKind.HISTORY


def _label(row: Message) -> str:
    if row.role == "user" and row.tool_name in _NOTES:
        return f"{_NOTES[row.tool_name]} · turn {row.turn_number}"
    if row.role == "tool":
        return f"tool {row.tool_name} · turn {row.turn_number}"
    return f"{row.role} · turn {row.turn_number}"
