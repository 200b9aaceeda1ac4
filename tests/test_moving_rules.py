"""The rules of moving out and of reading reminders as pure functions, without a
database: move-out date bounds, the final-reading window, who gets which reminder."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from tortoise import Tortoise

from models import MeterReading, ReadingPeriod, ReadingSource, ReminderKind
from models.moving import MoveOutDateProblem, final_reading_window, move_out_date_problem
from models.reminders import due_reminder

D = dt.date
TODAY = D(2025, 3, 10)


@pytest.fixture(autouse=True, scope="module")
def _models():
    Tortoise.init_models(["models"], "models")


def bounds(day: dt.date) -> MoveOutDateProblem | None:
    return move_out_date_problem(day, TODAY, max_past_days=28, max_ahead_days=183)


def test_move_out_date_may_lie_four_weeks_back_and_six_months_ahead():
    assert bounds(TODAY) is None
    assert bounds(TODAY - dt.timedelta(days=28)) is None
    assert bounds(TODAY + dt.timedelta(days=183)) is None


def test_move_out_date_further_back_or_ahead_is_refused_with_the_bound_it_misses():
    assert bounds(TODAY - dt.timedelta(days=29)) is MoveOutDateProblem.TOO_FAR_PAST
    assert bounds(TODAY + dt.timedelta(days=184)) is MoveOutDateProblem.TOO_FAR_AHEAD


def test_final_reading_window_spans_the_set_days_around_the_move_out_date():
    window = final_reading_window(D(2025, 4, 1), days=14)
    assert (window.starts_on, window.ends_on) == (D(2025, 3, 18), D(2025, 4, 15))
    assert not window.is_open(D(2025, 3, 17))
    assert window.is_open(D(2025, 3, 18))
    assert window.is_open(D(2025, 4, 15))
    assert not window.is_open(D(2025, 4, 16))
    assert window.has_closed(D(2025, 4, 16))


PERIOD = ReadingPeriod(
    id=1, starts_on=D(2025, 3, 1), ends_on=D(2025, 3, 31), key_date=D(2025, 3, 15)
)


def reading(read_on: dt.date, replaced_by_id: int | None = None) -> MeterReading:
    return MeterReading(
        id=1,
        meter_id=1,
        value=Decimal("10"),
        read_on=read_on,
        source=ReadingSource.CUSTOMER,
        replaced_by_id=replaced_by_id,
    )


def due(on: dt.date, readings=(), sent=()) -> ReminderKind | None:
    return due_reminder(PERIOD, readings, sent, today=on, days_before_close=7)


def test_opening_reminder_is_due_once_while_the_period_is_open():
    assert due(D(2025, 3, 1)) is ReminderKind.OPENED
    assert due(D(2025, 3, 5), sent=[ReminderKind.OPENED]) is None


def test_no_reminder_before_or_after_the_period():
    assert due(D(2025, 2, 28)) is None
    assert due(D(2025, 4, 1)) is None


def test_closing_reminder_is_due_once_from_the_set_days_before_the_end():
    assert due(D(2025, 3, 23), sent=[ReminderKind.OPENED]) is None
    assert due(D(2025, 3, 24), sent=[ReminderKind.OPENED]) is ReminderKind.CLOSING
    assert due(D(2025, 3, 30), sent=[ReminderKind.OPENED, ReminderKind.CLOSING]) is None


def test_a_late_first_run_sends_only_the_closing_reminder():
    assert due(D(2025, 3, 28)) is ReminderKind.CLOSING


def test_no_reminder_after_a_reading_arrived_in_the_period():
    assert due(D(2025, 3, 2), readings=[reading(D(2025, 3, 1))]) is None
    assert due(D(2025, 3, 28), readings=[reading(D(2025, 3, 1))]) is None


def test_readings_before_the_period_or_corrected_do_not_count():
    assert due(D(2025, 3, 2), readings=[reading(D(2025, 2, 27))]) is ReminderKind.OPENED
    assert due(D(2025, 3, 2), readings=[reading(D(2025, 3, 1), 7)]) is ReminderKind.OPENED
