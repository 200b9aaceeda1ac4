"""Builders for account tests: customers as the billing system has them (made with
`tests.customer_builders`), and users who registered and logged in through the API.

customer = await make_customer("100001")
token = await register_and_login(client, mailbox, customer=customer)
result = await gql(client, "{ me { email } }", token=token)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import httpx

import clock
from models import Customer, InvoiceKind, MeterKind
from tests import customer_builders as data
from tests.conftest import Mailbox, gql, pin_from

PASSWORD = "Tiefbrunnen#42"

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
  confirmPin(email: $email, pin: $pin) { errors { code field message } confirmed }
}
"""

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    errors { code field message }
    token csrfToken sessionExpiresAt mailedTo
    login { email customerNumbers }
  }
}
"""


def codes(payload: dict[str, Any]) -> list[str]:
    """The error codes of a payload, in order."""
    return [e["code"] for e in payload["errors"]]


def close_to(value: str, expected: dt.datetime, seconds: float = 5) -> bool:
    """Whether the ISO time `value` lies within `seconds` of `expected`."""
    return abs((dt.datetime.fromisoformat(value) - expected).total_seconds()) <= seconds


@dataclass
class MadeCustomer:
    """A customer with two invoices and two meters, numbered after the customer."""

    row: Customer
    number: str
    latest_invoice: str
    older_invoice: str
    main_meter: str
    other_meter: str


async def make_customer(
    number: str = "100001",
    *,
    name: str = "Erika Mustermann",
    annual_bill: bool = True,
    today: dt.date | None = None,
) -> MadeCustomer:
    """A customer as imported from billing. Without `annual_bill` both invoices are
    of another kind (R2 refuses it)."""
    today = today or clock.now().date()
    row = await data.make_customer(number, name=name, email=f"kunde{number}@example.org")
    kind = InvoiceKind.ANNUAL if annual_bill else InvoiceKind.OTHER
    older, latest = [
        await data.make_invoice(
            row, f"R-{letter}-{number}", date=today - dt.timedelta(days=days), kind=kind
        )
        for letter, days in (("A", 400), ("B", 35))
    ]
    main = await data.make_meter(row, f"Z-{number}", main=True, installed_on=dt.date(2015, 1, 1))
    other = await data.make_meter(
        row, f"F-{number}", kind=MeterKind.RADIO, installed_on=dt.date(2018, 1, 1)
    )
    return MadeCustomer(row, number, latest.number, older.number, main.number, other.number)


def register_input(
    customer: MadeCustomer,
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
    customer: MadeCustomer,
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
    """Log in and return the payload (token, csrfToken, …); the client keeps no cookie."""
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
    customer: MadeCustomer | None = None,
    email: str = "erika@example.org",
    password: str = PASSWORD,
) -> str:
    """A confirmed, logged-in user; returns its session token (send as Bearer).

    Makes customer 100001 unless one is given.
    """
    customer = customer or await make_customer()
    await register(client, mailbox, customer, email=email, password=password)
    return (await log_in(client, email, password))["token"]
