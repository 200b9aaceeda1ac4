"""Each kind of billing-system file is imported, and importing it again is an upsert."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from dataio.importer import ImportReport, import_data
from models import (
    Customer,
    Invoice,
    InvoiceKind,
    Meter,
    MeterKind,
    MeterReading,
    ReadingPeriod,
    ReadingSource,
)

TODAY = dt.date(2025, 6, 30)

CUSTOMERS = (
    "kundennummer;name;strasse;plz;ort;telefon;email",
    "100001;Erika Mustermann;Hauptstraße 1;12345;Musterstadt;030 1234567;erika@example.org",
    "100002;Max Mustermann;Bahnhofstraße 7;12345;Musterstadt;;",
)
INVOICES = (
    "rechnungsnummer;kundennummer;rechnungsdatum;art;betrag",
    "R-2024-100001;100001;20.01.2025;Jahresabrechnung;438,90",
    "G-2025-100001;100001;01.03.2025;Sonstige;-35,00",
    "R-2024-100002;100002;2025-02-03;jahresabrechnung;1.299,00",
)
METERS = (
    "zaehlernummer;kundennummer;hauptzaehler;art;einheit;gruppe;eingebaut_am;ausgebaut_am",
    "Z-100001;100001;ja;manuell;m³;;01.03.2015;",
    "F-100001;100001;nein;Funk;m3;FUNK-NORD;01.05.2019;",
    "Z-100002;100002;ja;manuell;;;01.01.2012;31.12.2024",
)
PERIODS = (
    "zaehlernummer;gruppe;beginn;ende;stichtag",
    "Z-100001;;15.06.2025;15.07.2025;30.06.2025",
    ";FUNK-NORD;01.06.2025;31.07.2025;30.06.2025",
)
READINGS = (
    "zaehlernummer;ablesedatum;zaehlerstand;quelle",
    "F-100001;30.06.2025;1.234,5;",
    "F-100001;31.12.2024;1.100,125;Funk",
    "Z-100001;15.12.2024;812;Ableser",
    "Z-100001;15.12.2023;790,000;Schätzung",
)


async def run_import(kind: str, *lines: str, dry_run: bool = False) -> ImportReport:
    data = "\r\n".join(lines).encode()
    return await import_data(kind, data, f"{kind}.csv", today=TODAY, dry_run=dry_run)


async def import_all() -> None:
    for kind, lines in (
        ("customers", CUSTOMERS),
        ("invoices", INVOICES),
        ("meters", METERS),
        ("reading-periods", PERIODS),
        ("radio-readings", READINGS),
    ):
        report = await run_import(kind, *lines)
        assert report.ok, report.problems


async def test_customers_are_imported_with_their_base_data(app):
    report = await run_import("customers", *CUSTOMERS)

    assert (report.ok, report.rows, report.inserted) == (True, 2, 2)
    erika = await Customer.get(number="100001")
    assert (erika.name, erika.street, erika.postal_code, erika.city) == (
        "Erika Mustermann",
        "Hauptstraße 1",
        "12345",
        "Musterstadt",
    )
    assert (erika.phone, erika.email, erika.online_consent) == (
        "030 1234567",
        "erika@example.org",
        False,
    )
    assert (await Customer.get(number="100002")).email == ""


async def test_invoices_are_imported_in_cents_and_credit_notes_may_be_negative(app):
    await run_import("customers", *CUSTOMERS)

    report = await run_import("invoices", *INVOICES)

    assert report.ok
    assert report.inserted == 3
    rows = (
        await Invoice.all()
        .order_by("number")
        .values_list("number", "customer__number", "date", "kind", "amount_cents")
    )
    assert rows == [
        ("G-2025-100001", "100001", dt.date(2025, 3, 1), InvoiceKind.OTHER, -3500),
        ("R-2024-100001", "100001", dt.date(2025, 1, 20), InvoiceKind.ANNUAL, 43890),
        ("R-2024-100002", "100002", dt.date(2025, 2, 3), InvoiceKind.ANNUAL, 129900),
    ]


async def test_meters_are_imported_with_main_flag_kind_group_and_dates(app):
    await run_import("customers", *CUSTOMERS)

    report = await run_import("meters", *METERS)

    assert report.ok
    assert report.inserted == 3
    rows = (
        await Meter.all()
        .order_by("number")
        .values_list(
            "number",
            "customer__number",
            "is_main",
            "kind",
            "unit",
            "group",
            "installed_on",
            "removed_on",
        )
    )
    assert rows == [
        (
            "F-100001",
            "100001",
            False,
            MeterKind.RADIO,
            "m3",
            "FUNK-NORD",
            dt.date(2019, 5, 1),
            None,
        ),
        ("Z-100001", "100001", True, MeterKind.MANUAL, "m3", None, dt.date(2015, 3, 1), None),
        (
            "Z-100002",
            "100002",
            True,
            MeterKind.MANUAL,
            "m3",
            None,
            dt.date(2012, 1, 1),
            dt.date(2024, 12, 31),
        ),
    ]


async def test_reading_periods_are_imported_for_a_meter_and_for_a_meter_group(app):
    await run_import("customers", *CUSTOMERS)
    await run_import("meters", *METERS)

    report = await run_import("reading-periods", *PERIODS)

    assert report.ok
    assert report.inserted == 2
    rows = (
        await ReadingPeriod.all()
        .order_by("starts_on")
        .values_list("meter__number", "meter_group", "starts_on", "ends_on", "key_date")
    )
    assert rows == [
        (None, "FUNK-NORD", dt.date(2025, 6, 1), dt.date(2025, 7, 31), dt.date(2025, 6, 30)),
        ("Z-100001", None, dt.date(2025, 6, 15), dt.date(2025, 7, 15), dt.date(2025, 6, 30)),
    ]


async def test_readings_are_imported_as_radio_unless_the_source_says_staff_or_estimate(app):
    await run_import("customers", *CUSTOMERS)
    await run_import("meters", *METERS)

    report = await run_import("radio-readings", *READINGS)

    assert report.ok
    assert report.inserted == 4
    rows = (
        await MeterReading.all()
        .order_by("read_on")
        .values_list(
            "meter__number", "read_on", "value", "source", "submitted_by_id", "replaced_by_id"
        )
    )
    assert rows == [
        ("Z-100001", dt.date(2023, 12, 15), Decimal("790.000"), ReadingSource.ESTIMATE, None, None),
        ("Z-100001", dt.date(2024, 12, 15), Decimal("812.000"), ReadingSource.STAFF, None, None),
        ("F-100001", dt.date(2024, 12, 31), Decimal("1100.125"), ReadingSource.RADIO, None, None),
        ("F-100001", dt.date(2025, 6, 30), Decimal("1234.500"), ReadingSource.RADIO, None, None),
    ]


async def test_importing_the_same_files_again_changes_nothing(app):
    await import_all()
    before = await Customer.get(number="100001")

    reports = [
        await run_import(kind, *lines)
        for kind, lines in (
            ("customers", CUSTOMERS),
            ("invoices", INVOICES),
            ("meters", METERS),
            ("reading-periods", PERIODS),
            ("radio-readings", READINGS),
        )
    ]

    assert [(r.ok, r.inserted, r.updated) for r in reports] == [(True, 0, 0)] * 5
    assert [r.unchanged for r in reports] == [2, 3, 3, 2, 4]
    counts = [
        await model.all().count()
        for model in (Customer, Invoice, Meter, ReadingPeriod, MeterReading)
    ]
    assert counts == [2, 3, 3, 2, 4]
    assert (await Customer.get(number="100001")).updated_at == before.updated_at


async def test_changed_rows_are_updated_in_place_by_their_keys(app):
    await import_all()
    erika_id = (await Customer.get(number="100001")).id

    customers = await run_import(
        "customers",
        CUSTOMERS[0],
        "100001;Erika Musterfrau;Neue Straße 2;12346;Musterdorf;;erika@example.org",
        CUSTOMERS[2],
    )
    invoices = await run_import(
        "invoices", INVOICES[0], "G-2025-100001;100001;01.03.2025;Sonstige;-40,00"
    )
    periods = await run_import(
        "reading-periods", PERIODS[0], ";FUNK-NORD;01.06.2025;15.08.2025;30.06.2025"
    )
    readings = await run_import("radio-readings", READINGS[0], "F-100001;30.06.2025;1.235,5;Funk")

    assert [
        (r.inserted, r.updated, r.unchanged) for r in (customers, invoices, periods, readings)
    ] == [
        (0, 1, 1),
        (0, 1, 0),
        (0, 1, 0),
        (0, 1, 0),
    ]
    erika = await Customer.get(number="100001")
    assert (erika.id, erika.name, erika.street, erika.phone) == (
        erika_id,
        "Erika Musterfrau",
        "Neue Straße 2",
        "",
    )
    assert (await Invoice.get(number="G-2025-100001")).amount_cents == -4000
    group_period = await ReadingPeriod.get(meter_group="FUNK-NORD")
    assert group_period.ends_on == dt.date(2025, 8, 15)
    assert await ReadingPeriod.all().count() == 2
    radio = await MeterReading.filter(meter__number="F-100001", read_on=dt.date(2025, 6, 30))
    assert [r.value for r in radio] == [Decimal("1235.500")]


async def test_a_column_left_out_of_the_file_keeps_its_values(app):
    await run_import("customers", *CUSTOMERS)

    report = await run_import("customers", "kundennummer;name", "100001;Erika Musterfrau")

    assert report.ok
    assert report.updated == 1
    erika = await Customer.get(number="100001")
    assert (erika.name, erika.street, erika.email) == (
        "Erika Musterfrau",
        "Hauptstraße 1",
        "erika@example.org",
    )


async def test_import_never_touches_the_online_consent(app):
    await run_import("customers", *CUSTOMERS)
    consent_at = dt.datetime(2025, 5, 1, 10, 0, tzinfo=dt.UTC)
    await Customer.filter(number="100001").update(
        online_consent=True, online_consent_at=consent_at, online_consent_version="2024-01"
    )

    await run_import("customers", CUSTOMERS[0], CUSTOMERS[1].replace("Erika", "Erika M."))

    erika = await Customer.get(number="100001")
    assert erika.name == "Erika M. Mustermann"
    assert (erika.online_consent, erika.online_consent_at, erika.online_consent_version) == (
        True,
        consent_at,
        "2024-01",
    )


async def test_main_meter_moves_to_another_meter_of_the_customer_in_one_file(app):
    await run_import("customers", *CUSTOMERS)
    await run_import("meters", *METERS)

    report = await run_import(
        "meters",
        "zaehlernummer;kundennummer;hauptzaehler;art;eingebaut_am",
        "F-100001;100001;ja;Funk;01.05.2019",
        "Z-100001;100001;nein;manuell;01.03.2015",
    )

    assert report.ok, report.problems
    mains = await Meter.filter(customer__number="100001", is_main=True).values_list(
        "number", flat=True
    )
    assert mains == ["F-100001"]


async def test_dry_run_reports_what_would_change_and_writes_nothing(app):
    await run_import("customers", *CUSTOMERS)

    report = await run_import(
        "customers",
        CUSTOMERS[0],
        CUSTOMERS[1].replace("Erika", "Erika M."),
        "100003;Nina Neukundin;Am Wasserturm 3;12345;Musterstadt;;",
        dry_run=True,
    )

    assert (report.ok, report.inserted, report.updated, report.unchanged) == (True, 1, 1, 0)
    assert "would import" in report.summary()
    assert await Customer.all().count() == 2
    assert (await Customer.get(number="100001")).name == "Erika Mustermann"


async def test_main_meter_moves_to_another_customer_while_the_first_gets_a_new_one(app):
    await run_import("customers", *CUSTOMERS)
    await run_import("meters", METERS[0], METERS[1], "Z-100002;100002;ja;manuell;;;01.01.2012;")

    report = await run_import(
        "meters",
        "zaehlernummer;kundennummer;hauptzaehler;art;eingebaut_am",
        "W-100001;100001;ja;manuell;01.06.2025",
        "Z-100001;100002;ja;manuell;01.03.2015",
        "Z-100002;100002;nein;manuell;01.01.2012",
    )

    assert report.problems == []
    assert (report.inserted, report.updated) == (1, 2)
    mains = await Meter.filter(is_main=True).order_by("customer__number")
    assert [(m.number, (await m.customer).number) for m in mains] == [
        ("W-100001", "100001"),
        ("Z-100001", "100002"),
    ]
