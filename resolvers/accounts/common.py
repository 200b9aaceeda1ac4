"""What every account operation shares: clock, addresses, hashing, links, mail gate.

Rate limits, password checks and re-authentication are the request guards of
`resolvers.auth`, shared with the other areas."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

import clock
from models import Login, LoginCustomer
from resolvers.auth import limiter, refuse_busy
from resolvers.context import Info
from schema.accounts import CHARACTER_CLASS_NAMES, AccountError, AccountErrorCode
from security.password_policy import (
    MIN_LENGTH,
    PasswordProblem,
    password_problems,
    r3_shortfalls,
)
from security.passwords import HashingBusy
from security.ratelimit import Decision, Limits
from security.tokens import hash_secret
from settings import Settings


def clean_email(raw: str) -> str:
    return raw.strip()


def email_key(email: str) -> str:
    return email.lower()


def user_agent(info: Info) -> str:
    return info.context.request.headers.get("user-agent", "")[:200]


def error(info: Info, code: AccountErrorCode, *field: str, **params: object) -> AccountError:
    return AccountError.of(code, info.context.locale, list(field) or None, **params)


# ----------------------------------------------------------------- mail gate


async def mail_gate(
    info: Info, kind: str, address: str, cooldown: dt.timedelta, *, cooldown_key: str = ""
) -> Decision:
    """Whether a mail of `kind` may go to `address` now, and count it if so.

    Three limits at once: the cooldown between two such mails (keyed by
    `cooldown_key`, default the address), and the daily caps per recipient
    address and per client address, so nobody can flood a stranger's inbox.
    Counted for addresses that have no login too, so the answers reveal nothing.
    """
    s = info.context.settings
    key = email_key(address)
    checks = [
        (Limits.mail_cooldown(kind, cooldown.total_seconds()), cooldown_key or key),
        (Limits.mails_per_address(s, kind), key),
        (Limits.mails_per_client(s, kind), info.context.client_address),
    ]
    return await limiter(info).hit_all(checks)


def available_at(decision: Decision) -> dt.datetime:
    return clock.now() + dt.timedelta(seconds=decision.retry_after_seconds)


def resend_refused(info: Info, decision: Decision) -> AccountError:
    minutes = max(1, -(-decision.retry_after_seconds // 60))
    return error(info, AccountErrorCode.RESEND_NOT_YET_AVAILABLE, minutes=minutes)


# ----------------------------------------------------------------- passwords


async def hash_password(info: Info, password: str) -> str:
    try:
        return await info.context.hasher.hash(password)
    except HashingBusy:
        refuse_busy(info)


_PROBLEM_CODES = {
    PasswordProblem.TOO_SHORT: AccountErrorCode.PASSWORD_TOO_SHORT,
    PasswordProblem.MISSING_CHARACTER_CLASSES: AccountErrorCode.PASSWORD_CHARACTER_CLASSES_MISSING,
    PasswordProblem.TOO_LONG: AccountErrorCode.PASSWORD_TOO_LONG,
    PasswordProblem.CONTAINS_PERSONAL_DATA: AccountErrorCode.PASSWORD_CONTAINS_PERSONAL_DATA,
    PasswordProblem.TOO_COMMON: AccountErrorCode.PASSWORD_TOO_COMMON,
}


def password_errors(
    info: Info, password: str, *, email: str, customer_numbers: list[str], field: list[str]
) -> list[AccountError]:
    """The password policy's problems as typed errors on `field`."""
    english = info.context.locale == "en"
    errors = []
    for problem in password_problems(password, email=email, customer_numbers=customer_numbers):
        params: dict[str, object] = {}
        if problem is PasswordProblem.TOO_SHORT:
            params["min"] = MIN_LENGTH
        if problem is PasswordProblem.MISSING_CHARACTER_CLASSES:
            names = [CHARACTER_CLASS_NAMES[c][english] for c in r3_shortfalls(password)[1]]
            params["missing"] = ", ".join(names)
        errors.append(error(info, _PROBLEM_CODES[problem], *field, **params))
    return errors


async def customer_numbers_of(login: Login) -> list[str]:
    numbers = (
        await LoginCustomer.filter(login_id=login.id)
        .order_by("added_at", "id")
        .values_list("customer__number", flat=True)
    )
    return [str(n) for n in numbers]


# --------------------------------------------------------------- mail helpers


def portal_link(settings: Settings, path: str, **query: str) -> str:
    """A link to a page of the front end; tokens are URL-safe, so links survive copying."""
    base = settings.portal_url.rstrip("/") + "/" + path.lstrip("/")
    return base + ("?" + urlencode(query) if query else "")


_URL_LIKE = re.compile(r"[a-z][a-z0-9+.-]*://\S*|www\.\S*", re.IGNORECASE)
_UNSAFE = re.compile(r"[^A-Za-z0-9 ._/();,:+\-]")


def describe_client(info: Info, locale: str) -> str:
    """The client as a notice names it: its User-Agent and network address.

    The User-Agent is whatever the client sent, so links and odd characters are
    taken out: a notice must not carry text an attacker wrote for the victim.
    """
    agent = " ".join(_UNSAFE.sub("", _URL_LIKE.sub("", user_agent(info))).split())[:120]
    agent = agent or ("unknown program" if locale == "en" else "unbekanntes Programm")
    return f"{agent} ({info.context.client_address or '?'})"


def client_key(info: Info) -> str:
    """A keyed fingerprint of the client (User-Agent and address), for 'seen before?'.

    Stored in audit details instead of the User-Agent and address themselves.
    """
    seen = f"{user_agent(info)}|{info.context.client_address}"
    return hash_secret(seen, info.context.settings.secret_key, scope="client")[:16]
