"""The content-addressed file store: each distinct file once, named by its SHA-256."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StagedBlob:
    """Bytes written to a temporary file next to where they belong (`tmp` None: already there)."""

    digest: str
    tmp: Path | None


class BlobStore:
    """Files under `root/<first two hex digits>/<sha256>`, written atomically, never changed;
    removed when the last chat that used one is deleted."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> str:
        staged = self.stage(data)
        self.keep(staged)
        return staged.digest

    def stage(self, data: bytes) -> StagedBlob:
        """Write the bytes beside their final place; `keep` or `discard` decides their fate."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.path(digest)
        if path.exists():
            return StagedBlob(digest, None)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return StagedBlob(digest, Path(tmp))

    def keep(self, staged: StagedBlob) -> None:
        """Move a staged file into place (a rename: cheap enough inside a transaction)."""
        if staged.tmp is not None:
            os.replace(staged.tmp, self.path(staged.digest))

    def discard(self, staged: StagedBlob) -> None:
        if staged.tmp is not None:
            staged.tmp.unlink(missing_ok=True)

    def remove(self, digest: str) -> None:
        """Delete a file no attachment refers to any more; the caller checks that."""
        self.path(digest).unlink(missing_ok=True)

    def read(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()

    def path(self, digest: str) -> Path:
        if not _SHA256.fullmatch(digest):
            raise ValueError(f"not a SHA-256 digest: {digest!r}")
        return self.root / digest[:2] / digest
