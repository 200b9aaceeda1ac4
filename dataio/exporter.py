"""`kundenportal export-readings`: readings customers submitted, for the billing system.

A customer who corrects a reading leaves the earlier row in place, marked
`replaced_by`; only the newest value of such a chain is exported, with the id of
the reading it replaces, so that the billing system can overwrite what an
earlier export gave it.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import zoneinfo
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from dataio.csvformat import format_date, format_datetime, format_decimal, table_writer
from models import MeterPhoto, MeterReading, ReadingSource

COLUMNS = (
    "kundennummer",
    "zaehlernummer",
    "ablesedatum",
    "zaehlerstand",
    "einheit",
    "erfasst_am",
    "ablese_id",
    "ersetzt_ablese_id",
    "foto",
)
PAGE = 5_000


@dataclass(frozen=True)
class ExportedReading:
    reading_id: int
    customer_number: str
    meter_number: str
    read_on: dt.date
    value: Decimal
    submitted_at: dt.datetime
    replaces_id: int | None
    has_photo: bool = False


def start_of_day(day: dt.date, timezone: str) -> dt.datetime:
    """Local midnight of `day` as an aware UTC time stamp."""
    local = dt.datetime.combine(day, dt.time(), tzinfo=zoneinfo.ZoneInfo(timezone))
    return local.astimezone(dt.UTC)


async def customer_readings_since(since: dt.datetime) -> AsyncIterator[ExportedReading]:
    """The newest reading of each correction chain submitted by a customer at or after `since`.

    Pages by id so that a large export never holds every row at once.
    """
    after = 0
    while True:
        page = (
            await MeterReading.filter(
                source=ReadingSource.CUSTOMER,
                replaced_by_id=None,
                created_at__gte=since,
                id__gt=after,
            )
            .order_by("id")
            .limit(PAGE)
            .values(
                "id",
                "read_on",
                "value",
                "created_at",
                "meter__number",
                "meter__customer__number",
            )
        )
        if not page:
            return
        ids = [row["id"] for row in page]
        replaced = await MeterReading.filter(replaced_by_id__in=ids).values("id", "replaced_by_id")
        replaces = {row["replaced_by_id"]: row["id"] for row in replaced}
        photographed = set(
            await MeterPhoto.filter(reading_id__in=ids).values_list("reading_id", flat=True)
        )
        for row in page:
            yield ExportedReading(
                reading_id=row["id"],
                customer_number=row["meter__customer__number"],
                meter_number=row["meter__number"],
                read_on=row["read_on"],
                value=Decimal(row["value"]),
                submitted_at=row["created_at"],
                replaces_id=replaces.get(row["id"]),
                has_photo=row["id"] in photographed,
            )
        after = ids[-1]


def csv_row(reading: ExportedReading, timezone: str) -> list[str]:
    local = reading.submitted_at.astimezone(zoneinfo.ZoneInfo(timezone))
    return [
        reading.customer_number,
        reading.meter_number,
        format_date(reading.read_on),
        format_decimal(reading.value, places=3),
        "m3",
        format_datetime(local),
        str(reading.reading_id),
        "" if reading.replaces_id is None else str(reading.replaces_id),
        "ja" if reading.has_photo else "",
    ]


async def export_readings(stream: TextIO, since: dt.date, timezone: str) -> int:
    """Write the CSV of customer readings submitted on or after `since` (a local date)."""
    writer = table_writer(stream, COLUMNS)
    count = 0
    async for reading in customer_readings_since(start_of_day(since, timezone)):
        writer.writerow(csv_row(reading, timezone))
        count += 1
    return count


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: no one reads half an export."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with open(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
