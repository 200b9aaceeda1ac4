"""Moving out (Umzug): the report, the forwarding address and the final readings.

The rules are pure functions: which move-out dates a customer may report, and
the window around the move-out date in which final readings are taken. The
billing system closes a move-out with the final invoice (Schlussrechnung);
from then on the customer number is read-only in the portal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model

from models.customers import Customer, Meter, MeterReading


class MoveOutDateProblem(StrEnum):
    """Why a move-out date is refused."""

    TOO_FAR_PAST = "too_far_past"
    TOO_FAR_AHEAD = "too_far_ahead"


@dataclass(frozen=True)
class DateBounds:
    """The first and last day a move-out may be reported for, on a given day."""

    earliest: dt.date
    latest: dt.date


def move_out_date_bounds(today: dt.date, *, max_past_days: int, max_ahead_days: int) -> DateBounds:
    """A move-out lies at most `max_past_days` back and `max_ahead_days` ahead of today."""
    return DateBounds(
        today - dt.timedelta(days=max_past_days), today + dt.timedelta(days=max_ahead_days)
    )


def move_out_date_problem(
    move_out_on: dt.date, today: dt.date, *, max_past_days: int, max_ahead_days: int
) -> MoveOutDateProblem | None:
    """Whether `move_out_on` may be reported today, and if not, which bound it misses."""
    bounds = move_out_date_bounds(today, max_past_days=max_past_days, max_ahead_days=max_ahead_days)
    if move_out_on < bounds.earliest:
        return MoveOutDateProblem.TOO_FAR_PAST
    if move_out_on > bounds.latest:
        return MoveOutDateProblem.TOO_FAR_AHEAD
    return None


@dataclass(frozen=True)
class FinalReadingWindow:
    """The days on which the final reading (Schlusszählerstand) of a move-out is taken."""

    starts_on: dt.date
    ends_on: dt.date

    def is_open(self, on: dt.date) -> bool:
        return self.starts_on <= on <= self.ends_on

    def has_opened(self, on: dt.date) -> bool:
        return on >= self.starts_on

    def has_closed(self, on: dt.date) -> bool:
        return on > self.ends_on


def final_reading_window(move_out_on: dt.date, *, days: int) -> FinalReadingWindow:
    """`days` before to `days` after the move-out date, regardless of reading periods."""
    span = dt.timedelta(days=days)
    return FinalReadingWindow(move_out_on - span, move_out_on + span)


class MoveOut(Model):
    """Auszug: a customer's report of moving out of the supply address.

    One per customer. The forwarding address receives the final invoice
    (Schlussrechnung); `final_invoice_number` is set by the billing system's
    import, and from then on the customer number takes no readings or changes.
    """

    id = fields.IntField(primary_key=True)
    customer: fields.OneToOneRelation[Customer] = fields.OneToOneField(
        "models.Customer", related_name="move_out", on_delete=fields.CASCADE
    )
    customer_id: int
    move_out_on = fields.DateField()
    forwarding_name = fields.CharField(max_length=200)
    forwarding_street = fields.CharField(max_length=200)
    forwarding_postal_code = fields.CharField(max_length=10)
    forwarding_city = fields.CharField(max_length=100)
    forwarding_country = fields.CharField(max_length=2, default="DE")
    reported_by_login_id = fields.IntField(null=True)
    reported_at = fields.DatetimeField()
    window_reminder_sent_at = fields.DatetimeField(null=True)
    final_invoice_number = fields.CharField(max_length=30, null=True)
    final_invoiced_on = fields.DateField(null=True)

    final_readings: fields.ReverseRelation[FinalReading]

    class Meta:
        table = "move_out"
        indexes = [("reported_at",)]
        constraints = [
            CheckConstraint(
                check="(final_invoice_number IS NULL) = (final_invoiced_on IS NULL)",
                name="ck_move_out_final_invoice",
            ),
        ]

    @property
    def is_closed(self) -> bool:
        """The final invoice is out: the customer number is history only."""
        return self.final_invoice_number is not None

    def reading_window(self, *, days: int) -> FinalReadingWindow:
        return final_reading_window(self.move_out_on, days=days)


class FinalReading(Model):
    """The final reading of one meter for a move-out: which reading it is.

    The reading itself is an ordinary customer reading (`MeterReading`), so
    history, export and consumption see it like every other.
    """

    id = fields.IntField(primary_key=True)
    move_out: fields.ForeignKeyRelation[MoveOut] = fields.ForeignKeyField(
        "models.MoveOut", related_name="final_readings", on_delete=fields.CASCADE
    )
    move_out_id: int
    meter: fields.ForeignKeyRelation[Meter] = fields.ForeignKeyField(
        "models.Meter", related_name=False, on_delete=fields.CASCADE
    )
    meter_id: int
    reading: fields.OneToOneRelation[MeterReading] = fields.OneToOneField(
        "models.MeterReading", related_name=False, on_delete=fields.CASCADE
    )
    reading_id: int

    class Meta:
        table = "final_reading"
        unique_together = [("move_out_id", "meter_id")]
