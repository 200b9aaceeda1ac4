"""Which customer a request works on (R10): the login's customer numbers, the active one,
and what is found through them. Every customer is loaded through the login's links
(`LoginCustomer`), so another login's customer cannot even be found: it is "not
found", as data."""

from __future__ import annotations

from dataclasses import dataclass

from models import (
    Customer,
    Invoice,
    Meter,
    MoveOut,
    Session,
)
from models.customer_codes import CustomerErrorCode as C
from models.errors import Outcome, Problem, PublicError
from resolvers.auth import (
    require_login,
)
from resolvers.context import Context
from resolvers.loaders import Loaded, customers_by_login, meters_by_customer, peek

# ------------------------------------------------------------ customer context


async def linked_customers(ctx: Context) -> list[Customer]:
    """The login's customer numbers, first added first, loaded through its links."""
    login = require_login(ctx)
    return await customers_by_login(ctx).load(login.id)


async def active_customer(ctx: Context) -> Customer | None:
    """R10: the customer number the session works on: the one last switched to
    while it is still the login's, else the first one added."""
    return _active(ctx, await linked_customers(ctx))


def known_active_customer(ctx: Context) -> Loaded[Customer | None] | None:
    """`active_customer` when the login's customers are loaded already, else None."""
    if ctx.login is None:
        return None
    customers = peek(customers_by_login(ctx), ctx.login.id)
    return Loaded(_active(ctx, customers.value)) if customers is not None else None


def _active(ctx: Context, customers: list[Customer]) -> Customer | None:
    session = ctx.session
    chosen = session.active_customer_id if session else None
    for customer in customers:
        if customer.id == chosen:
            return customer
    return customers[0] if customers else None


@dataclass(frozen=True)
class CustomerChoice:
    """The customer an operation names (by primary key or number), or neither: then the
    session's active one (R10). A tab that names its customer is never affected by
    another tab's `switchCustomer`."""

    pk: int | None = None
    number: str | None = None

    @property
    def field(self) -> tuple[str, ...]:
        """Where a NOT_FOUND points: the `customer` the client sent, or nothing."""
        named = self.pk is not None or self.number is not None
        return ("input", "customer") if named else ()


ACTIVE = CustomerChoice()
"""No customer named: the session's active one."""


async def named_customer(ctx: Context, choice: CustomerChoice) -> Customer | None:
    """The customer `choice` names if it is the login's, without a name the active one;
    None when it is not the login's (or the login holds none)."""
    if choice == ACTIVE:
        return await active_customer(ctx)
    wanted = choice.number.strip() if choice.number is not None else None
    for customer in await linked_customers(ctx):
        if customer.id == choice.pk or (wanted is not None and customer.number == wanted):
            return customer
    return None


async def chosen_customer(
    ctx: Context, customer_pk: int | None = None, number: str | None = None
) -> Customer:
    """The customer an operation names (by primary key or number; it must be the login's,
    else NOT_FOUND), or without either the session's active one (R10)."""
    customer = await named_customer(ctx, CustomerChoice(customer_pk, number))
    if customer is None:
        raise PublicError(C.NOT_FOUND, ctx.locale)
    return customer


async def closed_problem(customer: Customer) -> Problem | None:
    """After the final invoice of a move-out the customer number stays readable but takes
    no readings or changes; the problem says why (which final invoice)."""
    move_out = await MoveOut.get_or_none(customer_id=customer.id)
    if move_out is None or not move_out.is_closed:
        return None
    return Problem(C.CUSTOMER_CLOSED, None, {"finalInvoiceNumber": move_out.final_invoice_number})


async def require_active_customer(ctx: Context) -> Customer:
    """The active customer for an operation that changes it; NOT_FOUND if the login has none."""
    customer = await active_customer(ctx)
    if customer is None:
        raise PublicError(C.NOT_FOUND, ctx.locale)
    return customer


async def find_meter(
    ctx: Context, customer: Customer, meter_pk: int | None, number: str | None
) -> Meter | None:
    """One of `customer`'s meters by primary key or number; another customer's is not found."""
    for meter in await meters_by_customer(ctx).load(customer.id):
        if (meter_pk is not None and meter.id == meter_pk) or (
            number is not None and meter.number == number.strip()
        ):
            return meter
    return None


async def find_invoice(
    customer: Customer, invoice_pk: int | None, number: str | None
) -> Invoice | None:
    """One of `customer`'s invoices by primary key or number; another customer's is not found."""
    query = Invoice.filter(customer_id=customer.id)
    if invoice_pk is not None:
        query = query.filter(id=invoice_pk)
    elif number is not None:
        query = query.filter(number=number.strip())
    else:
        return None
    return await query.first()


async def switch_customer(ctx: Context, number: str) -> Outcome[Customer]:
    """Store the customer number this session works on from now on (see `active_customer`)."""
    require_login(ctx)
    wanted = number.strip()
    customer = next((c for c in await linked_customers(ctx) if c.number == wanted), None)
    if customer is None:
        return Outcome(problems=[Problem(C.NOT_FOUND, ("input", "customerNumber"))])
    session = ctx.session
    assert session is not None
    await Session.filter(id=session.id).update(active_customer_id=customer.id)
    session.active_customer_id = customer.id
    return Outcome(customer)
