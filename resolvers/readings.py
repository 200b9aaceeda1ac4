"""Meter readings: what a customer sees of their meters and how they submit a
reading (R13–R15).

The rules of when a reading is accepted are pure functions (`Meter.reading_window`,
`assess_reading`) that tests call without a database; `submit_reading` loads
what they need, inside one transaction that locks the meter, and stores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

import clock
from documents.store import open_store
from models import (
    Customer,
    FinalReading,
    Login,
    Meter,
    MeterPhoto,
    MeterReading,
    MoveOut,
    ReadingPeriod,
    ReadingSource,
)
from models.customer_codes import CustomerErrorCode as C
from models.customers import ReadingWindow, WindowState
from models.errors import Outcome, Problem
from resolvers.auth import require_login
from resolvers.context import Context
from resolvers.customer_context import (
    ACTIVE,
    CustomerChoice,
    closed_problem,
    find_meter,
    named_customer,
)
from resolvers.customer_mail import confirm_by_mail
from resolvers.loaders import (
    Loaded,
    forget,
    last_readings_by_meter,
    peek,
    period_key,
    periods_by_meter,
    reading_pages,
    readings_by_meter,
)
from resolvers.photos import attach_photo, checked_photo
from security.images import CleanImage

MAX_VALUE = Decimal("999999999.999")
MAX_IDEMPOTENCY_KEY = 100


def current_readings(history: Sequence[MeterReading]) -> list[MeterReading]:
    """Readings that stand, newest first: corrected ones are kept but replaced."""
    valid = [r for r in history if r.replaced_by_id is None]
    return sorted(valid, key=lambda r: (r.read_on, r.id or 0), reverse=True)


async def reading_window(ctx: Context, meter: Meter) -> ReadingWindow:
    periods = await periods_by_meter(ctx).load(period_key(meter))
    return meter.reading_window(periods, clock.utility_today(ctx.settings.utility_timezone))


def known_reading_window(ctx: Context, meter: Meter) -> ReadingWindow | None:
    """`reading_window` when the meter's periods are loaded already (the dashboard read
    primes them), else None."""
    periods = peek(periods_by_meter(ctx), period_key(meter))
    if periods is None:
        return None
    return meter.reading_window(periods.value, clock.utility_today(ctx.settings.utility_timezone))


async def reading_history(ctx: Context, meter: Meter) -> list[MeterReading]:
    """All readings of the meter, newest first, corrected ones included."""
    return await readings_by_meter(ctx).load(meter.id)


async def last_reading(ctx: Context, meter: Meter) -> MeterReading | None:
    """The newest reading that stands, picked by the database (one statement per batch)."""
    return await last_readings_by_meter(ctx).load(meter.id)


def known_last_reading(ctx: Context, meter: Meter) -> Loaded[MeterReading | None] | None:
    """`last_reading` when it is loaded already (the dashboard read primes it), else None."""
    return peek(last_readings_by_meter(ctx), meter.id)


def window_problem(
    window: ReadingWindow, meter_field: tuple[str, ...] | None = None
) -> Problem | None:
    """The error for a meter that takes no reading now: why, and when it will
    (what `Meter.reading_window` found). A radio or removed meter is the meter the
    client named (`meter_field`); a closed period is no input's fault."""
    dates = {"startsOn": window.starts_on, "endsOn": window.ends_on, "keyDate": window.key_date}
    match window.state:
        case WindowState.OPEN:
            return None
        case WindowState.RADIO:
            return Problem(C.RADIO_METER, meter_field, dates)
        case WindowState.REMOVED:
            return Problem(C.METER_REMOVED, meter_field)
        case _:
            return Problem(C.OUTSIDE_READING_PERIOD, None, dates)


@dataclass(frozen=True)
class Assessment:
    """What a new value means: a problem, or the reading it corrects (if any)."""

    problem: Problem | None = None
    corrects: MeterReading | None = None


def assess_reading(
    meter: Meter,
    window: ReadingWindow,
    history: Sequence[MeterReading],
    value: Decimal,
    *,
    on: dt.date,
    confirm_unusual: bool,
    factor: float,
    floor_m3: float,
    meter_field: tuple[str, ...] | None = None,
) -> Assessment:
    """Whether the customer's `value` is taken now (pure, no database).

    Refused outside the period or for radio meters (`window_problem`); refused
    below the last reading unless the meter was exchanged since; a value far
    above the expected use needs `confirm_unusual`. A customer's reading already
    sent in the open period is corrected, not added to: the new value is checked
    against the reading before it.
    """
    if problem := window_problem(window, meter_field):
        return Assessment(problem)
    assert window.starts_on is not None and window.ends_on is not None
    standing = current_readings(history)
    corrects = next(
        (
            r
            for r in standing
            if r.source == ReadingSource.CUSTOMER
            and window.starts_on <= r.read_on <= window.ends_on
        ),
        None,
    )
    before = [r for r in standing if r is not corrects]
    last = before[0] if before else None
    if last is None:
        return Assessment(corrects=corrects)
    if value < Decimal(last.value) and not meter.was_exchanged_since(last):
        params = {"lastValue": Decimal(last.value), "lastReadOn": last.read_on}
        return Assessment(Problem(C.BELOW_LAST_READING, ("input", "value"), params))
    ceiling = meter.usual_ceiling(before, last, on, factor=factor, floor_m3=floor_m3)
    if ceiling is not None and value > ceiling and not confirm_unusual:
        params = {"usualMaximum": ceiling.quantize(Decimal("0.001"))}
        return Assessment(Problem(C.UNUSUAL_CONSUMPTION, ("input", "confirmUnusual"), params))
    return Assessment(corrects=corrects)


def parse_value(value: Decimal) -> Decimal | None:
    """A reading in m³: not negative, at most 3 decimals, fits the column."""
    try:
        if not value.is_finite() or value < 0 or value > MAX_VALUE:
            return None
        exact = value.quantize(Decimal("0.001"))
    except InvalidOperation:
        return None
    return exact if exact == value else None


@dataclass(frozen=True)
class Submitted:
    reading: MeterReading
    corrected: MeterReading | None
    meter: Meter


async def submit_reading(
    ctx: Context,
    *,
    meter_pk: int | None,
    meter_number: str | None,
    value: Decimal,
    confirm_unusual: bool,
    idempotency_key: str | None,
    photo: bytes | None = None,
    choice: CustomerChoice = ACTIVE,
) -> Outcome[Submitted]:
    """Take a reading of a meter of the chosen customer (named, else the active one),
    with a photo of the meter if given, and mail it back."""
    login = require_login(ctx)
    customer = await named_customer(ctx, choice)
    if customer is None:
        return Outcome.failed(C.NOT_FOUND, *choice.field)
    meter_field = ("input", "meterId" if meter_pk is not None else "meterNumber")
    if (meter_pk is None) == (meter_number is None):
        return Outcome(problems=[Problem(C.CHOICE_REQUIRED)])
    meter = await find_meter(ctx, customer, meter_pk, meter_number)
    if meter is None:
        return Outcome(problems=[Problem(C.NOT_FOUND, meter_field)])
    amount = parse_value(value)
    if amount is None:
        return Outcome(problems=[Problem(C.VALUE_INVALID, ("input", "value"))])
    key = (idempotency_key or "").strip() or None
    if key is not None and len(key) > MAX_IDEMPOTENCY_KEY:
        problem = Problem(C.TOO_LONG, ("input", "idempotencyKey"), {"maximum": MAX_IDEMPOTENCY_KEY})
        return Outcome(problems=[problem])
    if closed := await closed_problem(customer):
        return Outcome(problems=[closed])
    image, refused = await checked_photo(photo, ctx.settings, ("input", "photo"))
    if refused is not None:
        return Outcome(problems=[refused])
    try:
        outcome = await store_reading(
            ctx, customer, meter, amount, confirm_unusual, key, meter_field=meter_field, image=image
        )
    except IntegrityError:
        # The same key, sent for another meter at the same moment, won the race
        # (the database's unique key): answer as a retry would be answered.
        if key is not None and (replay := await _replay(login, key, meter, amount)) is not None:
            return replay
        raise
    forget(readings_by_meter(ctx), meter.id)
    forget(last_readings_by_meter(ctx), meter.id)
    reading_pages(ctx).clear_all()
    return outcome


async def _replay(
    login: Login, key: str, meter: Meter, value: Decimal, conn: Any = None
) -> Outcome[Submitted] | None:
    """A retried submission with the same idempotency key: the first answer again, no new row
    and no mail (so `mailedTo` is None: nothing was mailed this time)."""
    earlier = (
        await MeterReading.filter(submitted_by_id=login.id, idempotency_key=key)
        .using_db(conn)
        .first()
    )
    if earlier is None:
        return None
    if earlier.meter_id != meter.id or Decimal(earlier.value) != value:
        return Outcome(problems=[Problem(C.IDEMPOTENCY_KEY_REUSED, ("input", "idempotencyKey"))])
    return await _answered_again(earlier, meter, conn)


async def _answered_again(earlier: MeterReading, meter: Meter, conn: Any) -> Outcome[Submitted]:
    """The answer for a reading already taken: what it corrected then; nothing mailed now."""
    corrected = await MeterReading.filter(replaced_by_id=earlier.id).using_db(conn).first()
    return Outcome(Submitted(earlier, corrected, meter))


def same_reading_today(
    history: Sequence[MeterReading], value: Decimal, today: dt.date
) -> MeterReading | None:
    """The customer's standing reading of today with exactly this value: a second sending of
    it (a double tap, a retry without an idempotency key) is that reading, not a correction."""
    return next(
        (
            r
            for r in current_readings(history)
            if r.source == ReadingSource.CUSTOMER
            and r.read_on == today
            and Decimal(r.value) == value
        ),
        None,
    )


async def store_reading(
    ctx: Context,
    customer: Customer,
    meter: Meter,
    value: Decimal,
    confirm_unusual: bool,
    key: str | None,
    *,
    meter_field: tuple[str, ...],
    image: CleanImage | None = None,
    final_for: MoveOut | None = None,
) -> Outcome[Submitted]:
    """Check and store a customer's reading in one transaction that locks the meter.

    `meter_field`: the input the client named the meter by (a radio or removed meter's
    error points at it). `final_for`: the final reading of that move-out, taken in its
    window instead of a reading period (the caller checked the window is open). `image`:
    a photo of the meter, already re-encoded, stored with the reading.
    """
    login = require_login(ctx)
    settings = ctx.settings
    today = clock.utility_today(settings.utility_timezone)
    async with in_transaction() as conn:
        # One submission per meter at a time: the checks below see what the other wrote,
        # a retry included (SQLite runs one transaction at a time anyway).
        await Meter.filter(id=meter.id).select_for_update().using_db(conn).first()
        if key is not None and (replay := await _replay(login, key, meter, value, conn)):
            return replay
        applies = Q(meter_id=meter.id)
        if meter.group:
            applies |= Q(meter_group=meter.group)
        periods = await ReadingPeriod.filter(applies).using_db(conn)
        history = await MeterReading.filter(meter_id=meter.id).using_db(conn)
        if final_for is None:
            window = meter.reading_window(periods, today)
        else:
            final = final_for.reading_window(days=settings.final_reading_window_days)
            window = ReadingWindow(WindowState.OPEN, final.starts_on, final.ends_on)
        same = same_reading_today(history, value, today) if final_for is None else None
        if same is not None and window_problem(window) is None:
            has_photo = await MeterPhoto.filter(reading_id=same.id).using_db(conn).exists()
            if image is None or not has_photo:
                # The photo of a second sending is kept when the reading had none yet;
                # a second photo for a photographed reading is a correction (below).
                if image is not None:
                    await attach_photo(open_store(settings), same, image, login.id, conn)
                return await _answered_again(same, meter, conn)
        assessment = assess_reading(
            meter,
            window,
            history,
            value,
            on=today,
            confirm_unusual=confirm_unusual,
            factor=settings.reading_confirm_factor,
            floor_m3=settings.reading_confirm_floor_m3,
            meter_field=meter_field,
        )
        if assessment.problem is not None:
            return Outcome(problems=[assessment.problem])
        reading = await MeterReading.create(
            meter_id=meter.id,
            value=value,
            read_on=today,
            source=ReadingSource.CUSTOMER,
            submitted_by_id=login.id,
            idempotency_key=key,
            using_db=conn,
        )
        corrected = assessment.corrects
        if corrected is not None:
            corrected.replaced_by_id = reading.id
            await corrected.save(using_db=conn, update_fields=["replaced_by_id"])
        if final_for is not None:
            await _record_final_reading(final_for, meter, reading, conn)
        if image is not None:
            await attach_photo(open_store(settings), reading, image, login.id, conn)
        mailed_to = await confirm_by_mail(
            "reading_received",
            customer,
            login,
            settings,
            conn,
            meter_number=meter.number,
            value=format_m3(value, login.locale),
            read_on=format_day(today, login.locale),
            corrected_value=format_m3(Decimal(corrected.value), login.locale)
            if corrected
            else None,
        )
    return Outcome(Submitted(reading, corrected, meter), mailed_to=mailed_to)


async def _record_final_reading(
    move_out: MoveOut, meter: Meter, reading: MeterReading, conn: Any
) -> None:
    """The move-out's final reading of `meter` is now `reading` (a new one replaces it)."""
    moved = (
        await FinalReading.filter(move_out_id=move_out.id, meter_id=meter.id)
        .using_db(conn)
        .update(reading_id=reading.id)
    )
    if not moved:
        await FinalReading.create(
            move_out_id=move_out.id, meter_id=meter.id, reading_id=reading.id, using_db=conn
        )


def format_m3(value: Decimal, locale: str) -> str:
    """`1.234,5` in German, `1,234.5` in English; trailing zeros of the 3 decimals dropped."""
    text = f"{value.quantize(Decimal('0.001')):,.3f}".rstrip("0").rstrip(".")
    if locale == "de":
        text = text.translate(str.maketrans(",.", ".,"))
    return text


def format_day(day: dt.date, locale: str) -> str:
    return day.strftime("%d.%m.%Y") if locale == "de" else day.isoformat()
