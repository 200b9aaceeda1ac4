"""Meter photos are judged by their bytes and re-encoded: metadata (GPS) is gone,
files that only claim to be images, oversized files and decompression bombs are refused."""

from __future__ import annotations

import io

from PIL import Image

from security.images import CleanImage, ImageProblem, sanitize_image

LIMITS = {"max_bytes": 10_000_000, "max_pixels": 40_000_000, "max_side": 2560}
GPS_IFD = 0x8825


def jpeg_with_gps(size=(400, 300), orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if orientation:
        exif[0x0112] = orientation
    exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 0.0)}
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def encoded(fmt: str, size=(64, 48), mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, fmt)
    return out.getvalue()


def test_jpeg_is_reencoded_without_exif_and_gps():
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)

    clean = sanitize_image(original, **LIMITS)

    assert isinstance(clean, CleanImage)
    assert clean.content_type == "image/jpeg"
    stored = Image.open(io.BytesIO(clean.data))
    assert dict(stored.getexif()) == {}
    assert "exif" not in stored.info
    assert "xmp" not in stored.info


def test_orientation_is_applied_before_the_metadata_is_dropped():
    clean = sanitize_image(jpeg_with_gps(size=(400, 300), orientation=6), **LIMITS)
    assert isinstance(clean, CleanImage)
    assert (clean.width, clean.height) == (300, 400)


def test_png_and_webp_are_accepted_and_large_photos_scaled_down():
    for fmt, content_type in (("PNG", "image/png"), ("WEBP", "image/webp")):
        clean = sanitize_image(encoded(fmt, size=(3000, 200), mode="RGBA"), **LIMITS)
        assert isinstance(clean, CleanImage)
        assert clean.content_type == content_type
        assert (clean.width, clean.height) == (2560, 171)


def test_a_text_file_named_jpg_is_not_an_image():
    assert sanitize_image(b"Zaehlerstand 1234\n" * 100, **LIMITS) is ImageProblem.NOT_AN_IMAGE


def test_other_formats_and_truncated_files_are_not_accepted():
    assert sanitize_image(encoded("GIF"), **LIMITS) is ImageProblem.NOT_AN_IMAGE
    truncated = jpeg_with_gps()[:600]
    assert sanitize_image(truncated, **LIMITS) is ImageProblem.NOT_AN_IMAGE


def test_a_20_mb_file_is_refused_before_decoding():
    assert sanitize_image(b"\xff\xd8" + b"\0" * 20_000_000, **LIMITS) is ImageProblem.TOO_LARGE


def test_a_decompression_bomb_is_refused_by_its_declared_pixels():
    bomb = encoded("PNG", size=(12_000, 12_000), mode="1")
    assert len(bomb) < 1_000_000
    assert sanitize_image(bomb, **LIMITS) is ImageProblem.TOO_MANY_PIXELS
    huge = encoded("PNG", size=(20_000, 20_000), mode="1")
    assert sanitize_image(huge, **LIMITS) is ImageProblem.TOO_MANY_PIXELS
