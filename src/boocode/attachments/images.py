"""Images: checked by decoding them, and downscaled for the model when they are too large."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image

from boocode.attachments.errors import AttachmentRejected

# Far above any screenshot; a larger image is refused rather than decoded (decompression bombs).
MAX_PIXELS = 64_000_000
_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}


@dataclass(frozen=True)
class CheckedImage:
    width: int
    height: int
    # The smaller copy sent to the model, or None when the original fits.
    model_bytes: bytes | None = None
    model_media_type: str | None = None


def check_image(data: bytes, media_type: str, name: str, max_side: int) -> CheckedImage:
    """Decode the image fully (a truncated or forged file is refused) and downscale it if needed.

    The copy keeps the format (a GIF becomes a PNG of its first frame), so the same upload
    always yields the same bytes.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != _FORMATS[media_type]:
                    raise AttachmentRejected(f"{name} is not a readable {media_type} image")
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise AttachmentRejected(
                        f"{name} is {width} x {height} pixels; at most {MAX_PIXELS:,} pixels"
                    )
                image.load()
                if max(width, height) <= max_side:
                    return CheckedImage(width, height)
                return _downscaled(image, media_type, max_side)
    except AttachmentRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow refuses to open one far above the cap before its size can be read back.
        raise AttachmentRejected(
            f"{name} has more pixels than the limit; at most {MAX_PIXELS:,} pixels"
        ) from None
    except (OSError, SyntaxError, ValueError, Warning):
        raise AttachmentRejected(f"{name} is not a readable {media_type} image") from None


def _downscaled(image: Image.Image, media_type: str, max_side: int) -> CheckedImage:
    width, height = image.size
    copy = image.copy()
    copy.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if media_type == "image/jpeg":
        copy.convert("RGB").save(out, "JPEG", quality=90)
    elif media_type == "image/webp":
        copy.save(out, "WEBP", quality=90)
    else:
        if copy.mode not in ("RGB", "RGBA", "L", "LA"):
            copy = copy.convert("RGBA")
        copy.save(out, "PNG")
        media_type = "image/png"
    return CheckedImage(width, height, out.getvalue(), media_type)
