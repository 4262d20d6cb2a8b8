"""What an upload or a message's attachments can be refused for; each maps to a 4xx."""

from __future__ import annotations


class AttachmentError(Exception):
    """A refusal with a message fit to show the user; `status_code` is its HTTP status."""

    status_code = 422


class AttachmentTooLarge(AttachmentError):
    status_code = 413


class AttachmentRejected(AttachmentError):
    status_code = 422


class AttachmentNotFound(AttachmentError):
    status_code = 404


class DescriberFailed(AttachmentError):
    """The vision model that describes images for a text-only model did not answer."""

    status_code = 502
