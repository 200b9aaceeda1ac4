"""The files follow German CSV conventions: `;`, decimal comma, TT.MM.JJJJ, UTF-8 with BOM."""

from __future__ import annotations

import codecs
import datetime as dt
from decimal import Decimal

import pytest

from dataio.csvformat import FieldError, column_name, parse_date, parse_decimal, parse_flag
from dataio.importer import import_data
from models import Customer, Invoice, Meter, MeterReading

TODAY = dt.date(2025, 6, 30)


async def test_a_spreadsheet_export_with_bom_crlf_quotes_and_german_numbers_imports(app):
    customers = (
        codecs.BOM_UTF8
        + (
            "Kundennummer;Name;Straße;PLZ;Ort;Telefon;E-Mail\r\n"
            '100001;"Mustermann; Erika";"Hauptstraße 1\r\nHinterhaus";12345;Musterstadt;;\r\n'
            "100002; Max Müller ;Bahnhofstraße 7;12345;Musterstadt;;\r\n"
            ";;;;;;\r\n"
            "\r\n"
        ).encode()
    )
    invoices = codecs.BOM_UTF8 + (
        b"Rechnungsnummer;Kundennummer;Rechnungsdatum;Art;Betrag\r\n"
        b"R-1;100001;20.01.2025;Jahresabrechnung;1.234.567,89\r\n"
        b"R-2;100002;2025-02-03;Jahresabrechnung;0,5\r\n"
        b"G-1;100002;1.3.2025;Sonstige;-1.000\r\n"
    )
    meters = (
        "Zähler-Nummer;Kundennummer;Hauptzähler;Art;Eingebaut am\n"
        "F-1;100001;X;Funk;1.5.2019\n"
        "Z-2;100002;J;manuell;2012-01-01\n"
    ).encode()
    readings = "Zählernummer;Ablesedatum;Zählerstand\nF-1;30.06.2025;12.345,678\n".encode()

    reports = [
        await import_data(kind, data, kind, today=TODAY)
        for kind, data in (
            ("customers", customers),
            ("invoices", invoices),
            ("meters", meters),
            ("radio-readings", readings),
        )
    ]

    assert [(r.problems, r.rows) for r in reports] == [([], 2), ([], 3), ([], 2), ([], 1)]
    erika = await Customer.get(number="100001")
    assert (erika.name, erika.street) == ("Mustermann; Erika", "Hauptstraße 1\r\nHinterhaus")
    assert (await Customer.get(number="100002")).name == "Max Müller"
    amounts = await Invoice.all().order_by("number").values_list("number", "date", "amount_cents")
    assert amounts == [
        ("G-1", dt.date(2025, 3, 1), -100000),
        ("R-1", dt.date(2025, 1, 20), 123456789),
        ("R-2", dt.date(2025, 2, 3), 50),
    ]
    assert await Meter.all().order_by("number").values_list("number", "is_main") == [
        ("F-1", True),
        ("Z-2", True),
    ]
    assert (await MeterReading.get(meter__number="F-1")).value == Decimal("12345.678")


async def test_line_numbers_count_physical_lines_of_the_file(app):
    data = (
        'kundennummer;name;strasse\n100001;Erika;"Hauptstraße 1\nHinterhaus"\n\n100002;;Weg 2\n'
    ).encode()

    report = await import_data("customers", data, "kunden.csv", today=TODAY)

    assert [(p.line, p.message) for p in report.problems] == [(5, "name is empty")]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", Decimal("0")),
        ("1234", Decimal("1234")),
        ("1234,5", Decimal("1234.5")),
        ("1.234,56", Decimal("1234.56")),
        ("1.234.567", Decimal("1234567")),
        ("-35,00", Decimal("-35.00")),
        ("0,125", Decimal("0.125")),
    ],
)
def test_german_numbers_are_read(text, value):
    assert parse_decimal(text, 3) == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("12.50", "use a decimal comma (12,50)"),
        ("1.23,4", "is not a number"),
        ("12,5.0", "is not a number"),
        ("1 234", "is not a number"),
        ("+5", "is not a number"),
        ("abc", "is not a number"),
        ("1,2345", "more than 3 decimal places"),
    ],
)
def test_numbers_not_in_german_form_are_refused_with_a_hint(text, reason):
    with pytest.raises(FieldError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_decimal(text, 3)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("31.12.2024", dt.date(2024, 12, 31)),
        ("1.2.2025", dt.date(2025, 2, 1)),
        ("2024-12-31", dt.date(2024, 12, 31)),
        ("29.02.2024", dt.date(2024, 2, 29)),
    ],
)
def test_german_and_iso_dates_are_read(text, day):
    assert parse_date(text) == day


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("29.02.2025", "is not a valid date"),
        ("31.12.24", "is not a date"),
        ("12/31/2024", "is not a date"),
        ("2024-1-5", "is not a date"),
        ("01.01.0202", "the year must be between 1900 and 2199"),
    ],
)
def test_dates_in_other_forms_are_refused(text, reason):
    with pytest.raises(FieldError, match=reason):
        parse_date(text)


def test_flags_and_header_names_are_read_the_german_way():
    assert [parse_flag(w) for w in ("ja", "J", "1", "x", "true", "Wahr")] == [True] * 6
    assert [parse_flag(w) for w in ("nein", "N", "0", "", "false", "falsch")] == [False] * 6
    with pytest.raises(FieldError):
        parse_flag("vielleicht")
    assert [column_name(h) for h in (" Zählernummer ", "Eingebaut am", "E-Mail", "Straße")] == [
        "zaehlernummer",
        "eingebaut_am",
        "email",
        "strasse",
    ]
