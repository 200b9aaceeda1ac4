"""`kundenportal export-readings`: customer readings since a date, for the billing system."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import time_machine

from dataio.exporter import COLUMNS, export_readings
from dataio.importer import import_data
from models import Meter, MeterReading, ReadingSource

BERLIN = "Europe/Berlin"
HEADER = (
    "kundennummer;zaehlernummer;ablesedatum;zaehlerstand;einheit;erfasst_am;"
    "ablese_id;ersetzt_ablese_id;foto"
)


async def given_meters() -> dict[str, Meter]:
    files = {
        "customers": "kundennummer;name\n100001;Erika Mustermann\n100002;Max Mustermann\n",
        "meters": (
            "zaehlernummer;kundennummer;hauptzaehler;art;eingebaut_am\n"
            "Z-100001;100001;ja;manuell;01.03.2015\n"
            "Z-100002;100002;ja;manuell;01.01.2012\n"
            "F-100002;100002;nein;Funk;01.01.2018\n"
        ),
    }
    for kind, text in files.items():
        assert (await import_data(kind, text.encode(), kind, today=dt.date(2025, 6, 1))).ok
    return {m.number: m for m in await Meter.all()}


async def submitted(
    meter: Meter,
    value: str,
    at: dt.datetime,
    *,
    source: ReadingSource = ReadingSource.CUSTOMER,
    replaces: MeterReading | None = None,
) -> MeterReading:
    """A reading stored at `at`, the way the portal stores it (a correction marks the old row)."""
    with time_machine.travel(at, tick=False):
        reading = await MeterReading.create(
            meter=meter, value=Decimal(value), read_on=at.date(), source=source, submitted_by_id=1
        )
    if replaces:
        replaces.replaced_by = reading
        await replaces.save(update_fields=["replaced_by_id"])
    return reading


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


async def export(since: dt.date) -> list[str]:
    stream = io.StringIO(newline="")
    count = await export_readings(stream, since, BERLIN)
    lines = stream.getvalue().split("\r\n")
    assert lines[-1] == ""
    assert count == len(lines) - 2
    return lines[:-1]


async def test_export_lists_customer_readings_submitted_since_the_local_date(app):
    meters = await given_meters()
    await submitted(meters["Z-100001"], "800", utc(2025, 6, 14, 21, 59))  # 23:59 in Berlin
    first = await submitted(meters["Z-100001"], "812.5", utc(2025, 6, 14, 22, 30))  # 00:30
    await submitted(meters["F-100002"], "99", utc(2025, 6, 16, 8), source=ReadingSource.RADIO)
    second = await submitted(meters["Z-100002"], "1234.125", utc(2025, 6, 20, 9, 15))

    lines = await export(dt.date(2025, 6, 15))

    assert tuple(HEADER.split(";")) == COLUMNS
    assert lines == [
        HEADER,
        f"100001;Z-100001;14.06.2025;812,500;m3;15.06.2025 00:30:00;{first.id};;",
        f"100002;Z-100002;20.06.2025;1234,125;m3;20.06.2025 11:15:00;{second.id};;",
    ]


async def test_a_corrected_reading_is_exported_once_with_its_newest_value(app):
    meters = await given_meters()
    before = await submitted(meters["Z-100002"], "900", utc(2025, 6, 10, 8))
    fixed_before = await submitted(meters["Z-100002"], "901", utc(2025, 6, 16, 8), replaces=before)
    typo = await submitted(meters["Z-100001"], "8125", utc(2025, 6, 17, 8))
    better = await submitted(meters["Z-100001"], "812.6", utc(2025, 6, 17, 9), replaces=typo)
    best = await submitted(meters["Z-100001"], "812.5", utc(2025, 6, 18, 7), replaces=better)

    lines = await export(dt.date(2025, 6, 15))

    assert lines == [
        HEADER,
        f"100002;Z-100002;16.06.2025;901,000;m3;16.06.2025 10:00:00;{fixed_before.id};{before.id};",
        f"100001;Z-100001;18.06.2025;812,500;m3;18.06.2025 09:00:00;{best.id};{better.id};",
    ]


async def test_export_command_writes_the_file_and_counts_on_stderr(app, settings, staff, tmp_path):
    meters = await given_meters()
    reading = await submitted(meters["Z-100001"], "812.5", utc(2025, 6, 16, 8))
    output = tmp_path / "ablesungen.csv"

    run = await staff("export-readings", "--since", "15.06.2025", "--output", str(output))
    to_stdout = await staff("export-readings", "--since", "2025-06-17")
    bad_date = await staff("export-readings", "--since", "gestern")

    assert run.code == 0, run.stderr
    assert (
        output.read_bytes()
        == (
            f"{HEADER}\r\n"
            f"100001;Z-100001;16.06.2025;812,500;m3;16.06.2025 10:00:00;{reading.id};;\r\n"
        ).encode()
    )
    assert run.stderr == "1 customer reading(s) submitted since 15.06.2025.\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ablesungen.csv"]
    assert to_stdout.code == 0
    assert to_stdout.stdout == f"{HEADER}\r\n"
    assert bad_date.code == 2
    assert "'gestern' is not a date" in bad_date.stderr
