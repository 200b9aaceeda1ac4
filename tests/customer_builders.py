"""Small builders for customer-area tests: master data as the billing system
would import it, and a logged-in login with a Bearer token.

The login is made directly (active, confirmed, bcrypt hash at cost 4) and its
session by `security.sessions.start_session`, so that these tests do not depend
on the registration and login mutations.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import bcrypt

from models import (
    Customer,
    Invoice,
    InvoiceKind,
    Login,
    LoginCustomer,
    LoginState,
    Meter,
    MeterKind,
    MeterReading,
    ReadingPeriod,
    ReadingSource,
)
from security.sessions import start_session
from settings import Settings

PASSWORD = "Wasser!2024"
NOW = dt.datetime(2025, 3, 10, 9, 0, tzinfo=dt.UTC)
"""Where the `clock` fixture (tests/conftest.py) starts the tests that ask for it."""
TODAY = NOW.date()
_counter = iter(range(1, 1_000_000))


def _next() -> int:
    return next(_counter)


async def make_customer(number: str | None = None, **fields: object) -> Customer:
    defaults: dict[str, object] = {
        "name": "Erika Mustermann",
        "street": "Hauptstraße 1",
        "postal_code": "12345",
        "city": "Musterstadt",
        "phone": "+49 30 1234567",
        "email": "erika.post@example.org",
    }
    return await Customer.create(number=number or f"{100000 + _next()}", **{**defaults, **fields})


async def make_invoice(
    customer: Customer,
    number: str | None = None,
    *,
    date: dt.date = dt.date(2024, 1, 20),
    kind: InvoiceKind = InvoiceKind.ANNUAL,
    amount_cents: int = 43890,
) -> Invoice:
    return await Invoice.create(
        customer=customer,
        number=number or f"R-{_next()}",
        date=date,
        kind=kind,
        amount_cents=amount_cents,
    )


async def make_meter(
    customer: Customer,
    number: str | None = None,
    *,
    main: bool = False,
    kind: MeterKind = MeterKind.MANUAL,
    installed_on: dt.date = dt.date(2015, 3, 1),
    removed_on: dt.date | None = None,
    group: str | None = None,
) -> Meter:
    return await Meter.create(
        customer=customer,
        number=number or f"Z-{_next()}",
        is_main=main,
        kind=kind,
        installed_on=installed_on,
        removed_on=removed_on,
        group=group,
    )


async def make_period(
    starts_on: dt.date,
    ends_on: dt.date,
    *,
    meter: Meter | None = None,
    group: str | None = None,
    key_date: dt.date | None = None,
) -> ReadingPeriod:
    return await ReadingPeriod.create(
        meter=meter,
        meter_group=group,
        starts_on=starts_on,
        ends_on=ends_on,
        key_date=key_date or ends_on,
    )


async def make_reading(
    meter: Meter,
    value: str | Decimal,
    read_on: dt.date,
    *,
    source: ReadingSource = ReadingSource.STAFF,
) -> MeterReading:
    return await MeterReading.create(
        meter=meter, value=Decimal(value), read_on=read_on, source=source
    )


@dataclass
class Household:
    """A customer as the demo has them: annual bills, a manual main meter with
    yearly readings and an open period, and a radio garden meter."""

    customer: Customer
    latest_invoice: Invoice
    main: Meter
    radio: Meter


async def make_household(today: dt.date, number: str | None = None, **fields: object) -> Household:
    customer = await make_customer(number, **fields)
    year = today.year
    await make_invoice(customer, date=dt.date(year - 2, 1, 20))
    latest = await make_invoice(customer, date=dt.date(year - 1, 1, 20))
    main = await make_meter(customer, main=True)
    radio = await make_meter(customer, kind=MeterKind.RADIO, installed_on=dt.date(2019, 5, 1))
    await make_period(today - dt.timedelta(days=10), today + dt.timedelta(days=20), meter=main)
    await make_period(today - dt.timedelta(days=10), today + dt.timedelta(days=20), meter=radio)
    for years_ago, value in ((3, "812.000"), (2, "905.500"), (1, "1001.250")):
        await make_reading(main, value, dt.date(year - years_ago, 12, 15))
    await make_reading(radio, "40.000", dt.date(year - 1, 12, 31), source=ReadingSource.RADIO)
    return Household(customer, latest, main, radio)


async def make_login(
    *customers: Customer,
    email: str | None = None,
    password: str = PASSWORD,
    locale: str = "de",
) -> Login:
    address = email or f"user{_next()}@example.org"
    login = await Login.create(
        email=address,
        email_key=address.lower(),
        password_hash=bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode(),
        state=LoginState.ACTIVE,
        confirmed_at=dt.datetime.now(dt.UTC),
        locale=locale,
    )
    for customer in customers:
        await LoginCustomer.create(login=login, customer=customer)
    return login


async def log_in(login: Login, settings: Settings) -> str:
    """A Bearer token of a new session of `login`."""
    _, token = await start_session(login, settings, client="pytest", address="203.0.113.7")
    return token


async def logged_in(
    settings: Settings, *customers: Customer, **login_fields: object
) -> tuple[Login, str]:
    login = await make_login(*customers, **login_fields)  # type: ignore[arg-type]
    return login, await log_in(login, settings)
