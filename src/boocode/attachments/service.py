"""Uploading files to a chat, serving them back, and attaching them to a user message."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from boocode.attachments.data_url import image_data_url
from boocode.attachments.describe import ImageDescriber
from boocode.attachments.errors import (
    AttachmentNotFound,
    AttachmentRejected,
    AttachmentTooLarge,
)
from boocode.attachments.images import check_image
from boocode.attachments.records import attachment_out, message_record
from boocode.attachments.sniff import judge, safe_name
from boocode.attachments.store import BlobStore
from boocode.attachments.vision import accepts_images
from boocode.config import Settings
from boocode.contracts.attachments import AttachmentKind, AttachmentOut
from boocode.db.engine import Database
from boocode.db.tables import Attachment, Chat
from boocode.providers import ChatModel


@dataclass(frozen=True)
class StoredFile:
    row: Attachment
    data: bytes


class Attachments:
    """The attachments of every chat: rows in the database, bytes in the `BlobStore`."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.store = BlobStore(settings.attachment_store_dir)

    async def upload(self, chat_id: str, filename: str | None, data: bytes) -> AttachmentOut:
        """Store a file for the chat; the same file under the same name is stored once."""
        await self._chat(chat_id)
        name = safe_name(filename)
        limit = self.settings.attachment_max_bytes
        if len(data) > limit:
            raise AttachmentTooLarge(f"{name} is larger than {_size(limit)}, the limit per file")
        judged = judge(data, name)
        width = height = None
        model_bytes, model_media_type = None, None
        if judged.kind is AttachmentKind.IMAGE:
            checked = await asyncio.to_thread(
                check_image, data, judged.media_type, name, self.settings.attachment_image_max_side
            )
            width, height = checked.width, checked.height
            model_bytes, model_media_type = checked.model_bytes, checked.model_media_type
        digest = await asyncio.to_thread(self.store.put, data)
        async with self.db.session() as session, session.begin():
            existing = (
                await session.execute(
                    select(Attachment).where(
                        Attachment.chat_id == chat_id,
                        Attachment.sha256 == digest,
                        Attachment.name == name,
                    )
                )
            ).scalar_one_or_none()
            if existing is not None:
                return attachment_out(chat_id, message_record(existing))
            used = (
                await session.execute(
                    select(
                        func.coalesce(func.sum(Attachment.size + Attachment.model_size), 0)
                    ).where(Attachment.chat_id == chat_id)
                )
            ).scalar_one()
            added = len(data) + len(model_bytes or b"")
            if used + added > self.settings.attachment_chat_max_bytes:
                raise AttachmentTooLarge(
                    f"this chat's attachments would exceed "
                    f"{_size(self.settings.attachment_chat_max_bytes)}, the limit per chat"
                )
            model_digest = None
            if model_bytes is not None:
                model_digest = await asyncio.to_thread(self.store.put, model_bytes)
            row = Attachment(
                id=f"att_{uuid.uuid4().hex[:24]}",
                chat_id=chat_id,
                kind=judged.kind.value,
                media_type=judged.media_type,
                name=name,
                size=len(data),
                sha256=digest,
                model_sha256=model_digest,
                model_media_type=model_media_type,
                model_size=len(model_bytes) if model_bytes is not None else 0,
                width=width,
                height=height,
                created_at=datetime.now(UTC),
            )
            session.add(row)
        return attachment_out(chat_id, message_record(row))

    async def content(self, chat_id: str, attachment_id: str) -> StoredFile:
        """An attachment's original bytes."""
        async with self.db.session() as session:
            row = await session.get(Attachment, attachment_id)
        if row is None or row.chat_id != chat_id:
            raise AttachmentNotFound(f"attachment {attachment_id} does not exist in this chat")
        return StoredFile(row, await asyncio.to_thread(self.store.read, row.sha256))

    async def for_message(
        self, chat_id: str, ids: list[str], *, model_name: str, is_demo: bool
    ) -> list[dict[str, Any]]:
        """The records a new user message keeps of its attachments, in the order given.

        Refused before anything is stored or sent: unknown ids, too many or too large files,
        and images for a model that cannot see them.
        """
        if not ids:
            return []
        if len(ids) > self.settings.attachments_per_message:
            raise AttachmentTooLarge(
                f"{len(ids)} attachments; at most {self.settings.attachments_per_message} "
                "per message"
            )
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(Attachment).where(Attachment.chat_id == chat_id, Attachment.id.in_(ids))
                )
            ).scalars()
            found = {row.id: row for row in rows}
        missing = [attachment_id for attachment_id in ids if attachment_id not in found]
        if missing:
            raise AttachmentRejected(
                f"attachment {missing[0]} does not exist in this chat; upload it first"
            )
        ordered = [found[attachment_id] for attachment_id in ids]
        total = sum(row.model_size or row.size for row in ordered)
        if total > self.settings.attachment_message_max_bytes:
            raise AttachmentTooLarge(
                f"the attachments add up to {_size(total)}; at most "
                f"{_size(self.settings.attachment_message_max_bytes)} per message"
            )
        images = [row for row in ordered if row.kind == AttachmentKind.IMAGE]
        if images and not accepts_images(
            model_name, is_demo=is_demo, configured=self.settings.vision_models
        ):
            describer = ImageDescriber.from_settings(self.settings)
            if describer is None:
                raise AttachmentRejected(
                    f"the model {model_name} cannot see images "
                    f"({', '.join(row.name for row in images)}); nothing was sent. Use a vision "
                    "model (BOOCODE_MODEL, BOOCODE_VISION_MODELS) or remove them"
                )
            try:
                await self._describe(images, describer)
            finally:
                await describer.aclose()
        return [message_record(row) for row in ordered]

    async def _describe(self, rows: list[Attachment], describer: ImageDescriber) -> None:
        """Describe each image once; the description is kept, so re-sends are identical."""
        for row in rows:
            if row.description is not None:
                continue
            url = await asyncio.to_thread(image_data_url, message_record(row), self.store)
            description = await describer.describe(row.name, url)
            async with self.db.session() as session, session.begin():
                stored = await session.get(Attachment, row.id)
                if stored is not None and stored.description is None:
                    stored.description, stored.described_by = description, describer.name
                    row.description, row.described_by = description, describer.name
                elif stored is not None:
                    row.description, row.described_by = stored.description, stored.described_by

    async def _chat(self, chat_id: str) -> Chat:
        async with self.db.session() as session:
            chat = await session.get(Chat, chat_id)
        if chat is None:
            raise AttachmentNotFound(f"chat {chat_id} does not exist")
        return chat


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    value, unit = (n / 1024, "KiB") if n < 1024 * 1024 else (n / 1024 / 1024, "MiB")
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


async def message_attachments(
    db: Database, settings: Settings, model: ChatModel, chat_id: str, ids: list[str]
) -> list[dict[str, Any]] | None:
    """What a new user message stores of its attachments (None without any); see `for_message`."""
    records = await Attachments(db, settings).for_message(
        chat_id, ids, model_name=model.name, is_demo=model.is_demo
    )
    return records or None


async def upload_paths(
    db: Database, settings: Settings, chat_id: str, paths: Sequence[Path]
) -> list[str]:
    """Upload local files (`boocode run --attach`) to the chat; returns their ids in order."""
    attachments = Attachments(db, settings)
    ids = []
    for path in paths:
        try:
            if path.stat().st_size > settings.attachment_max_bytes:
                raise AttachmentTooLarge(
                    f"{path} is larger than {_size(settings.attachment_max_bytes)}, "
                    "the limit per file"
                )
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise AttachmentRejected(f"cannot read {path}: {exc.strerror or exc}") from None
        ids.append((await attachments.upload(chat_id, path.name, data)).id)
    return ids
