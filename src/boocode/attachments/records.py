"""An attachment as a message stores it (metadata only) and as the API shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from boocode.contracts.attachments import AttachmentKind, AttachmentOut
from boocode.db.tables import Attachment


def content_url(chat_id: str, attachment_id: str) -> str:
    return f"/api/chats/{chat_id}/attachments/{attachment_id}/content"


def message_record(row: Attachment) -> dict[str, Any]:
    """What a message keeps of an attachment: enough to show it and to send it, no bytes."""
    return {
        "id": row.id,
        "kind": row.kind,
        "name": row.name,
        "media_type": row.media_type,
        "size": row.size,
        "sha256": row.sha256,
        "model_sha256": row.model_sha256,
        "model_media_type": row.model_media_type,
        "width": row.width,
        "height": row.height,
        "created_at": row.created_at.isoformat(),
        "description": row.description,
        "described_by": row.described_by,
    }


def attachment_reference(chat_id: str, record: dict[str, Any]) -> dict[str, Any]:
    """An attachment named without its bytes, as a model call's trace keeps it."""
    return {
        "id": record["id"],
        "name": record["name"],
        "kind": record["kind"],
        "media_type": record["media_type"],
        "bytes": record["size"],
        "sha256": record["sha256"],
        "url": content_url(chat_id, record["id"]),
    }


def attachment_out(chat_id: str, record: dict[str, Any]) -> AttachmentOut:
    return AttachmentOut(
        id=record["id"],
        kind=AttachmentKind(record["kind"]),
        name=record["name"],
        media_type=record["media_type"],
        size=record["size"],
        sha256=record["sha256"],
        width=record.get("width"),
        height=record.get("height"),
        downscaled=record.get("model_sha256") is not None,
        url=content_url(chat_id, record["id"]),
        created_at=datetime.fromisoformat(record["created_at"]),
        description=record.get("description"),
        described_by=record.get("described_by"),
    )
