"""Photos from customers: only real JPEG, PNG or WebP, re-encoded without metadata.

A file is judged by its bytes, never by its name or declared type. Its size
and the pixel count its header declares are checked before anything is decoded
(a small file can declare billions of pixels: a decompression bomb). The pixels
are then decoded, turned upright as the EXIF orientation says, scaled down to a
bounded size and written into a fresh image: EXIF (with GPS), XMP, ICC and text
chunks of the original do not survive.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, ImageOps

CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
QUALITY = 85


class ImageProblem(StrEnum):
    """Why an upload is refused."""

    TOO_LARGE = "too_large"
    TOO_MANY_PIXELS = "too_many_pixels"
    NOT_AN_IMAGE = "not_an_image"


@dataclass(frozen=True)
class CleanImage:
    """A re-encoded image: pixels only, in the format it came in."""

    data: bytes
    content_type: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def sanitize_image(
    data: bytes, *, max_bytes: int, max_pixels: int, max_side: int
) -> CleanImage | ImageProblem:
    """The upload re-encoded without metadata, or why it is refused.

    CPU-bound (a few hundred milliseconds for a phone photo): call it in a thread.
    """
    if len(data) > max_bytes:
        return ImageProblem.TOO_LARGE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _reencode(data, max_pixels=max_pixels, max_side=max_side)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return ImageProblem.TOO_MANY_PIXELS
    except (OSError, SyntaxError, ValueError, EOFError):
        return ImageProblem.NOT_AN_IMAGE


def _reencode(data: bytes, *, max_pixels: int, max_side: int) -> CleanImage | ImageProblem:
    formats = list(CONTENT_TYPES)
    with Image.open(io.BytesIO(data), formats=formats) as probe:
        kind = probe.format
        if kind not in CONTENT_TYPES or getattr(probe, "n_frames", 1) != 1:
            return ImageProblem.NOT_AN_IMAGE
        width, height = probe.size
        if width < 1 or height < 1:
            return ImageProblem.NOT_AN_IMAGE
        if width * height > max_pixels:
            return ImageProblem.TOO_MANY_PIXELS
        probe.verify()
    with Image.open(io.BytesIO(data), formats=[kind]) as decoded:
        decoded.load()
        upright = ImageOps.exif_transpose(decoded) or decoded
        pixels = _plain_mode(upright, kind)
        pixels.thumbnail((max_side, max_side))
        fresh = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if kind == "PNG":
        fresh.save(out, "PNG", optimize=True)
    else:
        fresh.save(out, kind, quality=QUALITY)
    return CleanImage(out.getvalue(), CONTENT_TYPES[kind], fresh.width, fresh.height)


def _plain_mode(image: Image.Image, kind: str) -> Image.Image:
    """RGB, RGBA or L: modes every viewer shows and the target format can hold."""
    has_alpha = "A" in image.mode or "transparency" in image.info
    if kind == "JPEG":
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    if image.mode in ("RGB", "RGBA", "L"):
        return image
    return image.convert("RGBA" if has_alpha else "RGB")
