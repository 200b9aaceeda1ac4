"""Master data of the billing system: customers, invoices, meters, periods, readings."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model


class InvoiceKind(StrEnum):
    ANNUAL = "annual"
    OTHER = "other"


class MeterKind(StrEnum):
    MANUAL = "manual"
    RADIO = "radio"


class ReadingSource(StrEnum):
    CUSTOMER = "customer"
    RADIO = "radio"
    STAFF = "staff"
    ESTIMATE = "estimate"


class WindowState(StrEnum):
    """Where a meter stands with respect to customer readings."""

    OPEN = "open"
    UPCOMING = "upcoming"
    NONE = "none"
    RADIO = "radio"
    REMOVED = "removed"


@dataclass(frozen=True)
class ReadingWindow:
    """A meter's reading window on a day: open until …, next from … to …, or radio read on …"""

    state: WindowState
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    key_date: dt.date | None = None

    @property
    def accepts_readings(self) -> bool:
        return self.state == WindowState.OPEN


class Customer(Model):
    """Kunde: a billing customer, identified by its Kundennummer.

    Base data (Basisdaten) and the consent to online communication
    (Onlinekunde) live here; the billing system owns the row.
    """

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=20, unique=True)
    name = fields.CharField(max_length=200)
    street = fields.CharField(max_length=200, default="")
    postal_code = fields.CharField(max_length=10, default="")
    city = fields.CharField(max_length=100, default="")
    phone = fields.CharField(max_length=40, default="")
    email = fields.CharField(max_length=254, default="")
    online_consent = fields.BooleanField(default=False)
    online_consent_at = fields.DatetimeField(null=True)
    online_consent_version = fields.CharField(max_length=20, null=True)
    online_consent_login_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "customer"
        constraints = [
            CheckConstraint(check="length(number) > 0", name="ck_customer_number_nonempty"),
            CheckConstraint(
                check="online_consent = false OR online_consent_at IS NOT NULL",
                name="ck_customer_consent_time",
            ),
        ]


class Invoice(Model):
    """Rechnung: an invoice, kind `annual` is the Jahresverbrauchsabrechnung (R2)."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="invoices", on_delete=fields.CASCADE
    )
    customer_id: int
    number = fields.CharField(max_length=30, unique=True)
    date = fields.DateField()
    kind = fields.CharEnumField(InvoiceKind, max_length=10)
    amount_cents = fields.BigIntField()

    class Meta:
        table = "invoice"
        indexes = [("customer_id", "date")]
        constraints = [
            CheckConstraint(check="kind IN ('annual', 'other')", name="ck_invoice_kind"),
        ]


class Meter(Model):
    """Zähler: one per customer is the Hauptzähler, radio meters (Funkzähler) are read remotely."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="meters", on_delete=fields.CASCADE
    )
    customer_id: int
    number = fields.CharField(max_length=30, unique=True)
    is_main = fields.BooleanField(default=False)
    kind = fields.CharEnumField(MeterKind, max_length=10)
    unit = fields.CharField(max_length=5, default="m3")
    group = fields.CharField(max_length=30, null=True)
    installed_on = fields.DateField()
    removed_on = fields.DateField(null=True)

    class Meta:
        table = "meter"
        indexes = [("customer_id",)]
        constraints = [
            CheckConstraint(check="kind IN ('manual', 'radio')", name="ck_meter_kind"),
            CheckConstraint(check="unit = 'm3'", name="ck_meter_unit"),
            CheckConstraint(
                check="removed_on IS NULL OR removed_on >= installed_on",
                name="ck_meter_removed_after_installed",
            ),
        ]

    @property
    def is_read_remotely(self) -> bool:
        """R14: radio meters are read by the utility on the key date, never by the customer."""
        return self.kind == MeterKind.RADIO

    def is_removed(self, on: dt.date) -> bool:
        return self.removed_on is not None and self.removed_on <= on

    def reading_window(self, periods: Iterable[ReadingPeriod], on: dt.date) -> ReadingWindow:
        """R15: whether the customer can submit a reading on `on`, and if not, why.

        `periods` are those of this meter and of its group. Open: until when.
        Not open: when the next period is (or that none is announced). Radio
        meter: the key date it is read remotely on, the next one if known,
        else the last one.
        """
        ordered = sorted(periods, key=lambda p: (p.starts_on, p.ends_on))
        if self.is_removed(on):
            return ReadingWindow(WindowState.REMOVED)
        if self.is_read_remotely:
            coming = [p.key_date for p in ordered if p.key_date >= on]
            past = [p.key_date for p in ordered if p.key_date < on]
            key_date = min(coming) if coming else (max(past) if past else None)
            return ReadingWindow(WindowState.RADIO, key_date=key_date)
        current = next((p for p in ordered if p.is_open(on)), None)
        if current is not None:
            return ReadingWindow(
                WindowState.OPEN, current.starts_on, current.ends_on, current.key_date
            )
        upcoming = next((p for p in ordered if p.starts_on > on), None)
        if upcoming is not None:
            return ReadingWindow(
                WindowState.UPCOMING, upcoming.starts_on, upcoming.ends_on, upcoming.key_date
            )
        return ReadingWindow(WindowState.NONE)

    def was_exchanged_since(self, reading: MeterReading) -> bool:
        """The device was replaced after `reading` was taken: the count started anew,
        so a lower value is no error. The billing system records an exchange as a
        new `installed_on` of the meter."""
        return self.installed_on > reading.read_on

    def usual_ceiling(
        self,
        history: Sequence[MeterReading],
        last: MeterReading,
        on: dt.date,
        *,
        factor: float,
        floor_m3: float,
        years: int = 3,
    ) -> Decimal | None:
        """The highest value on `on` that is not unusual, or None when nothing is known.

        Expected use per day comes from the readings of the present device
        (since `installed_on`) in the last `years` years before `last`; a value
        is unusual when the use since `last` exceeds `factor` times the expected
        use and also `floor_m3` (short gaps make the expectation tiny).
        """
        if self.was_exchanged_since(last):
            return None
        start = last.read_on - dt.timedelta(days=365 * years)
        known = [
            r
            for r in history
            if r.replaced_by_id is None
            and max(self.installed_on, start) <= r.read_on <= last.read_on
        ]
        if not known:
            return None
        first = min(known, key=lambda r: (r.read_on, r.id or 0))
        days = (last.read_on - first.read_on).days
        if days < 30:
            return None
        per_day = (Decimal(last.value) - Decimal(first.value)) / days
        expected = max(per_day, Decimal(0)) * (on - last.read_on).days
        allowed = max(expected * Decimal(str(factor)), Decimal(str(floor_m3)))
        return Decimal(last.value) + allowed

    def yearly_consumption(self, history: Iterable[MeterReading]) -> list[tuple[int, Decimal]]:
        """Use per calendar year, for charts: each step between two consecutive valid
        readings counts for the year of the later one. A step across a device
        exchange is left out (the new device started at its own count); corrected
        (replaced) readings are ignored."""
        valid = sorted(
            (r for r in history if r.replaced_by_id is None),
            key=lambda r: (r.read_on, r.id or 0),
        )
        totals: dict[int, Decimal] = {}
        for before, after in itertools.pairwise(valid):
            if before.read_on < self.installed_on <= after.read_on:
                continue
            use = Decimal(after.value) - Decimal(before.value)
            year = after.read_on.year
            totals[year] = totals.get(year, Decimal(0)) + max(use, Decimal(0))
        return sorted(totals.items())


class ReadingPeriod(Model):
    """Ableseperiode for one meter or a meter group, with its Stichtag (key date)."""

    id = fields.IntField(primary_key=True)
    meter: fields.ForeignKeyNullableRelation[Meter] = fields.ForeignKeyField(
        "models.Meter", related_name="reading_periods", null=True, on_delete=fields.CASCADE
    )
    meter_id: int | None
    meter_group = fields.CharField(max_length=30, null=True)
    starts_on = fields.DateField()
    ends_on = fields.DateField()
    key_date = fields.DateField()

    class Meta:
        table = "reading_period"
        indexes = [("meter_id", "ends_on"), ("meter_group", "ends_on")]
        constraints = [
            CheckConstraint(check="ends_on >= starts_on", name="ck_period_ends_after_start"),
            CheckConstraint(
                check="meter_id IS NOT NULL OR meter_group IS NOT NULL",
                name="ck_period_has_meter_or_group",
            ),
        ]

    def is_open(self, on: dt.date) -> bool:
        """R13: a reading may be submitted only within the period."""
        return self.starts_on <= on <= self.ends_on


class MeterReading(Model):
    """Zählerstand: a value in m³ on a date, with where it came from.

    A corrected reading keeps the earlier row, marked `replaced_by`.
    """

    id = fields.IntField(primary_key=True)
    meter: fields.ForeignKeyRelation[Meter] = fields.ForeignKeyField(
        "models.Meter", related_name="readings", on_delete=fields.CASCADE
    )
    meter_id: int
    value = fields.DecimalField(max_digits=12, decimal_places=3)
    read_on = fields.DateField()
    source = fields.CharEnumField(ReadingSource, max_length=10)
    submitted_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    replaced_by: fields.ForeignKeyNullableRelation[MeterReading] = fields.ForeignKeyField(
        "models.MeterReading", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    replaced_by_id: int | None
    idempotency_key = fields.CharField(max_length=100, null=True)

    class Meta:
        table = "meter_reading"
        indexes = [("meter_id", "read_on")]
        unique_together = [("submitted_by_id", "idempotency_key")]
        constraints = [
            CheckConstraint(check="value >= 0", name="ck_reading_value_nonnegative"),
            CheckConstraint(
                check="source IN ('customer', 'radio', 'staff', 'estimate')",
                name="ck_reading_source",
            ),
        ]

    @property
    def value_decimal(self) -> Decimal:
        return Decimal(self.value)
