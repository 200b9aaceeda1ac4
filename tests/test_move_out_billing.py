"""Move-outs and the billing system: `export-move-outs --since` hands over the move-out,
the forwarding address and the final readings; `import final-invoices` closes them."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from dataio.importer import import_data
from dataio.moveouts import export_move_outs
from models import FinalReading, MeterKind, MeterReading, MoveOut, ReadingSource
from tests.factories import make_customer, make_meter, reported_move_out

BERLIN = "Europe/Berlin"


async def reported(number: str, move_out_on: dt.date, at: dt.datetime) -> MoveOut:
    return await reported_move_out(await make_customer(number), move_out_on, at)


async def test_export_lists_each_manual_meter_with_its_final_reading_once_given(app, settings):
    move_out = await reported(
        "100001", dt.date(2025, 4, 1), dt.datetime(2025, 3, 9, 10, tzinfo=dt.UTC)
    )
    customer = await move_out.customer
    main = await make_meter(customer, "Z-1", main=True)
    await make_meter(customer, "Z-2")
    await make_meter(customer, "F-1", kind=MeterKind.RADIO)
    reading = await MeterReading.create(
        meter=main,
        value=Decimal("1234.5"),
        read_on=dt.date(2025, 3, 30),
        source=ReadingSource.CUSTOMER,
    )
    await FinalReading.create(move_out=move_out, meter=main, reading=reading)
    await reported("100002", dt.date(2025, 3, 1), dt.datetime(2025, 2, 1, 10, tzinfo=dt.UTC))

    out = io.StringIO()
    count = await export_move_outs(out, dt.date(2025, 3, 1), BERLIN)

    assert count == 1
    lines = out.getvalue().lstrip("\ufeff").splitlines()
    assert lines[0] == (
        "kundennummer;auszugsdatum;name;strasse;plz;ort;land;gemeldet_am;zaehlernummer;"
        "schlusszaehlerstand;ablesedatum;ablese_id;foto"
    )
    assert lines[1] == (
        "100001;01.04.2025;Erika Mustermann;Neue Straße 2;54321;Anderswo;DE;09.03.2025 11:00:00;"
        f"Z-1;1234,500;30.03.2025;{reading.id};"
    )
    assert lines[2].endswith(";Z-2;;;;")
    assert len(lines) == 3


async def test_final_invoice_import_closes_the_move_out_and_is_idempotent(app, settings):
    await reported("100001", dt.date(2025, 4, 1), dt.datetime(2025, 3, 9, tzinfo=dt.UTC))
    text = b"kundennummer;rechnungsnummer;rechnungsdatum\n100001;S-2025-1;15.04.2025\n"

    first = await import_data("final-invoices", text, "f.csv", today=dt.date(2025, 5, 1))
    again = await import_data("final-invoices", text, "f.csv", today=dt.date(2025, 5, 1))

    assert first.ok
    assert (first.updated, first.unchanged) == (1, 0)
    assert again.ok
    assert (again.updated, again.unchanged) == (0, 1)
    move_out = await MoveOut.get(customer__number="100001")
    assert move_out.is_closed
    assert (move_out.final_invoice_number, move_out.final_invoiced_on) == (
        "S-2025-1",
        dt.date(2025, 4, 15),
    )


async def test_final_invoice_for_a_customer_without_move_out_imports_nothing(app, settings):
    await reported("100001", dt.date(2025, 4, 1), dt.datetime(2025, 3, 9, tzinfo=dt.UTC))
    await make_customer("100002")
    text = (
        b"kundennummer;rechnungsnummer;rechnungsdatum\n"
        b"100001;S-1;15.04.2025\n100002;S-2;15.04.2025\n100003;S-3;15.04.2025\n"
        b"100001;S-4;01.06.2025\n"
    )

    report = await import_data("final-invoices", text, "f.csv", today=dt.date(2025, 5, 1))

    assert not report.ok
    assert [(p.line, p.message) for p in report.problems] == [
        (3, "customer number 100002 has reported no move-out"),
        (4, "customer number 100003 is unknown"),
        (5, "customer number 100001 appears twice (first on line 2)"),
    ]
    assert not (await MoveOut.get(customer__number="100001")).is_closed


async def test_export_move_outs_command_writes_the_csv(staff, app, settings, tmp_path):
    await reported("100001", dt.date(2025, 4, 1), dt.datetime.now(dt.UTC))
    target = tmp_path / "auszuege.csv"

    run = await staff("export-move-outs", "--since", "01.01.2025", "-o", str(target))

    assert run.code == 0, run.stderr
    assert "1 move-out(s) reported or completed since 01.01.2025." in run.stderr
    assert "100001;01.04.2025;Erika Mustermann" in target.read_text(encoding="utf-8-sig")
