"""Base data and the consent to online communication (R11): requested, then confirmed,
then confirmed by mail (R12)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tortoise.transactions import in_transaction

import clock
from mailers import format_when, is_valid_email
from models import (
    BaseDataChange,
    Customer,
    Login,
)
from models.customer_codes import CustomerErrorCode as C
from models.errors import Outcome, Problem
from resolvers.auth import (
    reauthentication_problem,
    require_login,
)
from resolvers.context import Context, audit
from resolvers.customer_context import CustomerChoice, closed_problem, named_customer
from resolvers.customer_mail import confirm_by_mail
from settings import Settings

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
    customer.online_consent_at = clock.now()
    customer.online_consent_login_id = login.id
    customer.online_consent_version = settings.consent_wording_version


CONSENT_FIELDS = (
    "online_consent",
    "online_consent_at",
    "online_consent_login_id",
    "online_consent_version",
)


async def request_base_data_change(
    ctx: Context,
    choice: CustomerChoice,
    values: dict[str, str | None],
    online_consent: bool | None,
) -> Outcome[BaseDataChange]:
    """The first step of a change of base data (and consent): it records what
    would change and changes nothing. Only the newest request can be confirmed."""
    login = require_login(ctx)
    customer = await named_customer(ctx, choice)
    if customer is None:
        return Outcome.failed(C.NOT_FOUND, *choice.field)
    if closed := await closed_problem(customer):
        return Outcome(problems=[closed])
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
    now = clock.now()
    valid = dt.timedelta(minutes=ctx.settings.base_data_change_valid_minutes)
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
    ctx: Context, choice: CustomerChoice, change_pk: int | None, password: str | None
) -> Outcome[Customer]:
    """Apply a requested change once confirmed (with the password if the login is
    not fresh), and mail the login what changed."""
    login = require_login(ctx)
    settings = ctx.settings
    customer = await named_customer(ctx, choice)
    if customer is None:
        return Outcome.failed(C.NOT_FOUND, *choice.field)
    if closed := await closed_problem(customer):
        return Outcome(problems=[closed])
    change = None
    if change_pk is not None:
        change = await BaseDataChange.filter(
            id=change_pk, login_id=login.id, customer_id=customer.id
        ).first()
    if change is None:
        return Outcome(problems=[Problem(C.NOT_FOUND, ("input", "id"))])
    if change.confirmed_at is not None:
        return Outcome(problems=[Problem(C.CHANGE_ALREADY_CONFIRMED, ("input", "id"))])
    if clock.now() >= change.expires_at:
        return Outcome(problems=[Problem(C.CHANGE_EXPIRED, ("input", "id"))])
    if refused := await reauthentication_problem(ctx, password, C):
        return Outcome(problems=[refused])
    async with in_transaction() as conn:
        fresh = await Customer.filter(id=customer.id).select_for_update().using_db(conn).get()
        if any(getattr(fresh, name) != diff["old"] for name, diff in change.changes.items()):
            return Outcome(problems=[Problem(C.CHANGE_OUTDATED, ("input", "id"))])
        claimed = (
            await BaseDataChange.filter(id=change.id, confirmed_at=None)
            .using_db(conn)
            .update(confirmed_at=clock.now())
        )
        if not claimed:
            return Outcome(problems=[Problem(C.CHANGE_ALREADY_CONFIRMED, ("input", "id"))])
        updated: list[str] = []
        for name, diff in change.changes.items():
            if name == CONSENT:
                record_online_consent(fresh, bool(diff["new"]), login, settings)
                updated.extend(CONSENT_FIELDS)
            else:
                setattr(fresh, name, diff["new"])
                updated.append(name)
        await fresh.save(using_db=conn, update_fields=[*updated, "updated_at"])
        await audit(ctx, "customer.base_data", login.id, fields=sorted(change.changes))
        mailed_to = await confirm_by_mail(
            "base_data_changed", fresh, login, settings, conn, changes=_change_lines(change.changes)
        )
    _refresh(ctx, customer, fresh)
    return Outcome(customer, mailed_to=mailed_to)


def _refresh(ctx: Context, cached: Customer, fresh: Customer) -> None:
    """Let the rest of this response see the saved row (the loaders hold `cached`)."""
    for name in (*BASE_DATA_FIELDS, *CONSENT_FIELDS, "updated_at"):
        setattr(cached, name, getattr(fresh, name))


async def set_online_customer(
    ctx: Context, choice: CustomerChoice, consent: bool, password: str | None
) -> Outcome[Customer]:
    """Give or withdraw the chosen customer's consent in one step: this call is the
    confirmation (with the password if the login is not fresh); mails the login.
    Asking for the consent it already has succeeds as it is: nothing changes, no mail."""
    login = require_login(ctx)
    settings = ctx.settings
    customer = await named_customer(ctx, choice)
    if customer is None:
        return Outcome.failed(C.NOT_FOUND, *choice.field)
    if closed := await closed_problem(customer):
        return Outcome(problems=[closed])
    if customer.online_consent == consent:
        return Outcome(customer)
    if refused := await reauthentication_problem(ctx, password, C):
        return Outcome(problems=[refused])
    async with in_transaction() as conn:
        fresh = await Customer.filter(id=customer.id).select_for_update().using_db(conn).get()
        record_online_consent(fresh, consent, login, settings)
        await fresh.save(using_db=conn, update_fields=[*CONSENT_FIELDS, "updated_at"])
        await audit(ctx, "customer.consent", login.id, outcome="given" if consent else "withdrawn")
        mailed_to = await confirm_by_mail(
            "online_consent_changed",
            fresh,
            login,
            settings,
            conn,
            given=consent,
            at=format_when(fresh.online_consent_at or clock.now(), login.locale, settings),
            wording_version=fresh.online_consent_version,
        )
    _refresh(ctx, customer, fresh)
    return Outcome(customer, mailed_to=mailed_to)
