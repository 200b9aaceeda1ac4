"""Master data of the billing system: customers, invoices, meters, periods, readings."""

from __future__ import annotations

import datetime as dt
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
        constraints = [
            CheckConstraint(check="kind IN ('manual', 'radio')", name="ck_meter_kind"),
            CheckConstraint(check="unit = 'm3'", name="ck_meter_unit"),
            CheckConstraint(
                check="removed_on IS NULL OR removed_on >= installed_on",
                name="ck_meter_removed_after_installed",
            ),
        ]


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
