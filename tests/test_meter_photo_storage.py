"""Meter photos in the document storage: kept out of the database, deleted with their
retention and with the profile, and objects without a row swept away."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import time_machine

from dataio.exporter import export_readings
from documents.sample import invoice_pdf
from documents.store import INVOICE_PDFS, METER_PHOTOS, content_key, open_store, random_key, read
from models import AuditEvent, MeterPhoto, MeterReading, ReadingSource
from ops.purge import purge_all
from resolvers.photos import attach_photo, clean_photo, delete_photos_of_login
from security.images import CleanImage
from tests.factories import make_customer, make_login, make_meter
from tests.test_meter_photo_images import jpeg_with_gps


async def photographed_reading(settings, login_id: int | None = None) -> MeterPhoto:
    meter = await make_meter(await make_customer())
    reading = await MeterReading.create(
        meter=meter,
        value=Decimal("12.5"),
        read_on=dt.date(2025, 3, 1),
        source=ReadingSource.CUSTOMER,
    )
    image = await clean_photo(jpeg_with_gps(), settings)
    assert isinstance(image, CleanImage)
    return await attach_photo(open_store(settings), reading, image, login_id, None)


async def test_photo_bytes_live_in_the_storage_under_a_random_key(app, settings):
    photo = await photographed_reading(settings)

    stored = await read(open_store(settings), photo.storage_key)

    assert photo.storage_key.startswith(f"{METER_PHOTOS}/")
    assert len(photo.storage_key) > 30
    assert stored is not None
    assert stored[:2] == b"\xff\xd8"
    assert b"PhoneMaker" not in stored
    assert (photo.content_type, photo.size_bytes) == ("image/jpeg", len(stored))


async def test_photos_are_deleted_after_their_retention(app, settings):
    settings.photo_retention_days = 30
    photo = await photographed_reading(settings)
    store = open_store(settings)

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=29)):
        assert (await purge_all(settings))["meter photos"] == 0
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=31)):
        assert (await purge_all(settings))["meter photos"] == 1

    assert await MeterPhoto.all().count() == 0
    assert await read(store, photo.storage_key) is None


async def test_deleting_the_login_deletes_the_photos_it_took(app, settings):
    login = await make_login()
    mine = await photographed_reading(settings, login.id)
    other = await photographed_reading(settings, None)
    store = open_store(settings)

    assert await delete_photos_of_login(store, login.id) == 1

    assert await read(store, mine.storage_key) is None
    assert await read(store, other.storage_key) is not None
    assert [p.id for p in await MeterPhoto.all()] == [other.id]


async def test_objects_without_a_row_are_swept_after_an_hour(app, settings):
    store = open_store(settings)
    orphan = random_key(METER_PHOTOS)
    await store.put(orphan, b"left behind by a rolled-back upload")
    kept = await photographed_reading(settings)

    soon = await purge_all(settings)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)):
        later = await purge_all(settings)

    assert (soon["meter photos"], later["meter photos"]) == (0, 1)
    assert await read(store, orphan) is None
    assert await read(store, kept.storage_key) is not None


async def test_the_photo_sweep_leaves_invoice_pdfs_in_the_same_store_alone(app, settings):
    store = open_store(settings)
    pdf = invoice_pdf("R-1", "Erika Mustermann", "1,00", dt.date(2026, 12, 1))
    await store.put(pdf_key := content_key(INVOICE_PDFS, pdf), pdf)
    await store.put(orphan := random_key(METER_PHOTOS), b"left behind")

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=400)):
        swept = await purge_all(settings)

    assert swept["meter photos"] == 1
    assert await read(store, orphan) is None
    assert await read(store, pdf_key) == pdf


async def test_a_key_cannot_leave_the_store(settings):
    store = open_store(settings)
    outside = settings.document_dir.parent / "secret"
    outside.write_bytes(b"not a document")

    for key in ("../secret", "meter-photos/../../secret", "/etc/passwd", f"{METER_PHOTOS}/x"):
        assert not await store.exists(key)
        assert await read(store, key) is None
        await store.delete(key)
    assert outside.read_bytes() == b"not a document"


async def test_staff_see_the_photo_in_the_export_and_fetch_it_audited(
    staff, app, settings, tmp_path
):
    photo = await photographed_reading(settings)
    out = io.StringIO(newline="")
    await export_readings(out, dt.date(2000, 1, 1), "Europe/Berlin")
    target = tmp_path / "foto.jpg"

    run = await staff(
        "photo",
        str(photo.reading_id),
        "-o",
        str(target),
        "--actor",
        "sachbearbeiter",
        DOCUMENT_DIR=str(settings.document_dir),
    )
    missing = await staff("photo", "999999", "-o", str(target))

    assert out.getvalue().splitlines()[1].endswith(f";{photo.reading_id};;ja")
    assert run.code == 0, run.stderr
    assert target.read_bytes() == await read(open_store(settings), photo.storage_key)
    assert await AuditEvent.filter(
        action="meter_photo_exported", actor="staff:sachbearbeiter"
    ).exists()
    assert missing.code == 1
    assert "has no photo" in missing.stderr
