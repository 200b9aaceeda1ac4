"""Request-level guards, at the top of an operation: who is calling, how often,
and whether a sensitive change has the current password. Each `RequestErrorCode`
is raised here, by one helper each."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import NoReturn

import strawberry
from graphql import OperationType

from models import Login, Session
from resolvers.context import Info, audit
from schema.errors import PublicError, register_messages
from security import throttle
from security.devices import known_device
from security.passwords import HashingBusy
from security.ratelimit import Decision, Limit, Limits, RateLimiter, rate_limiter
from security.sessions import csrf_ok
from security.throttle import Caller


@strawberry.enum(description="Codes of errors that concern the request as a whole.")
class RequestErrorCode(Enum):
    UNAUTHENTICATED = strawberry.enum_value(
        "UNAUTHENTICATED", description="No valid session: log in (again)."
    )
    CSRF_TOKEN_INVALID = strawberry.enum_value(
        "CSRF_TOKEN_INVALID",
        description="A cookie-authenticated mutation lacked the session's X-CSRF-Token header.",
    )
    RATE_LIMITED = strawberry.enum_value(
        "RATE_LIMITED", description="Too many attempts; `retryAfter` says how many seconds to wait."
    )
    BUSY = strawberry.enum_value("BUSY", description="The server is busy; try again shortly.")


register_messages(
    {
        RequestErrorCode.UNAUTHENTICATED: (
            "Bitte melden Sie sich an.",
            "Please log in.",
        ),
        RequestErrorCode.CSRF_TOKEN_INVALID: (
            "Die Anfrage konnte nicht bestätigt werden. Bitte laden Sie die Seite neu.",
            "The request could not be verified. Please reload the page.",
        ),
        RequestErrorCode.RATE_LIMITED: (
            "Zu viele Versuche. Bitte warten Sie {retryAfter} Sekunden.",
            "Too many attempts. Please wait {retryAfter} seconds.",
        ),
        RequestErrorCode.BUSY: (
            "Der Dienst ist gerade ausgelastet. Bitte versuchen Sie es gleich noch einmal.",
            "The service is busy right now. Please try again in a moment.",
        ),
    }
)


def require_login(info: Info) -> Login:
    """The logged-in login, or an UNAUTHENTICATED error.

    A session from a cookie may change data only with its CSRF token.
    """
    context = info.context
    if context.session is None or context.login is None:
        raise PublicError(RequestErrorCode.UNAUTHENTICATED, context.locale)
    if (
        context.via_cookie
        and info.operation.operation == OperationType.MUTATION
        and not csrf_ok(context.request, context.session, context.settings)
    ):
        raise PublicError(RequestErrorCode.CSRF_TOKEN_INVALID, context.locale)
    return context.login


# ------------------------------------------------------------------ rate limits


def limiter(info: Info) -> RateLimiter:
    """The app's one rate limiter (security/ratelimit.py)."""
    return rate_limiter(info.context.request.app.state, info.context.settings)


def refuse_rate_limited(info: Info, decision: Decision) -> NoReturn:
    """Too many attempts: HTTP 429 with Retry-After, and a RATE_LIMITED error."""
    seconds = decision.retry_after_seconds
    response = info.context.response
    if response is not None:
        response.status_code = 429
        response.headers["Retry-After"] = str(seconds)
    raise PublicError(RequestErrorCode.RATE_LIMITED, info.context.locale, retryAfter=seconds)


def caller(info: Info, login: Login | None) -> Caller:
    """Who is guessing against `login`: the client address and, if the request comes from
    one, `login`'s known device (`security.devices`), for `security.throttle`."""
    ctx = info.context
    device = known_device(ctx.request, ctx.settings, login) if login is not None else None
    return Caller(ctx.client_address, device)


async def enforce(info: Info, limit: Limit, key: str) -> None:
    """Count one attempt; refuse the request when the limit is reached."""
    decision = await limiter(info).hit(limit, key)
    if not decision.allowed:
        refuse_rate_limited(info, decision)


async def enforce_not_exceeded(info: Info, limit: Limit, key: str) -> None:
    """Refuse the request when the limit is reached, without counting (failures count)."""
    decision = await limiter(info).peek(limit, key)
    if not decision.allowed:
        refuse_rate_limited(info, decision)


# -------------------------------------------------------------------- passwords


def refuse_busy(info: Info) -> NoReturn:
    """The password hashing pool is full: 429 with Retry-After, and a BUSY error."""
    response = info.context.response
    if response is not None:
        response.status_code = 429
        response.headers["Retry-After"] = "1"
    raise PublicError(RequestErrorCode.BUSY, info.context.locale)


async def check_password(info: Info, password: str, hashed: str | None) -> bool:
    """bcrypt off the event loop; with no hash it checks a dummy so timing reveals nothing."""
    try:
        return await info.context.hasher.verify(password, hashed)
    except HashingBusy:
        refuse_busy(info)


def needs_password_again(session: Session, reauth_minutes: int) -> bool:
    """Issue 9: a session that logged in `reauth_minutes` (15) ago or longer must give
    the password again before a sensitive change."""
    age = dt.datetime.now(dt.UTC) - session.authenticated_at
    return age >= dt.timedelta(minutes=reauth_minutes)


async def reauthenticate(info: Info, password: str | None, *, always: bool = False) -> bool:
    """Issue 9: may a sensitive change go ahead? False means REAUTHENTICATION_REQUIRED.

    Every sensitive mutation of every area asks this one function and answers
    False with its area's REAUTHENTICATION_REQUIRED error on the password field:

        if not await reauthenticate(info, password):
            return Payload(errors=[<REAUTHENTICATION_REQUIRED on the password field>])

    Without a password the change may go ahead only while the session is
    fresh (`needs_password_again`); `always=True` (changing the password or
    the login e-mail, deleting the profile) demands it whatever the session's
    age. A password that is given must be right, even when it was not needed.
    A right password renews the session's authentication time; a wrong one
    counts as a failed login of the login (`Limits.login_guesses`), so a stolen
    session cannot guess the password without limit.
    """
    login = require_login(info)
    ctx = info.context
    session = ctx.session
    assert session is not None
    if not password:
        return not always and not needs_password_again(session, ctx.settings.reauth_minutes)
    guesses, who = Limits.login_guesses(ctx.settings), caller(info, login)
    decision = await throttle.refusal(limiter(info), guesses, login.email_key, who)
    if not decision.allowed:
        refuse_rate_limited(info, decision)
    if not await check_password(info, password, login.password_hash):
        await throttle.failed(limiter(info), guesses, login.email_key, who)
        await audit(info, "reauthenticate", login.id, outcome="failure")
        return False
    session.authenticated_at = dt.datetime.now(dt.UTC)
    await Session.filter(id=session.id).update(authenticated_at=session.authenticated_at)
    return True
