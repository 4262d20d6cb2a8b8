"""Attachments as model input: images as `image_url` data URLs, text files as named text parts.

The parts are built from stored, never-changing bytes, so a message's parts are byte-identical
every time the conversation is sent again and the provider's cached prefix survives.
"""

from __future__ import annotations

import re
from typing import Any

from boocode.agent.history import to_provider_message
from boocode.attachments.data_url import image_data_url
from boocode.attachments.sniff import text_of
from boocode.attachments.store import BlobStore
from boocode.contracts.attachments import AttachmentKind
from boocode.db.tables import Message


def provider_message(row: Message, store: BlobStore, *, images: bool) -> dict[str, Any]:
    """A stored message as the model gets it, its attachments turned into parts."""
    if row.role == "user" and row.attachments:
        content = user_content(row.content, row.attachments, store, images=images)
        return {"role": "user", "content": content}
    return to_provider_message(row)


def user_content(
    text: str, records: list[dict[str, Any]], store: BlobStore, *, images: bool
) -> Any:
    """A user message's content: its text alone, or the text then one part per attachment.

    With `images` false (a model that cannot see them) an image becomes a short text part
    saying it was left out.
    """
    if not records:
        return text
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    parts += [attachment_part(record, store, images=images) for record in records]
    return parts


def attachment_part(record: dict[str, Any], store: BlobStore, *, images: bool) -> dict[str, Any]:
    name = record["name"]
    if record["kind"] == AttachmentKind.TEXT:
        text = _CLOSING_TAG.sub("&lt;/", text_of(store.read(record["sha256"])))
        end = "" if text.endswith("\n") else "\n"
        return {"type": "text", "text": f'<file name="{_quoted(name)}">\n{text}{end}</file>'}
    if not images:
        if record.get("description"):
            header = f"[image {name}, described by {record['described_by']}]"
            return {"type": "text", "text": f"{header}\n{record['description']}"}
        return {"type": "text", "text": f"[image {name} left out: this model cannot see images]"}
    return {"type": "image_url", "image_url": {"url": image_data_url(record, store)}}


# A `</file` inside the file would end its part early: it is sent as `&lt;/file`.
_CLOSING_TAG = re.compile(r"</(?=file)", re.IGNORECASE)


def _quoted(name: str) -> str:
    return name.replace("&", "&amp;").replace('"', "&quot;")
