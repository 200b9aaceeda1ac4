"""The five kinds of file the billing system delivers: columns, rules, references, writes.

Each kind reads one row into a record (collecting every problem of the row), names
the row's natural key, checks what the rows refer to in the database, and writes
all rows with one batched upsert. `importer.import_data` runs them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import clock
from dataio.bulk import Bulk, Upsert
from dataio.csvformat import (
    FieldError,
    Problem,
    Row,
    parse_choice,
    parse_date,
    parse_decimal,
    parse_flag,
)
from models import InvoiceKind, MeterKind, ReadingSource

T = TypeVar("T")
_NO_BLANKS = re.compile(r"\S+")

INVOICE_KINDS = {
    "jahresabrechnung": InvoiceKind.ANNUAL,
    "annual": InvoiceKind.ANNUAL,
    "sonstige": InvoiceKind.OTHER,
    "other": InvoiceKind.OTHER,
}
METER_KINDS = {
    "manuell": MeterKind.MANUAL,
    "manual": MeterKind.MANUAL,
    "funk": MeterKind.RADIO,
    "radio": MeterKind.RADIO,
}
READING_SOURCES = {
    "funk": ReadingSource.RADIO,
    "radio": ReadingSource.RADIO,
    "ableser": ReadingSource.STAFF,
    "staff": ReadingSource.STAFF,
    "schaetzung": ReadingSource.ESTIMATE,
    "schätzung": ReadingSource.ESTIMATE,
    "estimate": ReadingSource.ESTIMATE,
}
UNITS = {"m3", "m³"}
MAX_AMOUNT_CENTS = 10**15
MAX_READING = Decimal("999999999.999")  # DECIMAL(12, 3)


class Fields:
    """The values of one row, parsed; every problem is collected, none raised."""

    __slots__ = ("errors", "values")

    def __init__(self, row: Row) -> None:
        self.values = row.values
        self.errors: list[str] = []

    def text(self, column: str, *, max_length: int, required: bool = False) -> str:
        value = self.values.get(column, "")
        if required and not value:
            self.errors.append(f"{column} is empty")
        elif len(value) > max_length:
            self.errors.append(f"{column} is longer than {max_length} characters")
        return value

    def key(self, column: str, *, max_length: int) -> str:
        """A number that identifies something (customer, invoice, meter): no blanks inside."""
        value = self.text(column, max_length=max_length, required=True)
        if value and not (value.isprintable() and _NO_BLANKS.fullmatch(value)):
            self.errors.append(f"{column} '{value}' contains blanks or control characters")
        return value

    def parsed(
        self, column: str, parse: Callable[..., T], *args: Any, required: bool = True
    ) -> T | None:
        value = self.values.get(column, "")
        if not value:
            if required:
                self.errors.append(f"{column} is empty")
            return None
        try:
            return parse(value, *args)
        except FieldError as error:
            self.errors.append(f"{column}: {error}")
            return None

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.errors.append(message)


def _date(value: Any) -> dt.date:
    """A date as the database returns it (SQLite: ISO text)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


class Kind:
    """What one kind of file holds: its columns, how a row reads, what it refers to."""

    name: ClassVar[str]
    required: ClassVar[tuple[str, ...]]
    optional: ClassVar[tuple[str, ...]] = ()

    def header_problems(self, columns: Sequence[str]) -> list[Problem]:
        return []

    def parse(self, f: Fields, line: int) -> Any:
        raise NotImplementedError

    def key(self, record: Any) -> Hashable:
        raise NotImplementedError

    def describe(self, key: Any) -> str:
        raise NotImplementedError

    async def check(self, records: list[Any], bulk: Bulk, today: dt.date) -> list[Problem]:
        """Problems with what the rows refer to; resolves references on the records."""
        return []

    async def existing(self, records: list[Any], bulk: Bulk) -> int:
        """How many of the rows' keys are in the database already."""
        raise NotImplementedError

    async def write(
        self, records: list[Any], bulk: Bulk, columns: set[str], advance: Callable[[int], None]
    ) -> int:
        raise NotImplementedError


async def customer_ids(bulk: Bulk, numbers: Iterable[str]) -> dict[str, int]:
    rows = await bulk.select_in(
        'SELECT "number", "id" FROM "customer" WHERE "number" {keys}', list(numbers)
    )
    return {r["number"]: r["id"] for r in rows}


async def existing_numbers(bulk: Bulk, table: str, numbers: Iterable[str]) -> set[str]:
    sql = f'SELECT "number" FROM "{table}" WHERE "number" {{keys}}'  # noqa: S608
    rows = await bulk.select_in(sql, numbers)
    return {r["number"] for r in rows}


def unknown_customers(records: Iterable[Any], ids: dict[str, int]) -> list[Problem]:
    problems = []
    for record in records:
        if (customer_id := ids.get(record.customer_number)) is None:
            problems.append(
                Problem(record.line, f"customer number {record.customer_number} is unknown")
            )
        else:
            record.customer_id = customer_id
    return problems


@dataclass(slots=True)
class CustomerRow:
    line: int
    number: str
    name: str
    street: str
    postal_code: str
    city: str
    phone: str
    email: str


class Customers(Kind):
    name = "customers"
    required = ("kundennummer", "name")
    optional = ("strasse", "plz", "ort", "telefon", "email")
    columns = {"strasse": "street", "plz": "postal_code", "ort": "city", "telefon": "phone"}

    def parse(self, f: Fields, line: int) -> CustomerRow:
        email = f.text("email", max_length=254)
        f.check(
            not email or (email.count("@") == 1 and " " not in email and "." in email),
            f"email '{email}' is not an e-mail address",
        )
        return CustomerRow(
            line,
            number=f.key("kundennummer", max_length=20),
            name=f.text("name", max_length=200, required=True),
            street=f.text("strasse", max_length=200),
            postal_code=f.text("plz", max_length=10),
            city=f.text("ort", max_length=100),
            phone=f.text("telefon", max_length=40),
            email=email,
        )

    def key(self, record: CustomerRow) -> str:
        return record.number

    def describe(self, key: str) -> str:
        return f"customer number {key}"

    async def existing(self, records: list[CustomerRow], bulk: Bulk) -> int:
        return len(await existing_numbers(bulk, "customer", (r.number for r in records)))

    async def write(
        self,
        records: list[CustomerRow],
        bulk: Bulk,
        columns: set[str],
        advance: Callable[[int], None],
    ) -> int:
        optional = tuple(self.columns.get(c, c) for c in self.optional if c in columns)
        upsert = Upsert(
            table="customer",
            columns=(
                ("number", "varchar"),
                ("name", "varchar"),
                ("street", "varchar"),
                ("postal_code", "varchar"),
                ("city", "varchar"),
                ("phone", "varchar"),
                ("email", "varchar"),
            ),
            conflict=("number",),
            update=("name", *optional),
            constants=(
                ("online_consent", "boolean"),
                ("created_at", "timestamptz"),
                ("updated_at", "timestamptz"),
            ),
            touch=("updated_at",),
        )
        now = clock.now()
        rows = [
            (r.number, r.name, r.street, r.postal_code, r.city, r.phone, r.email) for r in records
        ]
        return await bulk.upsert(
            upsert, rows, [r.line for r in records], (False, now, now), advance=advance
        )


@dataclass(slots=True)
class InvoiceRow:
    line: int
    number: str
    customer_number: str
    date: dt.date | None
    kind: InvoiceKind | None
    amount_cents: int | None
    customer_id: int = 0


class Invoices(Kind):
    name = "invoices"
    required = ("rechnungsnummer", "kundennummer", "rechnungsdatum", "art", "betrag")

    def parse(self, f: Fields, line: int) -> InvoiceRow:
        amount = f.parsed("betrag", parse_decimal, 2)
        cents = None if amount is None else int(amount * 100)
        if cents is not None and abs(cents) >= MAX_AMOUNT_CENTS:
            f.check(False, f"betrag {f.values['betrag']} is too large")
        return InvoiceRow(
            line,
            number=f.key("rechnungsnummer", max_length=30),
            customer_number=f.key("kundennummer", max_length=20),
            date=f.parsed("rechnungsdatum", parse_date),
            kind=f.parsed("art", parse_choice, INVOICE_KINDS),
            amount_cents=cents,
        )

    def key(self, record: InvoiceRow) -> str:
        return record.number

    def describe(self, key: str) -> str:
        return f"invoice number {key}"

    async def check(self, records: list[InvoiceRow], bulk: Bulk, today: dt.date) -> list[Problem]:
        ids = await customer_ids(bulk, (r.customer_number for r in records))
        return unknown_customers(records, ids)

    async def existing(self, records: list[InvoiceRow], bulk: Bulk) -> int:
        return len(await existing_numbers(bulk, "invoice", (r.number for r in records)))

    async def write(
        self,
        records: list[InvoiceRow],
        bulk: Bulk,
        columns: set[str],
        advance: Callable[[int], None],
    ) -> int:
        upsert = Upsert(
            table="invoice",
            columns=(
                ("number", "varchar"),
                ("customer_id", "int"),
                ("date", "date"),
                ("kind", "varchar"),
                ("amount_cents", "bigint"),
            ),
            conflict=("number",),
            update=("customer_id", "date", "kind", "amount_cents"),
        )
        rows = [(r.number, r.customer_id, r.date, str(r.kind), r.amount_cents) for r in records]
        return await bulk.upsert(upsert, rows, [r.line for r in records], advance=advance)


@dataclass(slots=True)
class MeterRow:
    line: int
    number: str
    customer_number: str
    is_main: bool | None
    kind: MeterKind | None
    group: str | None
    installed_on: dt.date | None
    removed_on: dt.date | None
    customer_id: int = 0
    moves_main: bool = False  # is the main meter of another customer now


class Meters(Kind):
    name = "meters"
    required = ("zaehlernummer", "kundennummer", "hauptzaehler", "art", "eingebaut_am")
    optional = ("einheit", "gruppe", "ausgebaut_am")

    def parse(self, f: Fields, line: int) -> MeterRow:
        unit = f.values.get("einheit", "")
        f.check(not unit or unit.lower() in UNITS, f"einheit '{unit}' is not m3")
        installed_on = f.parsed("eingebaut_am", parse_date)
        removed_on = f.parsed("ausgebaut_am", parse_date, required=False)
        if installed_on and removed_on:
            f.check(removed_on >= installed_on, "ausgebaut_am is before eingebaut_am")
        return MeterRow(
            line,
            number=f.key("zaehlernummer", max_length=30),
            customer_number=f.key("kundennummer", max_length=20),
            is_main=f.parsed("hauptzaehler", parse_flag, required=False) or False,
            kind=f.parsed("art", parse_choice, METER_KINDS),
            group=f.text("gruppe", max_length=30) or None,
            installed_on=installed_on,
            removed_on=removed_on,
        )

    def key(self, record: MeterRow) -> str:
        return record.number

    def describe(self, key: str) -> str:
        return f"meter number {key}"

    async def check(self, records: list[MeterRow], bulk: Bulk, today: dt.date) -> list[Problem]:
        ids = await customer_ids(bulk, (r.customer_number for r in records))
        problems = unknown_customers(records, ids)
        problems.extend(await self._main_meter_problems(records, bulk))
        return problems

    async def _main_meter_problems(self, records: list[MeterRow], bulk: Bulk) -> list[Problem]:
        """A customer has at most one main meter after the import (the database agrees)."""
        problems = []
        in_file = {r.number for r in records}
        mains: dict[int, MeterRow] = {}
        for record in records:
            if not record.is_main or not record.customer_id:
                continue
            if (first := mains.get(record.customer_id)) is not None:
                problems.append(
                    Problem(
                        record.line,
                        f"customer {record.customer_number} gets a second main meter "
                        f"(the first is {first.number} on line {first.line})",
                    )
                )
            else:
                mains[record.customer_id] = record
        moving = await bulk.select_in(
            'SELECT "number", "customer_id" FROM "meter" WHERE "is_main" AND "number" {keys}',
            [r.number for r in mains.values()],
        )
        by_number = {r.number: r for r in mains.values()}
        for row in moving:
            record = by_number[row["number"]]
            record.moves_main = row["customer_id"] != record.customer_id
        kept = await bulk.select_in(
            'SELECT "customer_id", "number" FROM "meter" WHERE "is_main" AND "customer_id" {keys}',
            list(mains),
        )
        for row in kept:
            if row["number"] not in in_file:
                record = mains[row["customer_id"]]
                problems.append(
                    Problem(
                        record.line,
                        f"customer {record.customer_number} already has the main meter "
                        f"{row['number']}, which this file leaves unchanged (list it with "
                        "hauptzaehler nein to replace it)",
                    )
                )
        return problems

    async def existing(self, records: list[MeterRow], bulk: Bulk) -> int:
        return len(await existing_numbers(bulk, "meter", (r.number for r in records)))

    async def write(
        self,
        records: list[MeterRow],
        bulk: Bulk,
        columns: set[str],
        advance: Callable[[int], None],
    ) -> int:
        optional = tuple(
            db
            for csv, db in (("gruppe", "group"), ("ausgebaut_am", "removed_on"))
            if csv in columns
        )
        upsert = Upsert(
            table="meter",
            columns=(
                ("number", "varchar"),
                ("customer_id", "int"),
                ("is_main", "boolean"),
                ("kind", "varchar"),
                ("group", "varchar"),
                ("installed_on", "date"),
                ("removed_on", "date"),
            ),
            conflict=("number",),
            update=("customer_id", "is_main", "kind", "installed_on", *optional),
            constants=(("unit", "varchar"),),
        )
        written = 0
        # The one-main-meter index is checked row by row: meters that stop being
        # a customer's main meter are written first (those listed with `nein`, and
        # main meters that move to another customer), then the main meters.
        moving = [r.number for r in records if r.moves_main]
        await bulk.select_in('UPDATE "meter" SET "is_main" = false WHERE "number" {keys}', moving)
        for main in (False, True):
            part = [r for r in records if r.is_main is main]
            rows = [
                (
                    r.number,
                    r.customer_id,
                    r.is_main,
                    str(r.kind),
                    r.group,
                    r.installed_on,
                    r.removed_on,
                )
                for r in part
            ]
            written += await bulk.upsert(
                upsert, rows, [r.line for r in part], ("m3",), advance=advance
            )
        return written


@dataclass(slots=True)
class PeriodRow:
    line: int
    meter_number: str
    group: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    key_date: dt.date | None
    meter_id: int | None = None


class ReadingPeriods(Kind):
    name = "reading-periods"
    required = ("beginn", "ende", "stichtag")
    optional = ("zaehlernummer", "gruppe")

    def header_problems(self, columns: Sequence[str]) -> list[Problem]:
        if "zaehlernummer" in columns or "gruppe" in columns:
            return []
        return [Problem(1, "column 'zaehlernummer' or 'gruppe' is missing")]

    def parse(self, f: Fields, line: int) -> PeriodRow:
        meter_number = f.text("zaehlernummer", max_length=30)
        group = f.text("gruppe", max_length=30)
        f.check(
            bool(meter_number) != bool(group),
            "give either zaehlernummer or gruppe"
            if not meter_number
            else "give either zaehlernummer or gruppe, not both",
        )
        starts_on = f.parsed("beginn", parse_date)
        ends_on = f.parsed("ende", parse_date)
        key_date = f.parsed("stichtag", parse_date)
        if starts_on and ends_on and ends_on < starts_on:
            f.check(False, "ende is before beginn")
        elif starts_on and ends_on and key_date:
            f.check(starts_on <= key_date <= ends_on, "stichtag is not within the period")
        return PeriodRow(line, meter_number, group, starts_on, ends_on, key_date)

    def key(self, record: PeriodRow) -> Hashable:
        return (record.meter_number, record.group, record.starts_on)

    def describe(self, key: tuple[str, str, dt.date]) -> str:
        meter_number, group, starts_on = key
        what = f"meter {meter_number}" if meter_number else f"group {group}"
        return f"the period of {what} beginning {starts_on:%d.%m.%Y}"

    async def check(self, records: list[PeriodRow], bulk: Bulk, today: dt.date) -> list[Problem]:
        meters = await bulk.select_in(
            'SELECT "number", "id" FROM "meter" WHERE "number" {keys}',
            [r.meter_number for r in records if r.meter_number],
        )
        ids = {m["number"]: m["id"] for m in meters}
        groups = await bulk.select_in(
            'SELECT DISTINCT "group" FROM "meter" WHERE "group" {keys}',
            [r.group for r in records if r.group],
        )
        known_groups = {g["group"] for g in groups}
        problems = []
        for record in records:
            if record.meter_number:
                record.meter_id = ids.get(record.meter_number)
                if record.meter_id is None:
                    problems.append(
                        Problem(record.line, f"meter number {record.meter_number} is unknown")
                    )
            elif record.group not in known_groups:
                problems.append(Problem(record.line, f"no meter is in group {record.group}"))
        return problems

    async def existing(self, records: list[PeriodRow], bulk: Bulk) -> int:
        by_meter = await bulk.select_in(
            'SELECT "meter_id", "starts_on" FROM "reading_period" WHERE "meter_id" {keys}',
            [r.meter_id for r in records if r.meter_id],
        )
        by_group = await bulk.select_in(
            'SELECT "meter_group", "starts_on" FROM "reading_period"'
            ' WHERE "meter_id" IS NULL AND "meter_group" {keys}',
            [r.group for r in records if r.group],
        )
        keys = {(p["meter_id"], _date(p["starts_on"])) for p in by_meter}
        keys |= {(p["meter_group"], _date(p["starts_on"])) for p in by_group}
        return sum((r.meter_id or r.group, r.starts_on) in keys for r in records)

    async def write(
        self,
        records: list[PeriodRow],
        bulk: Bulk,
        columns: set[str],
        advance: Callable[[int], None],
    ) -> int:
        dates = (("starts_on", "date"), ("ends_on", "date"), ("key_date", "date"))
        of_meter = Upsert(
            table="reading_period",
            columns=(("meter_id", "int"), *dates),
            conflict=("meter_id", "starts_on"),
            update=("ends_on", "key_date"),
        )
        of_group = Upsert(
            table="reading_period",
            columns=(("meter_group", "varchar"), *dates),
            conflict=("meter_group", "starts_on"),
            where='"meter_id" IS NULL',
            update=("ends_on", "key_date"),
        )
        written = 0
        for upsert, part in (
            (of_meter, [r for r in records if r.meter_id]),
            (of_group, [r for r in records if not r.meter_id]),
        ):
            rows = [(r.meter_id or r.group, r.starts_on, r.ends_on, r.key_date) for r in part]
            written += await bulk.upsert(upsert, rows, [r.line for r in part], advance=advance)
        return written


@dataclass(slots=True)
class ReadingRow:
    line: int
    meter_number: str
    read_on: dt.date | None
    value: Decimal | None
    source: ReadingSource
    meter_id: int = 0


class RadioReadings(Kind):
    """Readings the utility took: by radio, or (column `quelle`) by staff or estimated."""

    name = "radio-readings"
    required = ("zaehlernummer", "ablesedatum", "zaehlerstand")
    optional = ("quelle",)

    def parse(self, f: Fields, line: int) -> ReadingRow:
        source = ReadingSource.RADIO
        if f.values.get("quelle", "").lower() in ("kunde", "customer"):
            f.check(False, "quelle: customer readings come from the portal, not from an import")
        else:
            source = f.parsed("quelle", parse_choice, READING_SOURCES, required=False) or source
        value = f.parsed("zaehlerstand", parse_decimal, 3)
        if value is not None:
            f.check(0 <= value <= MAX_READING, "zaehlerstand must be between 0 and 999999999,999")
        return ReadingRow(
            line,
            meter_number=f.key("zaehlernummer", max_length=30),
            read_on=f.parsed("ablesedatum", parse_date),
            value=value,
            source=source,
        )

    def key(self, record: ReadingRow) -> Hashable:
        return (record.meter_number, record.read_on, record.source)

    def describe(self, key: tuple[str, dt.date, ReadingSource]) -> str:
        meter_number, read_on, source = key
        return f"the {source} reading of meter {meter_number} on {read_on:%d.%m.%Y}"

    async def check(self, records: list[ReadingRow], bulk: Bulk, today: dt.date) -> list[Problem]:
        meters = await bulk.select_in(
            'SELECT "number", "id", "kind", "installed_on", "removed_on" FROM "meter"'
            ' WHERE "number" {keys}',
            [r.meter_number for r in records],
        )
        by_number = {m["number"]: m for m in meters}
        problems = []
        for record in records:
            assert record.read_on is not None
            meter = by_number.get(record.meter_number)
            reason = None
            if meter is None:
                reason = f"meter number {record.meter_number} is unknown"
            elif record.read_on > today:
                reason = f"ablesedatum {record.read_on:%d.%m.%Y} is in the future"
            elif record.source == ReadingSource.RADIO and meter["kind"] != MeterKind.RADIO:
                reason = f"meter {record.meter_number} is not a radio meter"
            elif record.read_on < _date(meter["installed_on"]):
                reason = f"meter {record.meter_number} was not installed yet on that date"
            elif meter["removed_on"] and record.read_on > _date(meter["removed_on"]):
                reason = f"meter {record.meter_number} was removed before that date"
            if reason:
                problems.append(Problem(record.line, reason))
            else:
                # `meter` is not None in this branch; mypy does not narrow across the elifs.
                record.meter_id = meter["id"]  # type: ignore[index]
        return problems

    async def existing(self, records: list[ReadingRow], bulk: Bulk) -> int:
        dates = [r.read_on for r in records if r.read_on]
        rows = await bulk.select_in(
            'SELECT "meter_id", "read_on", "source" FROM "meter_reading" WHERE "meter_id" {keys}'
            ' AND "source" <> \'customer\' AND "read_on" BETWEEN {p1} AND {p2}',
            [r.meter_id for r in records],
            min(dates),
            max(dates),
        )
        keys = {(r["meter_id"], _date(r["read_on"]), str(r["source"])) for r in rows}
        return sum((r.meter_id, r.read_on, str(r.source)) in keys for r in records)

    async def write(
        self,
        records: list[ReadingRow],
        bulk: Bulk,
        columns: set[str],
        advance: Callable[[int], None],
    ) -> int:
        upsert = Upsert(
            table="meter_reading",
            columns=(
                ("meter_id", "int"),
                ("read_on", "date"),
                ("source", "varchar"),
                ("value", "numeric"),
            ),
            conflict=("meter_id", "read_on", "source"),
            where="\"source\" <> 'customer'",
            update=("value",),
            constants=(("created_at", "timestamptz"),),
        )
        places = Decimal("0.001")
        # `value` is set on every row that passed `check`; the field is optional only while parsing.
        rows = [
            (r.meter_id, r.read_on, str(r.source), r.value.quantize(places))  # type: ignore[union-attr]
            for r in records
        ]
        return await bulk.upsert(
            upsert,
            rows,
            [r.line for r in records],
            (clock.now(),),
            advance=advance,
        )


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (Customers(), Invoices(), Meters(), ReadingPeriods(), RadioReadings())
}
