"""Adding and removing a login's customer numbers (R9), proven by the latest invoice's or
the main meter's number."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import (
    Customer,
    Invoice,
    InvoiceKind,
    Login,
    LoginCustomer,
    Meter,
    Session,
)
from models.customer_codes import CustomerErrorCode as C
from models.errors import Outcome, Problem
from resolvers.auth import (
    caller,
    limiter,
    refuse_rate_limited,
    require_login,
)
from resolvers.context import Context, audit
from resolvers.loaders import customers_by_login, forget
from security import throttle
from security.ratelimit import Limits
from security.tokens import same

# ------------------------------------------------------------ customer numbers


def _same(given: str | None, actual: str | None) -> bool:
    """Compare numbers as people type them (spaces, case), in constant time."""
    if not given or not actual:
        return False
    return same("".join(given.split()).upper(), "".join(actual.split()).upper())


async def current_holder(customer: Customer) -> Login | None:
    """R5: a customer number belongs to at most one login; this is it, if any.

    A registration left unconfirmed past its expiry holds it until the purge
    removes it (registration purges before it asks).
    """
    link = await LoginCustomer.filter(customer_id=customer.id).select_related("login").first()
    return link.login if link else None


async def has_annual_bill(customer_number: str) -> bool:
    """R2: only customers that have received at least one annual bill can register
    (or be added to a login)."""
    return await Invoice.filter(customer__number=customer_number, kind=InvoiceKind.ANNUAL).exists()


async def verify_customer_claim(
    number: str,
    invoice_number: str | None,
    meter_number: str | None,
    *,
    annual_bill_required: bool = True,
) -> Customer | None:
    """R1, R9: the customer whose number was given, if the claim holds, else None.

    The claim holds when the number of the customer's *latest* invoice or of its
    *main* meter was given (and every number given matches), and the customer
    has received at least one annual bill (`has_annual_bill`). Registration and
    adding a customer number both ask this one function; neither tells which
    number was wrong. Registration passes `annual_bill_required=False` and asks
    `has_annual_bill` itself, to tell a customer who proved the claim that the
    annual bill is missing. The same four lookups run whatever exists, so that
    the time taken does not reveal whether a customer number exists.
    """
    wanted = (number or "").strip()
    invoice_number = (invoice_number or "").strip() or None
    meter_number = (meter_number or "").strip() or None
    customer = await Customer.filter(number=wanted).first()
    latest = await Invoice.filter(customer__number=wanted).order_by("-date", "-id").first()
    main = await Meter.filter(customer__number=wanted, is_main=True).first()
    has_annual = await has_annual_bill(wanted)
    if not (invoice_number or meter_number):
        return None
    invoice_ok = _same(invoice_number, latest.number if latest else None)
    meter_ok = _same(meter_number, main.number if main else None)
    matches = (invoice_ok or not invoice_number) and (meter_ok or not meter_number)
    if customer is None or not matches or (annual_bill_required and not has_annual):
        return None
    return customer


async def add_customer_number(
    ctx: Context, number: str, invoice_number: str | None, meter_number: str | None
) -> Outcome[Customer]:
    """Add a customer number to the login, with the proof `verify_customer_claim`
    asks for; failures are throttled as `Limits.claim_guesses` says (numbers are
    guessable; a stolen session guessing elsewhere does not block the owner's devices)."""
    login = require_login(ctx)
    problems = []
    if not number.strip():
        problems.append(Problem(C.REQUIRED, ("input", "customerNumber")))
    if not (invoice_number or "").strip() and not (meter_number or "").strip():
        problems.append(Problem(C.PROOF_REQUIRED))
    if problems:
        return Outcome(problems=problems)
    guesses, who = Limits.claim_guesses(ctx.settings), caller(ctx, login)
    account = f"login:{login.id}"
    decision = await throttle.refusal(limiter(ctx), guesses, account, who)
    if not decision.allowed:
        refuse_rate_limited(ctx, decision)
    customer = await verify_customer_claim(number, invoice_number, meter_number)
    if customer is None:
        await throttle.failed(limiter(ctx), guesses, account, who)
        await audit(ctx, "customer.add", login.id, outcome="failure")
        return Outcome(problems=[Problem(C.CUSTOMER_NOT_VERIFIED)])
    holder = await current_holder(customer)
    if holder is not None:
        code = C.ALREADY_ADDED if holder.id == login.id else C.CUSTOMER_NUMBER_TAKEN
        return Outcome(problems=[Problem(code, ("input", "customerNumber"))])
    try:
        async with in_transaction():
            await LoginCustomer.create(login_id=login.id, customer_id=customer.id)
            await audit(ctx, "customer.add", login.id, customer_id=customer.id)
    except IntegrityError:
        return Outcome(problems=[Problem(C.CUSTOMER_NUMBER_TAKEN, ("input", "customerNumber"))])
    forget(customers_by_login(ctx), login.id)
    return Outcome(customer)


async def remove_customer_number(ctx: Context, number: str) -> Outcome[str]:
    """Drop a customer number from the login, never the last one: leaving the
    portal is deleting the profile."""
    login = require_login(ctx)
    wanted = number.strip()
    async with in_transaction() as conn:
        # Lock the login so that two removals at once cannot both see two numbers left.
        await Login.filter(id=login.id).select_for_update().using_db(conn).first()
        links = (
            await LoginCustomer.filter(login_id=login.id).select_related("customer").using_db(conn)
        )
        link = next((lk for lk in links if lk.customer.number == wanted), None)
        if link is None:
            return Outcome(problems=[Problem(C.NOT_FOUND, ("input", "customerNumber"))])
        if len(links) == 1:
            return Outcome(problems=[Problem(C.LAST_CUSTOMER_NUMBER, ("input", "customerNumber"))])
        await link.delete(using_db=conn)
        await (
            Session.filter(login_id=login.id, active_customer_id=link.customer_id)
            .using_db(conn)
            .update(active_customer_id=None)
        )
        await audit(ctx, "customer.remove", login.id, customer_id=link.customer_id)
    session = ctx.session
    if session is not None and session.active_customer_id == link.customer_id:
        session.active_customer_id = None
    forget(customers_by_login(ctx), login.id)
    return Outcome(wanted)
