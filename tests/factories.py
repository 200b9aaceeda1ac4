"""Test data, one way: master data as the billing system imports it, logins as the
product stores them, and users who registered and logged in through the API.

    household = await make_household(TODAY, "100001")          # customer, invoices, meters
    login, token = await logged_in(settings, household.customer)  # a session, made directly
    customer = await make_customer_with_proofs("100001")      # for registering through the API
    token = await register_and_login(client, mailbox, customer=customer)

Most tests take a role's fixture instead (tests/conftest.py): `client` (anonymous),
`customer` (a logged-in customer with a household), `staff` (the command line).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

import clock
from models import (
    BankAccount,
    BudgetPlan,
    Customer,
    Invoice,
    InvoiceKind,
    Language,
    Login,
    LoginCustomer,
    LoginState,
    Meter,
    MeterKind,
    MeterReading,
    MoveOut,
    PaymentMethod,
    ReadingPeriod,
    ReadingSource,
    Rhythm,
)
from security.bankdata import cipher_for
from security.passwords import PasswordHasher
from security.sessions import start_session
from settings import Settings
from tests.conftest import Mailbox, gql, pin_from

PASSWORD = "Tiefbrunnen#42"
"""The password of every login the tests make, unless a test chooses another."""
NOW = dt.datetime(2025, 3, 10, 9, 0, tzinfo=dt.UTC)
"""Where the `clock` fixture (tests/conftest.py) starts the tests that ask for it."""
TODAY = NOW.date()
BCRYPT_ROUNDS = 4
"""The cost the test settings hash with (tests/conftest.py `settings`)."""

_counter = iter(range(1, 1_000_000))


def _next() -> int:
    return next(_counter)


# ------------------------------------------------------------------ operations

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) {
    errors { code field message }
    mailedTo expiresAt resendAvailableAt registrationExpiresAt
  }
}
"""

CONFIRM_PIN = """
mutation ConfirmPin($email: String!, $pin: String!) {
  confirmPin(input: { email: $email, pin: $pin }) { errors { code field message } confirmed }
}
"""

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: { email: $email, password: $password }) {
    errors { code field message }
    token csrfToken sessionExpiresAt mailedTo deviceToken
    account { email customerNumbers }
  }
}
"""


def codes(payload: dict[str, Any]) -> list[str]:
    """The error codes of a payload, in order."""
    return [e["code"] for e in payload["errors"]]


def close_to(value: str, expected: dt.datetime, seconds: float = 5) -> bool:
    """Whether the ISO time `value` lies within `seconds` of `expected`."""
    return abs((dt.datetime.fromisoformat(value) - expected).total_seconds()) <= seconds


# ----------------------------------------------------------------- master data


async def make_customer(number: str | None = None, **fields: object) -> Customer:
    """A customer as imported from billing, with base data and nothing else."""
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


@dataclass
class CustomerWithProofs:
    """A customer with two invoices and two meters, numbered after the customer: the
    latest invoice and the main meter are what registering asks for (R1)."""

    row: Customer
    number: str
    latest_invoice: str
    older_invoice: str
    main_meter: str
    other_meter: str


async def make_customer_with_proofs(
    number: str = "100001",
    *,
    name: str = "Erika Mustermann",
    annual_bill: bool = True,
    today: dt.date | None = None,
) -> CustomerWithProofs:
    """A customer who can register. Without `annual_bill` both invoices are of another
    kind (R2 refuses it)."""
    today = today or clock.now().date()
    row = await make_customer(number, name=name, email=f"kunde{number}@example.org")
    kind = InvoiceKind.ANNUAL if annual_bill else InvoiceKind.OTHER
    older, latest = [
        await make_invoice(
            row, f"R-{letter}-{number}", date=today - dt.timedelta(days=days), kind=kind
        )
        for letter, days in (("A", 400), ("B", 35))
    ]
    main = await make_meter(row, f"Z-{number}", main=True, installed_on=dt.date(2015, 1, 1))
    other = await make_meter(
        row, f"F-{number}", kind=MeterKind.RADIO, installed_on=dt.date(2018, 1, 1)
    )
    return CustomerWithProofs(row, number, latest.number, older.number, main.number, other.number)


# ---------------------------------------------------------- logins, made directly


async def hash_password(password: str) -> str:
    """The password as the product stores it: through its own hasher, at the tests' cost."""
    hasher = PasswordHasher(BCRYPT_ROUNDS, workers=1, queue_limit=1)
    try:
        return await hasher.hash(password)
    finally:
        hasher.close()


async def make_login(
    *customers: Customer,
    email: str | None = None,
    password: str = PASSWORD,
    locale: str = "de",
) -> Login:
    """An active, confirmed login holding `customers`, without going through the API."""
    address = email or f"user{_next()}@example.org"
    login = await Login.create(
        email=address,
        email_key=address.lower(),
        password_hash=await hash_password(password),
        state=LoginState.ACTIVE,
        confirmed_at=clock.now(),
        preferred_language=Language(locale),
    )
    for customer in customers:
        await LoginCustomer.create(login=login, customer=customer)
    return login


async def session_token(login: Login, settings: Settings) -> str:
    """A Bearer token of a new session of `login`, started as a login would."""
    _, token = await start_session(login, settings, client="pytest", address="203.0.113.7")
    return token


async def logged_in(
    settings: Settings, *customers: Customer, **login_fields: Any
) -> tuple[Login, str]:
    login = await make_login(*customers, **login_fields)
    return login, await session_token(login, settings)


# ------------------------------------------------------ users, through the API


def register_input(
    customer: CustomerWithProofs,
    *,
    email: str = "erika@example.org",
    password: str = PASSWORD,
    invoice: str | None = None,
    meter: str | None = None,
) -> dict[str, Any]:
    """Variables for REGISTER; by default proves the customer with its latest invoice."""
    data: dict[str, Any] = {
        "customerNumber": customer.number,
        "email": email,
        "password": password,
    }
    if invoice is None and meter is None:
        invoice = customer.latest_invoice
    if invoice is not None:
        data["invoiceNumber"] = invoice
    if meter is not None:
        data["meterNumber"] = meter
    return {"input": data}


async def register(
    client: httpx.AsyncClient,
    mailbox: Mailbox,
    customer: CustomerWithProofs,
    *,
    email: str = "erika@example.org",
    password: str = PASSWORD,
    confirm: bool = True,
) -> str:
    """Register `email` for `customer` (and confirm with the mailed PIN); returns the PIN."""
    before = len(mailbox.to(email))
    result = await gql(client, REGISTER, register_input(customer, email=email, password=password))
    assert result.data["register"]["errors"] == [], result.data
    pin = pin_from(await mailbox.last_text(email, before + 1))
    if confirm:
        confirmed = await gql(client, CONFIRM_PIN, {"email": email, "pin": pin})
        assert confirmed.data["confirmPin"] == {"errors": [], "confirmed": True}, confirmed.data
    return pin


async def log_in(
    client: httpx.AsyncClient,
    email: str = "erika@example.org",
    password: str = PASSWORD,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Log in through the API and return the payload (token, csrfToken, …); the client
    keeps no cookie."""
    result = await gql(client, LOGIN, {"email": email, "password": password}, headers=headers)
    assert result.errors is None, result.errors
    payload = result.data["login"]
    assert payload["errors"] == [], payload
    client.cookies.clear()
    return payload


async def register_and_login(
    client: httpx.AsyncClient,
    mailbox: Mailbox,
    *,
    customer: CustomerWithProofs | None = None,
    email: str = "erika@example.org",
    password: str = PASSWORD,
) -> str:
    """A confirmed, logged-in user; returns its session token (send as Bearer).

    Makes customer 100001 unless one is given.
    """
    customer = customer or await make_customer_with_proofs()
    await register(client, mailbox, customer, email=email, password=password)
    return (await log_in(client, email, password))["token"]


async def reported_move_out(
    customer: Customer, move_out_on: dt.date, at: dt.datetime | None = None
) -> MoveOut:
    """A move-out as the portal stores it once reported."""
    return await MoveOut.create(
        customer=customer,
        move_out_on=move_out_on,
        forwarding_name="Erika Mustermann",
        forwarding_street="Neue Straße 2",
        forwarding_postal_code="54321",
        forwarding_city="Anderswo",
        reported_at=at or clock.now(),
    )


async def make_budget_plan(customer: Customer, **fields: object) -> BudgetPlan:
    """A monthly plan of 45 euros from 15 January 2025, 20 to 1,200 euros allowed."""
    plan: dict[str, object] = {
        "amount_cents": 4500,
        "rhythm": Rhythm.MONTHLY,
        "first_due_on": dt.date(2025, 1, 15),
        "calculated_cents": 4500,
        "minimum_cents": 2000,
        "maximum_cents": 120000,
        "consumption_m3": Decimal("110"),
        "price_per_m3": Decimal("4.5"),
    }
    return await BudgetPlan.create(customer=customer, **{**plan, **fields})


async def make_direct_debit(
    customer: Customer, settings: Settings, **fields: object
) -> BankAccount:
    """Payment by direct debit from the sample IBAN, as billing's import stores it."""
    return await BankAccount.create(
        customer=customer,
        method=PaymentMethod.DIRECT_DEBIT,
        iban_encrypted=cipher_for(settings).encrypt("DE89370400440532013000"),
        iban_masked="DE89 **** **** **** **30 00",
        holder="Erika Mustermann",
        **fields,
    )
