"""Meter photos: checked and re-encoded (`security.images`), kept in the document
storage, deleted with their retention, with the profile of the login that took
them, and swept when a row is gone (a reading deleted by cascade) or never came
(an upload whose transaction rolled back).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import clock
from documents.store import METER_PHOTOS, DocumentStore, open_store, random_key
from models import MeterPhoto, MeterReading
from models.customer_codes import CustomerErrorCode
from models.errors import Problem
from security.images import CleanImage, ImageProblem, sanitize_image
from settings import Settings

ORPHAN_GRACE = dt.timedelta(hours=1)
"""An object without a row is left alone this long: its upload may still be committing."""


async def clean_photo(data: bytes, settings: Settings) -> CleanImage | ImageProblem:
    """The upload re-encoded without metadata, or why not; decoded in a thread."""
    return await asyncio.to_thread(
        sanitize_image,
        data,
        max_bytes=settings.photo_max_bytes,
        max_pixels=settings.photo_max_pixels,
        max_side=settings.photo_max_side,
    )


async def checked_photo(
    data: bytes | None, settings: Settings, path: tuple[str, ...]
) -> tuple[CleanImage | None, Problem | None]:
    """The photo sent with a reading, re-encoded, or the problem that refuses it (at `path`)."""
    if data is None:
        return None, None
    result = await clean_photo(data, settings)
    if isinstance(result, CleanImage):
        return result, None
    if result is ImageProblem.TOO_LARGE:
        megabytes = f"{settings.photo_max_bytes / 1_000_000:g}"
        return None, Problem(CustomerErrorCode.PHOTO_TOO_LARGE, path, {"maxMegabytes": megabytes})
    if result is ImageProblem.TOO_MANY_PIXELS:
        megapixels = f"{settings.photo_max_pixels / 1_000_000:g}"
        params = {"maxMegapixels": megapixels}
        return None, Problem(CustomerErrorCode.PHOTO_TOO_MANY_PIXELS, path, params)
    return None, Problem(CustomerErrorCode.PHOTO_NOT_AN_IMAGE, path)


async def attach_photo(
    store: DocumentStore, reading: MeterReading, image: CleanImage, login_id: int | None, conn: Any
) -> MeterPhoto:
    """Store the image and its row in the reading's transaction. The object is written
    first: should the transaction roll back, the sweep removes it."""
    key = random_key(METER_PHOTOS)
    await store.put(key, image.data)
    return await MeterPhoto.create(
        reading_id=reading.id,
        storage_key=key,
        content_type=image.content_type,
        width=image.width,
        height=image.height,
        size_bytes=len(image.data),
        sha256=image.sha256,
        uploaded_by_login_id=login_id,
        created_at=clock.now(),
        using_db=conn,
    )


async def delete_photos(store: DocumentStore, photos: list[MeterPhoto]) -> int:
    """Rows first, then objects: a crash in between leaves objects the sweep removes."""
    if not photos:
        return 0
    await MeterPhoto.filter(id__in=[p.id for p in photos]).delete()
    for photo in photos:
        await store.delete(photo.storage_key)
    return len(photos)


async def delete_photos_of_login(store: DocumentStore, login_id: int) -> int:
    """With the profile (R16) go the photos its login took; the readings stay (billing)."""
    return await delete_photos(store, await MeterPhoto.filter(uploaded_by_login_id=login_id))


async def purge_meter_photos(settings: Settings) -> int:
    """The retention job: photos older than PHOTO_RETENTION_DAYS, and orphaned objects."""
    store = open_store(settings)
    now = clock.now()
    cutoff = now - dt.timedelta(days=settings.photo_retention_days)
    removed = await delete_photos(store, await MeterPhoto.filter(created_at__lt=cutoff))
    keys = await store.keys(METER_PHOTOS, older_than=now - ORPHAN_GRACE)
    if keys:
        known = set(
            await MeterPhoto.filter(storage_key__in=keys).values_list("storage_key", flat=True)
        )
        for key in keys:
            if key not in known:
                await store.delete(key)
                removed += 1
    return removed
