"""Attachments: upload, content-addressed storage, and the parts a model is sent."""

from __future__ import annotations

from boocode.attachments.errors import (
    AttachmentError,
    AttachmentNotFound,
    AttachmentRejected,
    AttachmentTooLarge,
)
from boocode.attachments.service import (
    Attachments,
    StoredFile,
    message_attachments,
    upload_paths,
)

__all__ = [
    "AttachmentError",
    "AttachmentNotFound",
    "AttachmentRejected",
    "AttachmentTooLarge",
    "Attachments",
    "StoredFile",
    "message_attachments",
    "upload_paths",
]
