"""Small real images for tests, made with Pillow."""

from __future__ import annotations

import io
import os

from PIL import Image


def png(
    width: int = 8,
    height: int = 8,
    color: tuple[int, int, int] = (200, 30, 30),
    *,
    mode: str = "RGB",
) -> bytes:
    """A plain image; `mode="1"` makes a huge one small (one bit a pixel, all black)."""
    out = io.BytesIO()
    Image.new(mode, (width, height), color if mode == "RGB" else 0).save(out, "PNG")
    return out.getvalue()


def png_noise(width: int, height: int) -> bytes:
    """An image PNG cannot compress: its size grows with its pixels."""
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, "PNG")
    return out.getvalue()


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size
