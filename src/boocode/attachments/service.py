"""Uploading files to a chat, serving them back, and attaching them to a user message."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select

from boocode.attachments.data_url import data_url_size, image_data_url
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
from boocode.db.tables import Attachment, Chat, Message
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
        staged = [await asyncio.to_thread(self.store.stage, data)]
        if model_bytes is not None:
            staged.append(await asyncio.to_thread(self.store.stage, model_bytes))
        new = Attachment(
            id=f"att_{uuid.uuid4().hex[:24]}",
            chat_id=chat_id,
            kind=judged.kind.value,
            media_type=judged.media_type,
            name=name,
            size=len(data),
            sha256=staged[0].digest,
            model_sha256=staged[1].digest if model_bytes is not None else None,
            model_media_type=model_media_type,
            model_size=len(model_bytes) if model_bytes is not None else 0,
            width=width,
            height=height,
            created_at=datetime.now(UTC),
        )
        limit = self.settings.attachment_chat_max_bytes

        def record(conn: Connection) -> Attachment:
            """Check the chat's total and add the file in one transaction, one upload at a time
            per chat: the chat's row is locked (PostgreSQL; SQLite's writes run one at a time)."""
            conn.execute(select(Chat.id).where(Chat.id == chat_id).with_for_update())
            existing = conn.execute(
                select(Attachment.__table__).where(
                    Attachment.chat_id == chat_id,
                    Attachment.sha256 == new.sha256,
                    Attachment.name == name,
                )
            ).first()
            if existing is not None:
                return Attachment(**existing._mapping)
            used = conn.execute(
                select(func.coalesce(func.sum(Attachment.size + Attachment.model_size), 0)).where(
                    Attachment.chat_id == chat_id
                )
            ).scalar_one()
            if used + new.size + new.model_size > limit:
                raise AttachmentTooLarge(
                    f"this chat's attachments would exceed {_size(limit)}, the limit per chat"
                )
            for blob in staged:
                self.store.keep(blob)
            conn.execute(insert(Attachment).values(_columns(new)))
            return new

        try:
            row = await self.db.transact(record)
        finally:  # refused, or already stored: nothing is left behind
            for blob in staged:
                self.store.discard(blob)
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
        sees_images = accepts_images(
            model_name, is_demo=is_demo, configured=self.settings.vision_models
        )
        await self._check_request_budget(chat_id, ordered, sees_images=sees_images)
        images = [row for row in ordered if row.kind == AttachmentKind.IMAGE]
        if images and not sees_images:
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

    async def _check_request_budget(
        self, chat_id: str, new: list[Attachment], *, sees_images: bool
    ) -> None:
        """Every request of a chat carries all its attachments again: refuse a message whose
        files would make the chat's next request carry more than the budget."""
        budget = self.settings.attachment_request_max_bytes
        async with self.db.session() as session:
            branch = select(Chat.branch_id).where(Chat.id == chat_id).scalar_subquery()
            query = select(Message.attachments).where(
                Message.chat_id == chat_id, Message.branch_id == branch, Message.role == "user"
            )
            held: list[list[dict[str, Any]] | None] = list((await session.execute(query)).scalars())
            earlier_ids = [record["id"] for records in held for record in records or []]
            rows = (
                await session.execute(select(Attachment).where(Attachment.id.in_(set(earlier_ids))))
            ).scalars()
            found = {row.id: row for row in rows}
        earlier = sum(
            _request_bytes(found[i], sees_images=sees_images) for i in earlier_ids if i in found
        )
        added = sum(_request_bytes(row, sees_images=sees_images) for row in new)
        if earlier + added > budget:
            raise AttachmentTooLarge(
                f"with these files this chat's requests would carry {_size(earlier + added)} of "
                f"attachments ({_size(earlier)} from earlier messages, which every request sends "
                f"again); at most {_size(budget)} per request. Send fewer or smaller files, or "
                "start a new chat"
            )

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


def _request_bytes(row: Attachment, *, sees_images: bool) -> int:
    """What an attachment takes in a request: an image as a data URL (its downscaled copy if
    there is one), a text file as its text; an image for a model that cannot see it, its short
    description (not counted)."""
    if row.kind != AttachmentKind.IMAGE:
        return row.size
    if not sees_images:
        return 0
    if row.model_sha256 is not None:
        return data_url_size(row.model_media_type or row.media_type, row.model_size)
    return data_url_size(row.media_type, row.size)


def _columns(row: Attachment) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in Attachment.__table__.columns}


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
