"""An image attachment as the data URL a model gets: built from stored bytes, so always the same."""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import Any

from boocode.attachments.store import BlobStore


def image_data_url(record: dict[str, Any], store: BlobStore) -> str:
    """The image as the model gets it (the downscaled copy if there is one), as a data URL."""
    digest = record.get("model_sha256") or record["sha256"]
    media_type = record.get("model_media_type") or record["media_type"]
    return _data_url(store.root, digest, media_type)


@lru_cache(maxsize=32)
def _data_url(root: Path, digest: str, media_type: str) -> str:
    encoded = base64.b64encode(BlobStore(root).read(digest)).decode("ascii")
    return f"data:{media_type};base64,{encoded}"
