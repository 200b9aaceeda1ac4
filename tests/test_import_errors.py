"""A file with a bad row imports nothing; the report names every bad row's line and reason."""

from __future__ import annotations

import datetime as dt

from dataio.csvformat import Problem
from dataio.importer import ImportReport, import_data
from models import Customer, Invoice, Meter, MeterReading, ReadingPeriod

TODAY = dt.date(2025, 6, 30)

CUSTOMERS = (
    "kundennummer;name;strasse;plz;ort",
    "100001;Erika Mustermann;Hauptstraße 1;12345;Musterstadt",
    "100002;Max Mustermann;Bahnhofstraße 7;12345;Musterstadt",
)
METERS = (
    "zaehlernummer;kundennummer;hauptzaehler;art;gruppe;eingebaut_am;ausgebaut_am",
    "Z-100001;100001;ja;manuell;;01.03.2015;",
    "F-100001;100001;nein;Funk;FUNK-NORD;01.05.2019;",
    "Z-100002;100002;ja;manuell;;01.01.2012;31.12.2024",
)


async def run_import(kind: str, *lines: str | bytes) -> ImportReport:
    data = b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines)
    return await import_data(kind, data, f"{kind}.csv", today=TODAY)


async def given_customers_and_meters() -> None:
    assert (await run_import("customers", *CUSTOMERS)).ok
    assert (await run_import("meters", *METERS)).ok


async def test_one_bad_row_imports_nothing_and_every_bad_row_is_named(app):
    report = await run_import(
        "customers",
        "kundennummer;name;strasse;plz;ort;email",
        "100001;Erika Mustermann;Hauptstraße 1;12345;Musterstadt;erika@example.org",
        "100002;;Bahnhofstraße 7;12345;Musterstadt;",
        "100003;Nina Neukundin;Am Wasserturm 3;123456789012;Musterstadt;nina(at)example.org",
        "100001;Erika Doppelt;Hauptstraße 1;12345;Musterstadt;",
        "100 004;Rita Funk;Ringweg 4;12345;Musterstadt",
        "100005;Otto Normal;Ringweg 5;12345;Musterstadt;",
    )

    assert not report.ok
    assert report.problems == [
        Problem(3, "name is empty"),
        Problem(4, "email 'nina(at)example.org' is not an e-mail address"),
        Problem(4, "plz is longer than 10 characters"),
        Problem(5, "customer number 100001 appears twice (first on line 2)"),
        Problem(6, "expected 6 fields separated by ';', found 5"),
    ]
    assert report.bad_lines == 4
    assert "4 bad line(s), nothing imported" in report.summary()
    assert await Customer.all().count() == 0


async def test_invoices_of_unknown_customers_are_refused_with_their_lines(app):
    await run_import("customers", *CUSTOMERS)

    report = await run_import(
        "invoices",
        "rechnungsnummer;kundennummer;rechnungsdatum;art;betrag",
        "R-1;100001;20.01.2025;Jahresabrechnung;438,90",
        "R-2;999999;20.01.2025;Jahresabrechnung;100,00",
        "R-3;100002;31.02.2025;Rechnung;12.50",
        "R-4;100002;2025-01-20;Sonstige;12,505",
    )

    assert report.problems == [
        Problem(3, "customer number 999999 is unknown"),
        Problem(4, "betrag: '12.50': use a decimal comma (12,50)"),
        Problem(4, "rechnungsdatum: '31.02.2025' is not a valid date"),
        Problem(4, "art: 'Rechnung' is not one of: jahresabrechnung, annual, sonstige, other"),
        Problem(5, "betrag: '12,505' has more than 2 decimal places"),
    ]
    assert await Invoice.all().count() == 0


async def test_meters_with_bad_values_or_a_second_main_meter_are_refused(app):
    await run_import("customers", *CUSTOMERS)
    assert (await run_import("meters", METERS[0], METERS[1])).ok

    report = await run_import(
        "meters",
        "zaehlernummer;kundennummer;hauptzaehler;art;einheit;eingebaut_am;ausgebaut_am",
        "Z-100002;100002;ja;manuell;m3;01.01.2012;",
        "Z-100003;100002;ja;manuell;m3;01.01.2013;",
        "W-100001;100001;ja;manuell;m3;01.01.2020;",
        "X-1;100001;vielleicht;Ultraschall;l;01.01.2020;31.12.2019",
    )

    assert report.problems == [
        Problem(3, "customer 100002 gets a second main meter (the first is Z-100002 on line 2)"),
        Problem(
            4,
            "customer 100001 already has the main meter Z-100001, which this file leaves "
            "unchanged (list it with hauptzaehler nein to replace it)",
        ),
        Problem(5, "einheit 'l' is not m3"),
        Problem(5, "ausgebaut_am is before eingebaut_am"),
        Problem(5, "hauptzaehler: 'vielleicht' is neither ja nor nein"),
        Problem(5, "art: 'Ultraschall' is not one of: manuell, manual, funk, radio"),
    ]
    assert await Meter.all().values_list("number", flat=True) == ["Z-100001"]


async def test_reading_periods_need_a_known_meter_or_group_and_a_key_date_inside(app):
    await given_customers_and_meters()

    report = await run_import(
        "reading-periods",
        "zaehlernummer;gruppe;beginn;ende;stichtag",
        "Z-100001;;15.06.2025;15.07.2025;30.06.2025",
        "Z-999;;15.06.2025;15.07.2025;30.06.2025",
        ";FUNK-SUED;01.06.2025;31.07.2025;30.06.2025",
        "Z-100002;FUNK-NORD;01.06.2025;31.07.2025;30.06.2025",
        ";;01.06.2025;31.07.2025;30.06.2025",
        "Z-100002;;31.07.2025;01.06.2025;30.06.2025",
        "Z-100002;;01.06.2025;31.07.2025;01.08.2025",
        "Z-100001;;15.06.2025;20.07.2025;30.06.2025",
    )

    assert report.problems == [
        Problem(3, "meter number Z-999 is unknown"),
        Problem(4, "no meter is in group FUNK-SUED"),
        Problem(5, "give either zaehlernummer or gruppe, not both"),
        Problem(6, "give either zaehlernummer or gruppe"),
        Problem(7, "ende is before beginn"),
        Problem(8, "stichtag is not within the period"),
        Problem(
            9, "the period of meter Z-100001 beginning 15.06.2025 appears twice (first on line 2)"
        ),
    ]
    assert await ReadingPeriod.all().count() == 0


async def test_readings_must_fit_their_meter_and_cannot_be_customer_readings(app):
    await given_customers_and_meters()

    report = await run_import(
        "radio-readings",
        "zaehlernummer;ablesedatum;zaehlerstand;quelle",
        "F-100001;30.06.2025;1.234,5;Funk",
        "Z-100001;30.06.2025;812,000;Funk",
        "F-100001;01.07.2025;1.240,0;Funk",
        "F-100001;01.01.2019;10,0;Funk",
        "Z-100002;15.01.2025;900,0;Ableser",
        "F-100001;15.06.2025;-1,0;Funk",
        "F-100001;15.06.2025;1.200;Kunde",
        "F-999;15.06.2025;1,0;Funk",
        "F-100001;30.06.2025;1.234,6;funk",
    )

    assert report.problems == [
        Problem(3, "meter Z-100001 is not a radio meter"),
        Problem(4, "ablesedatum 01.07.2025 is in the future"),
        Problem(5, "meter F-100001 was not installed yet on that date"),
        Problem(6, "meter Z-100002 was removed before that date"),
        Problem(7, "zaehlerstand must be between 0 and 999999999,999"),
        Problem(8, "quelle: customer readings come from the portal, not from an import"),
        Problem(9, "meter number F-999 is unknown"),
        Problem(
            10,
            "the radio reading of meter F-100001 on 30.06.2025 appears twice (first on line 2)",
        ),
    ]
    assert await MeterReading.all().count() == 0


async def test_a_bad_header_is_reported_on_line_1(app):
    unknown = await run_import("customers", "kundennummer;name;strase", "100001;Erika;Weg 1")
    missing = await run_import("customers", "kundennummer;strasse", "100001;Weg 1")
    twice = await run_import("customers", "kundennummer;name;Name", "100001;Erika;Erika")
    commas = await run_import("customers", "kundennummer,name", "100001,Erika")
    neither = await run_import(
        "reading-periods", "beginn;ende;stichtag", "01.06.2025;31.07.2025;30.06.2025"
    )
    empty = await run_import("customers")

    assert unknown.problems == [
        Problem(
            1,
            "unknown column 'strase' "
            "(columns: kundennummer, name, strasse, plz, ort, telefon, email)",
        )
    ]
    assert missing.problems == [Problem(1, "column 'name' is missing")]
    assert twice.problems == [Problem(1, "column 'Name' appears twice")]
    assert commas.problems == [Problem(1, "columns must be separated by ';'")]
    assert neither.problems == [Problem(1, "column 'zaehlernummer' or 'gruppe' is missing")]
    assert empty.problems == [Problem(1, "the file is empty; expected a header row")]
    assert await Customer.all().count() == 0


async def test_a_file_that_is_not_utf8_is_refused_with_the_lines(app):
    report = await run_import(
        "customers",
        "kundennummer;name;strasse",
        "100001;Erika Mustermann;Hauptstraße 1",
        "100002;Max Mustermann;Bahnhofstra\xdfe 7".encode("latin-1"),
    )

    assert report.problems == [
        Problem(3, "not UTF-8 (byte 0xDF at position 34); save the file as UTF-8")
    ]
    assert await Customer.all().count() == 0


async def test_a_broken_quote_is_reported_on_its_line(app):
    report = await run_import(
        "customers",
        "kundennummer;name",
        "100001;Erika Mustermann",
        '100002;"Max" Mustermann',
        "100003;Nina Neukundin",
    )

    assert [p.line for p in report.problems] == [3]
    assert report.problems[0].message.startswith("not valid CSV:")
    assert await Customer.all().count() == 0
