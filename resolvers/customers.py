"""A login's customer numbers: which are theirs, which is active, adding and
removing them, base data and the consent to online communication (R9–R12).

Every customer is loaded through the login's links (`LoginCustomer`), so
another login's customer cannot even be found: it is "not found", as data.
Operations return an `Outcome` (the result or problems); the schema turns
problems into typed, translated errors.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from enum import Enum
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

import strawberry
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from mailers import format_when, is_valid_email, mask_address, queue_mail
from models import (
    BaseDataChange,
    Customer,
    Invoice,
    InvoiceKind,
    Login,
    LoginCustomer,
    Meter,
    Session,
)
from resolvers.auth import (
    caller,
    limiter,
    reauthenticate,
    refuse_rate_limited,
    require_login,
)
from resolvers.context import Info, audit
from resolvers.loaders import customers_by_login, forget, meters_by_customer
from schema.errors import (
    REAUTHENTICATION_CODE,
    REAUTHENTICATION_DESCRIPTION,
    REAUTHENTICATION_MESSAGES,
    PublicError,
    register_messages,
)
from security import throttle
from security.ratelimit import Limits
from security.tokens import same
from settings import Settings

T = TypeVar("T")


@strawberry.enum(description="Codes of errors about customer numbers, customer data and readings.")
class CustomerErrorCode(Enum):
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND",
        description="No such customer number, meter, invoice or change request among yours.",
    )
    CLAIM_NOT_VERIFIED = strawberry.enum_value(
        "CLAIM_NOT_VERIFIED",
        description="Customer number and invoice or main meter number do not match a customer "
        "with an annual bill. Deliberately does not say which part is wrong.",
    )
    ALREADY_ADDED = strawberry.enum_value(
        "ALREADY_ADDED", description="The customer number is already in your login."
    )
    TAKEN = strawberry.enum_value(
        "TAKEN", description="The customer number is registered with another login."
    )
    LAST_CUSTOMER_NUMBER = strawberry.enum_value(
        "LAST_CUSTOMER_NUMBER",
        description="The last customer number cannot be removed; delete the profile instead.",
    )
    REQUIRED = strawberry.enum_value("REQUIRED", description="The field must not be empty.")
    TOO_LONG = strawberry.enum_value("TOO_LONG", description="The field is too long.")
    AMBIGUOUS = strawberry.enum_value(
        "AMBIGUOUS", description="Give exactly one of the alternative fields (e.g. ID or number)."
    )
    POSTAL_CODE_INVALID = strawberry.enum_value(
        "POSTAL_CODE_INVALID", description="A postal code has exactly 5 digits."
    )
    PHONE_INVALID = strawberry.enum_value(
        "PHONE_INVALID",
        description="A phone number has 6 to 15 digits, optionally a leading +, spaces, "
        "slashes, hyphens and parentheses.",
    )
    EMAIL_INVALID = strawberry.enum_value(
        "EMAIL_INVALID", description="The e-mail address is not valid."
    )
    NOTHING_CHANGED = strawberry.enum_value(
        "NOTHING_CHANGED", description="The request would change nothing."
    )
    CHANGE_EXPIRED = strawberry.enum_value(
        "CHANGE_EXPIRED", description="The change request has expired; start the change again."
    )
    CHANGE_ALREADY_CONFIRMED = strawberry.enum_value(
        "CHANGE_ALREADY_CONFIRMED", description="The change request was confirmed before."
    )
    CHANGE_OUTDATED = strawberry.enum_value(
        "CHANGE_OUTDATED",
        description="The data changed since the request was made; start the change again.",
    )
    REAUTHENTICATION_REQUIRED = strawberry.enum_value(
        REAUTHENTICATION_CODE, description=REAUTHENTICATION_DESCRIPTION
    )
    VALUE_INVALID = strawberry.enum_value(
        "VALUE_INVALID",
        description="A reading is a non-negative number of m³ with at most 3 decimals "
        "and at most 9 digits before the decimal point.",
    )
    OUTSIDE_READING_PERIOD = strawberry.enum_value(
        "OUTSIDE_READING_PERIOD",
        description="No reading period is open for this meter (R13); `startsOn`/`endsOn` "
        "give the next one when it is known.",
    )
    RADIO_METER = strawberry.enum_value(
        "RADIO_METER",
        description="A radio meter is read remotely by the utility on the key date `keyDate` "
        "(R14); customers do not submit readings for it.",
    )
    METER_REMOVED = strawberry.enum_value(
        "METER_REMOVED", description="The meter has been removed; it takes no more readings."
    )
    BELOW_LAST_READING = strawberry.enum_value(
        "BELOW_LAST_READING",
        description="The value is below the last reading (`lastValue` on `lastReadOn`) "
        "and the meter has not been exchanged since.",
    )
    UNUSUAL_CONSUMPTION = strawberry.enum_value(
        "UNUSUAL_CONSUMPTION",
        description="The value is far above the expected use (more than `usualMaximum`); "
        "check it and send it again with `confirmUnusual: true`.",
    )
    IDEMPOTENCY_KEY_REUSED = strawberry.enum_value(
        "IDEMPOTENCY_KEY_REUSED",
        description="The idempotency key was used before for a different reading.",
    )


C = CustomerErrorCode
register_messages(
    {
        C.NOT_FOUND: ("Nicht gefunden.", "Not found."),
        C.CLAIM_NOT_VERIFIED: (
            "Die Angaben passen nicht zusammen. Bitte prüfen Sie Kundennummer und "
            "Rechnungsnummer der letzten Rechnung bzw. Zählernummer des Hauptzählers. "
            "Voraussetzung ist mindestens eine Jahresverbrauchsabrechnung.",
            "The details do not match. Please check the customer number and the number of "
            "the latest invoice or of the main meter. At least one annual bill is required.",
        ),
        C.ALREADY_ADDED: (
            "Diese Kundennummer ist bereits in Ihrem Benutzerkonto.",
            "This customer number is already in your account.",
        ),
        C.TAKEN: (
            "Diese Kundennummer ist bereits mit einem anderen Benutzerkonto registriert.",
            "This customer number is already registered with another account.",
        ),
        C.LAST_CUSTOMER_NUMBER: (
            "Die letzte Kundennummer kann nicht entfernt werden. Um das Portal zu verlassen, "
            "entfernen Sie Ihr Profil in den Einstellungen.",
            "The last customer number cannot be removed. To leave the portal, remove your "
            "profile in the settings.",
        ),
        C.REQUIRED: ("Bitte füllen Sie dieses Feld aus.", "Please fill in this field."),
        C.TOO_LONG: (
            "Höchstens {maximum} Zeichen.",
            "At most {maximum} characters.",
        ),
        C.AMBIGUOUS: (
            "Bitte geben Sie genau eine der Angaben an.",
            "Please give exactly one of the alternatives.",
        ),
        C.POSTAL_CODE_INVALID: (
            "Eine Postleitzahl hat genau 5 Ziffern.",
            "A postal code has exactly 5 digits.",
        ),
        C.PHONE_INVALID: (
            "Bitte geben Sie eine gültige Telefonnummer an (6 bis 15 Ziffern).",
            "Please enter a valid phone number (6 to 15 digits).",
        ),
        C.EMAIL_INVALID: (
            "Bitte geben Sie eine gültige E-Mail-Adresse an.",
            "Please enter a valid e-mail address.",
        ),
        C.NOTHING_CHANGED: (
            "Es gibt keine Änderung.",
            "Nothing would change.",
        ),
        C.CHANGE_EXPIRED: (
            "Die Änderung ist abgelaufen. Bitte ändern Sie die Basisdaten erneut.",
            "The change has expired. Please edit the base data again.",
        ),
        C.CHANGE_ALREADY_CONFIRMED: (
            "Diese Änderung wurde bereits bestätigt.",
            "This change has already been confirmed.",
        ),
        C.CHANGE_OUTDATED: (
            "Die Daten wurden inzwischen geändert. Bitte ändern Sie die Basisdaten erneut.",
            "The data has changed in the meantime. Please edit the base data again.",
        ),
        C.REAUTHENTICATION_REQUIRED: REAUTHENTICATION_MESSAGES,
        C.VALUE_INVALID: (
            "Bitte geben Sie den Zählerstand in m³ an: nicht negativ, höchstens 3 "
            "Nachkommastellen.",
            "Please enter the reading in m³: not negative, at most 3 decimals.",
        ),
        C.OUTSIDE_READING_PERIOD: (
            "Zählerstände können nur innerhalb der Ableseperiode übermittelt werden. "
            "Die nächste Ableseperiode ist vom {startsOn} bis {endsOn}.",
            "Readings can only be submitted within the reading period. "
            "The next reading period is from {startsOn} to {endsOn}.",
        ),
        C.METER_REMOVED: (
            "Dieser Zähler wurde ausgebaut und nimmt keine Zählerstände mehr an.",
            "This meter has been removed and takes no more readings.",
        ),
        C.RADIO_METER: (
            "Dies ist ein Funkzähler. Er wird vom Wasserversorger zum Stichtag {keyDate} "
            "fernausgelesen; ein Zählerstand kann nicht über das Portal eingereicht werden.",
            "This is a radio meter. The utility reads it remotely on the key date {keyDate}; "
            "a reading cannot be submitted through the portal.",
        ),
        C.BELOW_LAST_READING: (
            "Der Zählerstand liegt unter dem letzten Zählerstand ({lastValue} m³ am {lastReadOn}).",
            "The reading is below the last reading ({lastValue} m³ on {lastReadOn}).",
        ),
        C.UNUSUAL_CONSUMPTION: (
            "Der Zählerstand ergibt einen ungewöhnlich hohen Verbrauch (erwartet höchstens "
            "{usualMaximum} m³). Bitte prüfen Sie ihn und bestätigen Sie ihn ausdrücklich.",
            "The reading means an unusually high consumption (expected at most {usualMaximum} "
            "m³). Please check it and confirm it explicitly.",
        ),
        C.IDEMPOTENCY_KEY_REUSED: (
            "Dieser Schlüssel wurde bereits für einen anderen Zählerstand verwendet.",
            "This key was already used for a different reading.",
        ),
    }
)

# Messages for the variants that a single template cannot express.
NO_NEXT_PERIOD_MESSAGE = (
    "Zählerstände können nur innerhalb der Ableseperiode übermittelt werden. "
    "Die nächste Ableseperiode steht noch nicht fest.",
    "Readings can only be submitted within the reading period. "
    "The next reading period has not been set yet.",
)
NO_KEY_DATE_MESSAGE = (
    "Dies ist ein Funkzähler. Er wird vom Wasserversorger zum Stichtag fernausgelesen; "
    "ein Zählerstand kann nicht über das Portal eingereicht werden.",
    "This is a radio meter. The utility reads it remotely on the key date; "
    "a reading cannot be submitted through the portal.",
)


@dataclass(frozen=True)
class Problem:
    """An expected failure: the schema turns it into a typed, translated error."""

    code: CustomerErrorCode
    field: tuple[str, ...] | None = None
    params: dict[str, Any] = dataclass_field(default_factory=dict)


PASSWORD_NEEDED = Problem(C.REAUTHENTICATION_REQUIRED, ("password",))
"""The answer of every sensitive change of customer data that `reauthenticate` refuses."""


@dataclass
class Outcome(Generic[T]):
    """What an operation did: its result, or the problems that stopped it (nothing changed)."""

    value: T | None = None
    problems: list[Problem] = dataclass_field(default_factory=list)
    mailed_to: str | None = None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local_today(settings: Settings) -> dt.date:
    """Today at the utility: reading periods are its calendar days."""
    return dt.datetime.now(ZoneInfo(settings.utility_timezone)).date()


# ------------------------------------------------------------ customer context


async def linked_customers(info: Info) -> list[Customer]:
    """The login's customer numbers, first added first, loaded through its links."""
    login = require_login(info)
    return await customers_by_login(info).load(login.id)


async def active_customer(info: Info) -> Customer | None:
    """R10: the customer number the session works on: the one last switched to
    while it is still the login's, else the first one added."""
    customers = await linked_customers(info)
    session = info.context.session
    chosen = session.active_customer_id if session else None
    for customer in customers:
        if customer.id == chosen:
            return customer
    return customers[0] if customers else None


async def customer_in_context(info: Info, number: str | None) -> Customer | None:
    """The customer a query shows: the given number if it is the login's (else a
    NOT_FOUND error and no data), without a number the active one."""
    if number is None:
        return await active_customer(info)
    wanted = number.strip()
    for customer in await linked_customers(info):
        if customer.number == wanted:
            return customer
    raise PublicError(CustomerErrorCode.NOT_FOUND, info.context.locale)


async def require_active_customer(info: Info) -> Customer:
    """The active customer for an operation that changes it; NOT_FOUND if the login has none."""
    customer = await active_customer(info)
    if customer is None:
        raise PublicError(CustomerErrorCode.NOT_FOUND, info.context.locale)
    return customer


async def find_meter(
    info: Info, customer: Customer, meter_pk: int | None, number: str | None
) -> Meter | None:
    """One of `customer`'s meters by primary key or number; another customer's is not found."""
    for meter in await meters_by_customer(info).load(customer.id):
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


async def switch_customer(info: Info, number: str) -> Outcome[Customer]:
    """Store the customer number this session works on from now on (see `active_customer`)."""
    require_login(info)
    wanted = number.strip()
    customer = next((c for c in await linked_customers(info) if c.number == wanted), None)
    if customer is None:
        return Outcome(problems=[Problem(C.NOT_FOUND, ("number",))])
    session = info.context.session
    assert session is not None
    await Session.filter(id=session.id).update(active_customer_id=customer.id)
    session.active_customer_id = customer.id
    return Outcome(customer)


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
    info: Info, number: str, invoice_number: str | None, meter_number: str | None
) -> Outcome[Customer]:
    """Add a customer number to the login, with the proof `verify_customer_claim`
    asks for; failures are throttled as `Limits.claim_guesses` says (numbers are
    guessable; a stolen session guessing elsewhere does not block the owner's devices)."""
    login = require_login(info)
    problems = []
    if not number.strip():
        problems.append(Problem(C.REQUIRED, ("customerNumber",)))
    if not (invoice_number or "").strip() and not (meter_number or "").strip():
        problems.append(Problem(C.REQUIRED, ("invoiceNumber",)))
    if problems:
        return Outcome(problems=problems)
    guesses, who = Limits.claim_guesses(info.context.settings), caller(info, login)
    account = f"login:{login.id}"
    decision = await throttle.refusal(limiter(info), guesses, account, who)
    if not decision.allowed:
        refuse_rate_limited(info, decision)
    customer = await verify_customer_claim(number, invoice_number, meter_number)
    if customer is None:
        await throttle.failed(limiter(info), guesses, account, who)
        await audit(info, "customer.add", login.id, outcome="failure")
        return Outcome(problems=[Problem(C.CLAIM_NOT_VERIFIED)])
    holder = await current_holder(customer)
    if holder is not None:
        code = C.ALREADY_ADDED if holder.id == login.id else C.TAKEN
        return Outcome(problems=[Problem(code, ("customerNumber",))])
    try:
        async with in_transaction():
            await LoginCustomer.create(login_id=login.id, customer_id=customer.id)
            await audit(info, "customer.add", login.id, customer_id=customer.id)
    except IntegrityError:
        return Outcome(problems=[Problem(C.TAKEN, ("customerNumber",))])
    forget(customers_by_login(info), login.id)
    return Outcome(customer)


async def remove_customer_number(info: Info, number: str) -> Outcome[str]:
    """Drop a customer number from the login, never the last one: leaving the
    portal is deleting the profile."""
    login = require_login(info)
    wanted = number.strip()
    async with in_transaction() as conn:
        # Lock the login so that two removals at once cannot both see two numbers left.
        await Login.filter(id=login.id).select_for_update().using_db(conn).first()
        links = (
            await LoginCustomer.filter(login_id=login.id).select_related("customer").using_db(conn)
        )
        link = next((lk for lk in links if lk.customer.number == wanted), None)
        if link is None:
            return Outcome(problems=[Problem(C.NOT_FOUND, ("number",))])
        if len(links) == 1:
            return Outcome(problems=[Problem(C.LAST_CUSTOMER_NUMBER, ("number",))])
        await link.delete(using_db=conn)
        await (
            Session.filter(login_id=login.id, active_customer_id=link.customer_id)
            .using_db(conn)
            .update(active_customer_id=None)
        )
        await audit(info, "customer.remove", login.id, customer_id=link.customer_id)
    session = info.context.session
    if session is not None and session.active_customer_id == link.customer_id:
        session.active_customer_id = None
    forget(customers_by_login(info), login.id)
    return Outcome(wanted)


# ------------------------------------------------------------------- base data

BASE_DATA_FIELDS = ("name", "street", "postal_code", "city", "phone", "email")
CONSENT = "online_consent"
_LIMITS = {"name": 200, "street": 200, "postal_code": 10, "city": 100, "phone": 40, "email": 254}
_REQUIRED = {"name", "street", "postal_code", "city"}
_POSTAL_CODE = re.compile(r"\d{5}")
_PHONE = re.compile(r"\+?[0-9 ()/\-]+")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def clean_base_data(values: dict[str, str | None]) -> tuple[dict[str, str], list[Problem]]:
    """Trim the given fields and check them: required fields, lengths, a postal
    code of 5 digits, a phone number of 6 to 15 digits, an e-mail address's
    syntax. Phone and e-mail may be emptied."""
    cleaned: dict[str, str] = {}
    problems: list[Problem] = []
    for name in BASE_DATA_FIELDS:
        raw = values.get(name)
        if raw is None:
            continue
        value = " ".join(raw.split())
        path = ("input", _camel(name))
        if not value:
            if name in _REQUIRED:
                problems.append(Problem(C.REQUIRED, path))
            else:
                cleaned[name] = ""
            continue
        if len(value) > _LIMITS[name]:
            problems.append(Problem(C.TOO_LONG, path, {"maximum": _LIMITS[name]}))
            continue
        if name == "postal_code" and not _POSTAL_CODE.fullmatch(value):
            problems.append(Problem(C.POSTAL_CODE_INVALID, path))
            continue
        if name == "phone":
            digits = sum(ch.isdigit() for ch in value)
            if not _PHONE.fullmatch(value) or not 6 <= digits <= 15:
                problems.append(Problem(C.PHONE_INVALID, path))
                continue
        if name == "email" and not is_valid_email(value):
            problems.append(Problem(C.EMAIL_INVALID, path))
            continue
        cleaned[name] = value
    return cleaned, problems


def record_online_consent(
    customer: Customer, given: bool, login: Login, settings: Settings
) -> None:
    """R11: give or withdraw the consent to online communication ("Onlinekunde"),
    recording when, by which login and under which wording version.

    Only a confirmation calls this: `confirm_base_data_change` (edit, tick,
    confirm) or `set_online_customer` (whose call is the confirming step), so
    nothing changes before the user confirms."""
    customer.online_consent = given
    customer.online_consent_at = utcnow()
    customer.online_consent_login_id = login.id
    customer.online_consent_version = settings.consent_wording_version


async def confirm_by_mail(
    kind: str, customer: Customer, login: Login, settings: Settings, conn: Any, **data: Any
) -> str:
    """R12: every change of customer data is confirmed by a mail to the login, in its
    language, queued in the change's transaction. Returns the address mailed, masked."""
    await queue_mail(
        kind,
        to=login.email,
        locale=login.locale,
        settings=settings,
        using_db=conn,
        customer_number=customer.number,
        name=customer.name,
        **data,
    )
    return mask_address(login.email)


CONSENT_FIELDS = (
    "online_consent",
    "online_consent_at",
    "online_consent_login_id",
    "online_consent_version",
)


async def request_base_data_change(
    info: Info, values: dict[str, str | None], online_consent: bool | None
) -> Outcome[BaseDataChange]:
    """The first step of a change of base data (and consent): it records what
    would change and changes nothing. Only the newest request can be confirmed."""
    login = require_login(info)
    customer = await require_active_customer(info)
    cleaned, problems = clean_base_data(values)
    if problems:
        return Outcome(problems=problems)
    changes: dict[str, dict[str, Any]] = {
        name: {"old": getattr(customer, name), "new": value}
        for name, value in cleaned.items()
        if getattr(customer, name) != value
    }
    if online_consent is not None and online_consent != customer.online_consent:
        changes[CONSENT] = {"old": customer.online_consent, "new": online_consent}
    if not changes:
        return Outcome(problems=[Problem(C.NOTHING_CHANGED, ("input",))])
    now = utcnow()
    valid = dt.timedelta(minutes=info.context.settings.base_data_change_valid_minutes)
    async with in_transaction():
        await BaseDataChange.filter(customer_id=customer.id, confirmed_at=None).delete()
        change = await BaseDataChange.create(
            customer_id=customer.id,
            login_id=login.id,
            changes=changes,
            created_at=now,
            expires_at=now + valid,
        )
    return Outcome(change)


def _change_lines(changes: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    order = [*BASE_DATA_FIELDS, CONSENT]
    return [{"field": name, **changes[name]} for name in order if name in changes]


async def confirm_base_data_change(
    info: Info, change_pk: int | None, password: str | None
) -> Outcome[Customer]:
    """Apply a requested change once confirmed (with the password if the login is
    not fresh), and mail the login what changed."""
    login = require_login(info)
    settings = info.context.settings
    customer = await require_active_customer(info)
    change = None
    if change_pk is not None:
        change = await BaseDataChange.filter(
            id=change_pk, login_id=login.id, customer_id=customer.id
        ).first()
    if change is None:
        return Outcome(problems=[Problem(C.NOT_FOUND, ("id",))])
    if change.confirmed_at is not None:
        return Outcome(problems=[Problem(C.CHANGE_ALREADY_CONFIRMED, ("id",))])
    if utcnow() >= change.expires_at:
        return Outcome(problems=[Problem(C.CHANGE_EXPIRED, ("id",))])
    if not await reauthenticate(info, password):
        return Outcome(problems=[PASSWORD_NEEDED])
    async with in_transaction() as conn:
        fresh = await Customer.filter(id=customer.id).select_for_update().using_db(conn).get()
        if any(getattr(fresh, name) != diff["old"] for name, diff in change.changes.items()):
            return Outcome(problems=[Problem(C.CHANGE_OUTDATED, ("id",))])
        claimed = (
            await BaseDataChange.filter(id=change.id, confirmed_at=None)
            .using_db(conn)
            .update(confirmed_at=utcnow())
        )
        if not claimed:
            return Outcome(problems=[Problem(C.CHANGE_ALREADY_CONFIRMED, ("id",))])
        updated: list[str] = []
        for name, diff in change.changes.items():
            if name == CONSENT:
                record_online_consent(fresh, bool(diff["new"]), login, settings)
                updated.extend(CONSENT_FIELDS)
            else:
                setattr(fresh, name, diff["new"])
                updated.append(name)
        await fresh.save(using_db=conn, update_fields=[*updated, "updated_at"])
        await audit(info, "customer.base_data", login.id, fields=sorted(change.changes))
        mailed_to = await confirm_by_mail(
            "base_data_changed", fresh, login, settings, conn, changes=_change_lines(change.changes)
        )
    _refresh(info, customer, fresh)
    return Outcome(customer, mailed_to=mailed_to)


def _refresh(info: Info, cached: Customer, fresh: Customer) -> None:
    """Let the rest of this response see the saved row (the loaders hold `cached`)."""
    for name in (*BASE_DATA_FIELDS, *CONSENT_FIELDS, "updated_at"):
        setattr(cached, name, getattr(fresh, name))


async def set_online_customer(info: Info, consent: bool, password: str | None) -> Outcome[Customer]:
    """Give or withdraw the active customer's consent in one step: this call is the
    confirmation (with the password if the login is not fresh); mails the login."""
    login = require_login(info)
    settings = info.context.settings
    customer = await require_active_customer(info)
    if customer.online_consent == consent:
        return Outcome(problems=[Problem(C.NOTHING_CHANGED, ("consent",))])
    if not await reauthenticate(info, password):
        return Outcome(problems=[PASSWORD_NEEDED])
    async with in_transaction() as conn:
        fresh = await Customer.filter(id=customer.id).select_for_update().using_db(conn).get()
        record_online_consent(fresh, consent, login, settings)
        await fresh.save(using_db=conn, update_fields=[*CONSENT_FIELDS, "updated_at"])
        await audit(info, "customer.consent", login.id, outcome="given" if consent else "withdrawn")
        mailed_to = await confirm_by_mail(
            "online_consent_changed",
            fresh,
            login,
            settings,
            conn,
            given=consent,
            at=format_when(fresh.online_consent_at or utcnow(), login.locale, settings),
            wording_version=fresh.online_consent_version,
        )
    _refresh(info, customer, fresh)
    return Outcome(customer, mailed_to=mailed_to)
