"""Reading reminders: a mail when a reading period opens, one more before it closes.

Who gets which reminder is a pure function (`due_reminder`); the job that
mails them (`resolvers/reminders.py`) writes a `ReadingReminder` marker in the same
transaction as the mail, and the marker is unique per meter, period and kind:
a crash and a restart never mail twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import StrEnum

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model

from models.customers import Customer, Meter, MeterReading, ReadingPeriod


class ReminderKind(StrEnum):
    """OPENED: the period has begun. CLOSING: it ends soon and no reading arrived."""

    OPENED = "opened"
    CLOSING = "closing"


def closing_from(period: ReadingPeriod, *, days_before_close: int) -> dt.date:
    """The first day on which the closing reminder is due."""
    return max(period.starts_on, period.ends_on - dt.timedelta(days=days_before_close))


def has_reading_in(period: ReadingPeriod, readings: Iterable[MeterReading]) -> bool:
    """A standing reading (any source) dated within the period: nothing to remind of."""
    return any(
        r.replaced_by_id is None and period.starts_on <= r.read_on <= period.ends_on
        for r in readings
    )


def due_reminder(
    period: ReadingPeriod,
    readings: Iterable[MeterReading],
    sent: Iterable[ReminderKind],
    *,
    today: dt.date,
    days_before_close: int,
) -> ReminderKind | None:
    """Which reminder one meter is due for in `period` today, if any.

    Only while the period is open and no reading arrived. From `days_before_close`
    days before the end it is the closing reminder (once); before that, the
    opening one (once). A meter whose opening mail was never sent (the job did
    not run) gets only the closing one: never two mails at once.
    """
    if not period.is_open(today) or has_reading_in(period, readings):
        return None
    done = set(sent)
    if today >= closing_from(period, days_before_close=days_before_close):
        return None if ReminderKind.CLOSING in done else ReminderKind.CLOSING
    if done:
        return None
    return ReminderKind.OPENED


class ReadingReminder(Model):
    """A reminder sent for one meter and reading period: the marker that keeps it to once."""

    id = fields.BigIntField(primary_key=True)
    meter: fields.ForeignKeyRelation[Meter] = fields.ForeignKeyField(
        "models.Meter", related_name=False, on_delete=fields.CASCADE
    )
    meter_id: int
    period: fields.ForeignKeyRelation[ReadingPeriod] = fields.ForeignKeyField(
        "models.ReadingPeriod", related_name=False, on_delete=fields.CASCADE
    )
    period_id: int
    kind = fields.CharEnumField(ReminderKind, max_length=10)
    login_id = fields.IntField(null=True)
    sent_at = fields.DatetimeField()

    class Meta:
        table = "reading_reminder"
        unique_together = [("meter_id", "period_id", "kind")]
        indexes = [("period_id",)]
        constraints = [
            CheckConstraint(check="kind IN ('opened', 'closing')", name="ck_reminder_kind"),
        ]


class ReminderOptOut(Model):
    """A customer who switched reading reminders off (they are on by default with consent)."""

    id = fields.IntField(primary_key=True)
    customer: fields.OneToOneRelation[Customer] = fields.OneToOneField(
        "models.Customer", related_name=False, on_delete=fields.CASCADE
    )
    customer_id: int
    login_id = fields.IntField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "reminder_opt_out"
