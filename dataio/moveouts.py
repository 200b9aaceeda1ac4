"""`kundenportal export-move-outs`: reported move-outs and their final readings, for billing.

One row per manual meter of a move-out (the utility reads radio meters itself;
a move-out without one gets a row without a meter): the move-out date, the
forwarding address for the final invoice, and the meter's final reading once
the customer gave it.
A move-out is exported when it was reported, or got a final reading, on or
after `--since`; the billing system matches rows by customer and meter number,
so exporting a move-out again (with more readings) overwrites what it had.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import TextIO

from dataio.csvformat import format_date, format_datetime, format_decimal, table_writer
from dataio.exporter import start_of_day
from models import FinalReading, Meter, MeterKind, MeterPhoto, MoveOut

COLUMNS = (
    "kundennummer",
    "auszugsdatum",
    "name",
    "strasse",
    "plz",
    "ort",
    "land",
    "gemeldet_am",
    "zaehlernummer",
    "schlusszaehlerstand",
    "ablesedatum",
    "ablese_id",
    "foto",
)


async def export_move_outs(stream: TextIO, since: dt.date, timezone: str) -> int:
    """Write the CSV; returns how many move-outs it holds."""
    start = start_of_day(since, timezone)
    zone = zoneinfo.ZoneInfo(timezone)
    recent = set(await MoveOut.filter(reported_at__gte=start).values_list("id", flat=True))
    recent |= set(
        await FinalReading.filter(reading__created_at__gte=start).values_list(
            "move_out_id", flat=True
        )
    )
    move_outs = await MoveOut.filter(id__in=recent).order_by("id").select_related("customer")
    customer_ids = [m.customer_id for m in move_outs]
    meters = await Meter.filter(customer_id__in=customer_ids, kind=MeterKind.MANUAL).order_by(
        "number"
    )
    finals = await FinalReading.filter(move_out_id__in=list(recent)).select_related("reading")
    final_of = {(f.move_out_id, f.meter_id): f.reading for f in finals}
    photographed = set(
        await MeterPhoto.filter(reading_id__in=[f.reading_id for f in finals]).values_list(
            "reading_id", flat=True
        )
    )
    writer = table_writer(stream, COLUMNS)
    for move_out in move_outs:
        address = [
            move_out.forwarding_name,
            move_out.forwarding_street,
            move_out.forwarding_postal_code,
            move_out.forwarding_city,
            move_out.forwarding_country,
        ]
        head = [
            move_out.customer.number,
            format_date(move_out.move_out_on),
            *address,
            format_datetime(move_out.reported_at.astimezone(zone)),
        ]
        own = [m for m in meters if m.customer_id == move_out.customer_id]
        if not own:
            writer.writerow([*head, "", "", "", "", ""])
        for meter in own:
            reading = final_of.get((move_out.id, meter.id))
            if reading is None:
                writer.writerow([*head, meter.number, "", "", "", ""])
                continue
            writer.writerow(
                [
                    *head,
                    meter.number,
                    format_decimal(Decimal(reading.value), places=3),
                    format_date(reading.read_on),
                    str(reading.id),
                    "ja" if reading.id in photographed else "",
                ]
            )
    return len(move_outs)
