"""Moving out and in, as a customer meets them: report a move-out with a forwarding
address, give the final readings in their window, and ask customer service for a
move-in. Also the reading reminders' switch and the meters that are due.

The rules are pure functions in `models/moving.py` and `models/reminders.py`; a
final reading is stored by `resolvers.readings` (same checks, same storage, same
confirmation mail), only its window is the move-out's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

import clock
from mailers import format_when, is_valid_email, mask_address, queue_mail
from models import (
    ContactMessage,
    Customer,
    FinalReading,
    Meter,
    MeterKind,
    MeterReading,
    MoveOut,
    ReminderOptOut,
)
from models.customer_codes import CustomerErrorCode as C
from models.errors import Outcome, Problem
from models.moving import move_out_date_bounds, move_out_date_problem
from resolvers.accounts.addresses import clean_email
from resolvers.auth import enforce, require_login
from resolvers.context import Context, audit
from resolvers.customer_context import CustomerChoice, closed_problem, named_customer
from resolvers.customer_mail import confirm_by_mail
from resolvers.photos import checked_photo
from resolvers.readings import Submitted, parse_value, store_reading
from resolvers.reminders import MeterDue, day_text, meters_due
from security.ratelimit import Limits

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_GERMAN_POSTAL_CODE = re.compile(r"^\d{5}$")
ADDRESS_LIMITS = {"name": 200, "street": 200, "postal_code": 10, "city": 100}


# ------------------------------------------------------------------ moving out


@dataclass(frozen=True)
class ForwardingAddress:
    """Where the final invoice (Schlussrechnung) goes."""

    name: str
    street: str
    postal_code: str
    city: str
    country: str = "DE"

    def lines(self) -> list[str]:
        place = f"{self.postal_code} {self.city}"
        if self.country != "DE":
            place = f"{place} ({self.country})"
        return [self.name, self.street, place]


def clean_forwarding_address(
    raw: ForwardingAddress, path: tuple[str, ...]
) -> tuple[ForwardingAddress, list[Problem]]:
    """Trimmed and checked: every part required, lengths, a German postal code of 5 digits,
    a country as an ISO 3166 two-letter code."""
    problems: list[Problem] = []
    values: dict[str, str] = {}
    for name, limit in ADDRESS_LIMITS.items():
        value = " ".join(getattr(raw, name).split())
        where = (*path, _camel(name))
        if not value:
            problems.append(Problem(C.REQUIRED, where))
        elif len(value) > limit:
            problems.append(Problem(C.TOO_LONG, where, {"maximum": limit}))
        values[name] = value
    country = raw.country.strip().upper() or "DE"
    if not _COUNTRY.match(country):
        problems.append(Problem(C.COUNTRY_INVALID, (*path, "country")))
    postal = values["postal_code"]
    if country == "DE" and postal and len(postal) <= 10 and not _GERMAN_POSTAL_CODE.match(postal):
        problems.append(Problem(C.POSTAL_CODE_INVALID, (*path, "postalCode")))
    return ForwardingAddress(country=country, **values), problems


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def report_move_out(
    ctx: Context, choice: CustomerChoice, move_out_on: dt.date, address: ForwardingAddress
) -> Outcome[MoveOut]:
    """Record a move-out (once per customer number) and confirm it by mail; audited."""
    login = require_login(ctx)
    settings = ctx.settings
    customer = await named_customer(ctx, choice)
    if customer is None:
        return Outcome.failed(C.NOT_FOUND, *choice.field)
    if await MoveOut.filter(customer_id=customer.id).exists():
        return Outcome.failed(C.MOVE_OUT_ALREADY_REPORTED, *choice.field)
    today = clock.utility_today(settings.utility_timezone)
    limits = {
        "max_past_days": settings.move_out_max_past_days,
        "max_ahead_days": settings.move_out_max_ahead_days,
    }
    problems: list[Problem] = []
    if move_out_date_problem(move_out_on, today, **limits) is not None:
        allowed = move_out_date_bounds(today, **limits)
        problems.append(
            Problem(
                C.DATE_OUT_OF_RANGE,
                ("input", "moveOutOn"),
                {"earliest": allowed.earliest, "latest": allowed.latest},
            )
        )
    address, wrong = clean_forwarding_address(address, ("input", "forwardingAddress"))
    problems.extend(wrong)
    if problems:
        return Outcome(problems=problems)
    try:
        async with in_transaction() as conn:
            move_out = await MoveOut.create(
                customer_id=customer.id,
                move_out_on=move_out_on,
                forwarding_name=address.name,
                forwarding_street=address.street,
                forwarding_postal_code=address.postal_code,
                forwarding_city=address.city,
                forwarding_country=address.country,
                reported_by_login_id=login.id,
                reported_at=clock.now(),
                using_db=conn,
            )
            window = move_out.reading_window(days=settings.final_reading_window_days)
            meters = await Meter.filter(customer_id=customer.id, kind=MeterKind.MANUAL).using_db(
                conn
            )
            mailed_to = await confirm_by_mail(
                "move_out_reported",
                customer,
                login,
                settings,
                conn,
                move_out_on=day_text(move_out_on, login.locale),
                forwarding=address.lines(),
                window_starts_on=day_text(window.starts_on, login.locale),
                window_ends_on=day_text(window.ends_on, login.locale),
                meters=[
                    {"number": m.number, "value": None}
                    for m in sorted(meters, key=lambda m: m.number)
                    if not m.is_removed(today)
                ],
                link=settings.portal_url.rstrip("/") + settings.move_out_page_path,
            )
    except IntegrityError:  # the same report, sent twice at once
        return Outcome.failed(C.MOVE_OUT_ALREADY_REPORTED, *choice.field)
    await audit(ctx, "move_out_reported", login.id, customer_number=customer.number)
    return Outcome(move_out, mailed_to=mailed_to)


async def move_out_of(customer: Customer) -> MoveOut | None:
    return await MoveOut.get_or_none(customer_id=customer.id)


async def final_readings(move_out: MoveOut) -> list[tuple[Meter, MeterReading]]:
    """The final readings given so far, by meter number."""
    rows = await FinalReading.filter(move_out_id=move_out.id).select_related("meter", "reading")
    return sorted(((r.meter, r.reading) for r in rows), key=lambda pair: pair[0].number)


async def submit_final_reading(
    ctx: Context,
    choice: CustomerChoice,
    meter_number: str,
    value: Decimal,
    *,
    confirm_unusual: bool,
    photo: bytes | None,
) -> Outcome[Submitted]:
    """The final reading of a meter, taken within the window around the move-out date
    (reading period or not), with the checks every reading has."""
    require_login(ctx)
    settings = ctx.settings
    customer = await named_customer(ctx, choice)
    if customer is None:
        return Outcome.failed(C.NOT_FOUND, *choice.field)
    move_out = await move_out_of(customer)
    if move_out is None:
        return Outcome.failed(C.NO_MOVE_OUT, *choice.field)
    if problem := await closed_problem(customer):
        return Outcome(problems=[problem])
    meter = await Meter.get_or_none(customer_id=customer.id, number=meter_number.strip())
    if meter is None:
        return Outcome.failed(C.NOT_FOUND, "input", "meterNumber")
    today = clock.utility_today(settings.utility_timezone)
    if meter.is_read_remotely:
        return Outcome.failed(C.RADIO_METER, "input", "meterNumber", keyDate=None)
    if meter.is_removed(today):
        return Outcome.failed(C.METER_REMOVED, "input", "meterNumber")
    amount = parse_value(value)
    if amount is None:
        return Outcome.failed(C.VALUE_INVALID, "input", "value")
    window = move_out.reading_window(days=settings.final_reading_window_days)
    if not window.is_open(today):
        return Outcome.failed(
            C.OUTSIDE_FINAL_READING_WINDOW,
            startsOn=window.starts_on,
            endsOn=window.ends_on,
        )
    image, problem = await checked_photo(photo, settings, ("input", "photo"))
    if problem is not None:
        return Outcome(problems=[problem])
    return await store_reading(
        ctx,
        customer,
        meter,
        amount,
        confirm_unusual,
        None,
        meter_field=("input", "meterNumber"),
        image=image,
        final_for=move_out,
    )


# ------------------------------------------------------------ reading reminders


async def set_reading_reminders(
    ctx: Context, choice: CustomerChoice, enabled: bool
) -> Outcome[Customer]:
    """Switch the reading reminders of a customer number on or off (on by default; they
    go out only with the consent to online communication, R11)."""
    login = require_login(ctx)
    customer = await named_customer(ctx, choice)
    if customer is None:
        return Outcome.failed(C.NOT_FOUND, *choice.field)
    if enabled:
        await ReminderOptOut.filter(customer_id=customer.id).delete()
    elif not await ReminderOptOut.filter(customer_id=customer.id).exists():
        with contextlib.suppress(IntegrityError):  # switched off at once by another request
            await ReminderOptOut.create(
                customer_id=customer.id, login_id=login.id, created_at=clock.now()
            )
    return Outcome(customer)


async def reminders_enabled(customer: Customer) -> bool:
    return not await ReminderOptOut.filter(customer_id=customer.id).exists()


async def due_meters(ctx: Context, customer: Customer) -> list[MeterDue]:
    """The customer's manual meters with an open period and no reading in it yet, until
    when, and which reminders went out."""
    today = clock.utility_today(ctx.settings.utility_timezone)
    return [due for due in await meters_due([customer.id], today) if not due.has_reading]


# ------------------------------------------------------------------ moving in

MOVE_IN = "move_in"
"""The contact category of move-in requests: moving in is a new supply contract,
which customer service sets up; the portal only passes the request on."""
MOVE_IN_LIMITS = {"name": 200, "street": 200, "postalCode": 10, "city": 100, "phone": 40}


@dataclass(frozen=True)
class MoveInRequest:
    name: str
    street: str
    postal_code: str
    city: str
    move_in_on: dt.date
    email: str | None = None
    phone: str | None = None
    message: str | None = None
    customer_number: str | None = None


def _move_in_problems(
    ctx: Context, data: MoveInRequest, values: dict[str, str], email: str
) -> list[Problem]:
    settings = ctx.settings
    problems: list[Problem] = []
    for name, value in values.items():
        if not value and name != "phone":
            problems.append(Problem(C.REQUIRED, ("input", name)))
        elif len(value) > MOVE_IN_LIMITS[name]:
            limit = {"maximum": MOVE_IN_LIMITS[name]}
            problems.append(Problem(C.TOO_LONG, ("input", name), limit))
    if values["postalCode"] and not _GERMAN_POSTAL_CODE.match(values["postalCode"]):
        problems.append(Problem(C.POSTAL_CODE_INVALID, ("input", "postalCode")))
    if not is_valid_email(email):
        problems.append(Problem(C.EMAIL_INVALID, ("input", "email")))
    if len((data.message or "").strip()) > settings.contact_text_max_chars:
        limit = {"maximum": settings.contact_text_max_chars}
        problems.append(Problem(C.TOO_LONG, ("input", "message"), limit))
    today = clock.utility_today(settings.utility_timezone)
    allowed = move_out_date_bounds(
        today,
        max_past_days=settings.move_out_max_past_days,
        max_ahead_days=settings.move_out_max_ahead_days,
    )
    if not allowed.earliest <= data.move_in_on <= allowed.latest:
        params = {"earliest": allowed.earliest, "latest": allowed.latest}
        problems.append(Problem(C.DATE_OUT_OF_RANGE, ("input", "moveInOn"), params))
    return problems


async def request_move_in(ctx: Context, data: MoveInRequest) -> Outcome[int]:
    """Pass a move-in request to customer service like a contact message, in its own
    category (`move_in`); rate-limited per client address like the contact form. Anyone
    may send it; a logged-in login's address answers when none is given."""
    settings = ctx.settings
    await enforce(ctx, Limits.contact_per_address(settings), ctx.client_address)
    email = clean_email(data.email or (ctx.login.email if ctx.login else ""))
    values = {
        "name": " ".join(data.name.split()),
        "street": " ".join(data.street.split()),
        "postalCode": data.postal_code.strip(),
        "city": " ".join(data.city.split()),
        "phone": " ".join((data.phone or "").split()),
    }
    if problems := _move_in_problems(ctx, data, values, email):
        return Outcome(problems=problems)
    text = (data.message or "").strip()
    customer_number = (data.customer_number or "").strip()[:20]
    move_in_on = f"{data.move_in_on:%d.%m.%Y}"
    body = "\n".join(
        line
        for line in (
            f"Neue Anschrift: {values['street']}, {values['postalCode']} {values['city']}",
            f"Einzugsdatum: {move_in_on}",
            f"Telefon: {values['phone']}" if values["phone"] else "",
            text,
        )
        if line
    )
    async with in_transaction() as conn:
        message = await ContactMessage.create(
            department=MOVE_IN,
            name=values["name"],
            customer_number=customer_number,
            email=email,
            subject=f"Einzug {values['postalCode']} {values['city']} zum {move_in_on}"[:200],
            text=body,
            using_db=conn,
        )
        await queue_mail(
            "move_in_request",
            to=settings.move_in_department_address,
            locale="de",
            settings=settings,
            using_db=conn,
            reference=message.id,
            when=format_when(clock.now(), "de", settings),
            name=values["name"],
            street=values["street"],
            postal_code=values["postalCode"],
            city=values["city"],
            move_in_on=move_in_on,
            sender=email,
            customer_number=customer_number,
            text=text,
        )
    return Outcome(message.id, mailed_to=mask_address(settings.move_in_department_address))
