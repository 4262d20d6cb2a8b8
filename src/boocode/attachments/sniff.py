"""An upload's type, judged by its content (magic bytes), never by its name."""

from __future__ import annotations

from dataclasses import dataclass

from boocode.attachments.errors import AttachmentRejected
from boocode.contracts.attachments import AttachmentKind

_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
# Text files are sent as text/plain whatever their name; the name only chooses how it is shown.
_TEXT_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".json": "application/json",
    ".csv": "text/csv",
    ".log": "text/plain",
}
_UTF8_BOM = b"\xef\xbb\xbf"
SUPPORTED = "PNG, JPEG, GIF or WebP images and UTF-8 text files (code, logs, Markdown, JSON, CSV)"


@dataclass(frozen=True)
class Judged:
    kind: AttachmentKind
    media_type: str


def judge(data: bytes, name: str) -> Judged:
    """The kind and media type of `data`; refuses what is neither a known image nor UTF-8 text."""
    if not data:
        raise AttachmentRejected(f"{name} is empty")
    for signature, media_type in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return Judged(AttachmentKind.IMAGE, media_type)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Judged(AttachmentKind.IMAGE, "image/webp")
    if b"\x00" in data:
        raise AttachmentRejected(f"{name} is a binary file; BooCode accepts {SUPPORTED}")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise AttachmentRejected(
            f"{name} is not UTF-8 text nor a known image; BooCode accepts {SUPPORTED}"
        ) from None
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return Judged(AttachmentKind.TEXT, _TEXT_TYPES.get(suffix, "text/plain"))


def text_of(data: bytes) -> str:
    """A text attachment's text, without a byte-order mark."""
    return data.removeprefix(_UTF8_BOM).decode("utf-8")


def safe_name(filename: str | None) -> str:
    """The last component of an uploaded file name, printable, at most 200 characters."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(ch for ch in base if ch.isprintable()).strip().strip(".")
    return printable[:200] or "file"
