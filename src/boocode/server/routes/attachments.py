"""Attachments: upload a file to a chat (multipart), and fetch its bytes back."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from boocode.agent import runtime
from boocode.attachments import Attachments, AttachmentTooLarge
from boocode.contracts.attachments import AttachmentKind, AttachmentOut
from boocode.contracts.chats import ErrorBody

router = APIRouter(tags=["attachments"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 404, 411, 413, 422)
}
# Room for the multipart framing around the file itself.
_MULTIPART_OVERHEAD = 64 * 1024


@router.post(
    "/api/chats/{chat_id}/attachments",
    status_code=status.HTTP_201_CREATED,
    responses=_ERRORS,
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "additionalProperties": False,
                    }
                }
            }
        }
    },
)
async def upload_attachment(chat_id: str, request: Request) -> AttachmentOut:
    """Store one file (form field `file`); its type is judged by its content, not its name."""
    attachments = Attachments(runtime.current().db, runtime.current().settings)
    limit = attachments.settings.attachment_max_bytes
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit():
        raise HTTPException(
            status.HTTP_411_LENGTH_REQUIRED, "send the file as multipart/form-data with a length"
        )
    if int(declared) > limit + _MULTIPART_OVERHEAD:
        raise AttachmentTooLarge(f"the upload is larger than {limit} bytes, the limit per file")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            "send the file as multipart/form-data in a field named `file`",
        )
    async with request.form(max_files=1, max_fields=8) as form:
        if extra := sorted(set(form.keys()) - {"file"}):
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_ENTITY,
                f"the form has fields other than `file`: {', '.join(extra)[:200]}",
            )
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_ENTITY, "the form has no file in a field named `file`"
            )
        data = await upload.read(limit + 1)
        return await attachments.upload(chat_id, upload.filename, data)


@router.get(
    "/api/chats/{chat_id}/attachments/{attachment_id}/content",
    responses={404: {"model": ErrorBody}},
    response_class=Response,
)
async def attachment_content(chat_id: str, attachment_id: str) -> Response:
    """The original bytes; text is always served as plain text, so nothing in it runs."""
    attachments = Attachments(runtime.current().db, runtime.current().settings)
    stored = await attachments.content(chat_id, attachment_id)
    row = stored.row
    is_image = row.kind == AttachmentKind.IMAGE
    media_type = row.media_type if is_image else "text/plain; charset=utf-8"
    return Response(
        stored.data,
        media_type=media_type,
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{_rfc5987(row.name)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=31536000, immutable",
        },
    )


def _rfc5987(name: str) -> str:
    return quote(name, safe="")
