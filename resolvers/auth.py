"""Request-level guards, at the top of an operation: who is calling, how often,
and whether a sensitive change has the current password. Each `RequestErrorCode`
is raised here, by one helper each."""

from __future__ import annotations

import datetime as dt
from typing import NoReturn

import clock
from models import Login, Session
from models.errors import PublicError
from models.request_codes import RequestErrorCode
from resolvers.context import Context, audit
from security import throttle
from security.devices import known_device
from security.passwords import HashingBusy
from security.ratelimit import Decision, Limit, Limits, RateLimiter, rate_limiter
from security.sessions import csrf_ok
from security.throttle import Caller


def require_login(ctx: Context) -> Login:
    """The logged-in login, or an UNAUTHENTICATED error.

    A session from a cookie may change data only with its CSRF token.
    """
    if ctx.session is None or ctx.login is None:
        raise PublicError(RequestErrorCode.UNAUTHENTICATED, ctx.locale)
    if ctx.via_cookie and ctx.mutation and not csrf_ok(ctx.request, ctx.session, ctx.settings):
        raise PublicError(RequestErrorCode.CSRF_TOKEN_INVALID, ctx.locale)
    return ctx.login


# ------------------------------------------------------------------ rate limits


def limiter(ctx: Context) -> RateLimiter:
    """The app's one rate limiter (security/ratelimit.py)."""
    return rate_limiter(ctx.request.app.state, ctx.settings)


def refuse_rate_limited(ctx: Context, decision: Decision) -> NoReturn:
    """Too many attempts: HTTP 429 with Retry-After, and a RATE_LIMITED error."""
    seconds = decision.retry_after_seconds
    response = ctx.response
    if response is not None:
        response.status_code = 429
        response.headers["Retry-After"] = str(seconds)
    raise PublicError(RequestErrorCode.RATE_LIMITED, ctx.locale, retryAfter=seconds)


def caller(ctx: Context, login: Login | None) -> Caller:
    """Who is guessing against `login`: the client address and, if the request comes from
    one, `login`'s known device (`security.devices`), for `security.throttle`."""
    device = known_device(ctx.request, ctx.settings, login) if login is not None else None
    return Caller(ctx.client_address, device)


async def enforce(ctx: Context, limit: Limit, key: str) -> None:
    """Count one attempt; refuse the request when the limit is reached."""
    decision = await limiter(ctx).hit(limit, key)
    if not decision.allowed:
        refuse_rate_limited(ctx, decision)


async def enforce_not_exceeded(ctx: Context, limit: Limit, key: str) -> None:
    """Refuse the request when the limit is reached, without counting (failures count)."""
    decision = await limiter(ctx).peek(limit, key)
    if not decision.allowed:
        refuse_rate_limited(ctx, decision)


# -------------------------------------------------------------------- passwords


def refuse_busy(ctx: Context) -> NoReturn:
    """The password hashing pool is full: 429 with Retry-After, and a BUSY error."""
    response = ctx.response
    if response is not None:
        response.status_code = 429
        response.headers["Retry-After"] = "1"
    raise PublicError(RequestErrorCode.BUSY, ctx.locale)


async def check_password(ctx: Context, password: str, hashed: str | None) -> bool:
    """bcrypt off the event loop; with no hash it checks a dummy so timing reveals nothing."""
    try:
        return await ctx.hasher.verify(password, hashed)
    except HashingBusy:
        refuse_busy(ctx)


def needs_password_again(session: Session, reauth_minutes: int) -> bool:
    """A session that logged in `reauth_minutes` (15) ago or longer must give the password
    again before a sensitive change: a device left logged in is not enough to make one."""
    age = clock.now() - session.authenticated_at
    return age >= dt.timedelta(minutes=reauth_minutes)


async def reauthenticate(ctx: Context, password: str | None, *, always: bool = False) -> bool:
    """May a sensitive change go ahead? False means REAUTHENTICATION_REQUIRED.

    Every sensitive mutation of every area asks this one function and answers
    False with its area's REAUTHENTICATION_REQUIRED error on the password field:

        if not await reauthenticate(ctx, password):
            return Payload(errors=[<REAUTHENTICATION_REQUIRED on the password field>])

    Without a password the change may go ahead only while the session is
    fresh (`needs_password_again`); `always=True` (changing the password or
    the login e-mail, deleting the profile) demands it whatever the session's
    age. A password that is given must be right, even when it was not needed.
    A right password renews the session's authentication time; a wrong one
    counts as a failed login of the login (`Limits.login_guesses`), so a stolen
    session cannot guess the password without limit.
    """
    login = require_login(ctx)
    session = ctx.session
    assert session is not None
    if not password:
        return not always and not needs_password_again(session, ctx.settings.reauth_minutes)
    guesses, who = Limits.login_guesses(ctx.settings), caller(ctx, login)
    decision = await throttle.refusal(limiter(ctx), guesses, login.email_key, who)
    if not decision.allowed:
        refuse_rate_limited(ctx, decision)
    if not await check_password(ctx, password, login.password_hash):
        await throttle.failed(limiter(ctx), guesses, login.email_key, who)
        await audit(ctx, "reauthenticate", login.id, outcome="failure")
        return False
    session.authenticated_at = clock.now()
    await Session.filter(id=session.id).update(authenticated_at=session.authenticated_at)
    return True
