"""An image attachment as the data URL a model gets: built from stored bytes, so always the same.

Every request of a chat carries all its images again, so their data URLs are kept in memory,
bounded by bytes (a few large images, or many small ones), least recently used out first.
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from boocode.attachments.store import BlobStore

CACHE_MAX_BYTES = 64 * 1024 * 1024


def image_data_url(record: dict[str, Any], store: BlobStore) -> str:
    """The image as the model gets it (the downscaled copy if there is one), as a data URL."""
    digest = record.get("model_sha256") or record["sha256"]
    media_type = record.get("model_media_type") or record["media_type"]
    key = (store.root, digest, media_type)
    if (url := _cache.get(key)) is None:
        encoded = base64.b64encode(store.read(digest)).decode("ascii")
        url = f"data:{media_type};base64,{encoded}"
        _cache.put(key, url)
    return url


def data_url_size(media_type: str, size: int) -> int:
    """How many bytes a file of `size` bytes takes in a request as a data URL."""
    return len(f"data:{media_type};base64,") + 4 * ((size + 2) // 3)


class _DataUrlCache:
    """Least recently used first out, the total length of the URLs kept at most `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._urls: OrderedDict[tuple[Path, str, str], str] = OrderedDict()
        self._lock = threading.Lock()  # URLs are also built on worker threads

    def get(self, key: tuple[Path, str, str]) -> str | None:
        with self._lock:
            url = self._urls.get(key)
            if url is not None:
                self._urls.move_to_end(key)
            return url

    def put(self, key: tuple[Path, str, str], url: str) -> None:
        if len(url) > self.max_bytes:
            return
        with self._lock:
            if key in self._urls:
                return
            self._urls[key] = url
            self.size += len(url)
            while self.size > self.max_bytes:
                _, dropped = self._urls.popitem(last=False)
                self.size -= len(dropped)


_cache = _DataUrlCache(CACHE_MAX_BYTES)
