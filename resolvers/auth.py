"""Request-level guards, at the top of an operation: who is calling, how often,
and whether a sensitive change has the current password and a fresh second factor.
Each `RequestErrorCode` is raised here, by one helper each."""

from __future__ import annotations

import datetime as dt
from typing import NoReturn

import clock
from models import Login, Session, factor_methods, second_factor_fresh
from models.errors import ErrorCode, Problem, PublicError, problem
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
    """May a sensitive change go ahead? False when `reauthentication_problem` finds one.

    For callers that answer only REAUTHENTICATION_REQUIRED; they refuse a stale
    second factor too, but say so less precisely. New callers use
    `reauthentication_problem`, which names the code.
    """
    return await _refusal(ctx, password, always=always) is None


async def reauthentication_problem(
    ctx: Context,
    password: str | None,
    codes: type[ErrorCode],
    *,
    always: bool = False,
    field: tuple[str, ...] = ("input", "currentPassword"),
) -> Problem | None:
    """The one re-authentication check of every sensitive change, of every area: None
    when it may go ahead, else the problem to answer with the area's `codes`.

        if refused := await reauthentication_problem(ctx, password, AccountErrorCode):
            return Outcome(problems=[refused])

    Password: without one the change may go ahead only while the session is
    fresh (`needs_password_again`); `always=True` (changing the password or the
    login e-mail, deleting the profile, changing the second factor) demands it
    whatever the session's age. A password that is given must be right, even
    when it was not needed. A right password renews the session's
    authentication time; a wrong one counts as a failed login of the login
    (`Limits.login_guesses`), so a stolen session cannot guess the password
    without limit. Refused: REAUTHENTICATION_REQUIRED on `field`.

    Second factor (step-up): when the login has one set up, the session must
    have given it within `step_up_minutes`, at login or with `stepUp`; refused:
    SECOND_FACTOR_REQUIRED (the area's enum has it; REAUTHENTICATION_REQUIRED
    stands in where it does not).
    """
    refusal = await _refusal(ctx, password, always=always)
    if refusal is None:
        return None
    name = refusal if refusal in codes.__members__ else "REAUTHENTICATION_REQUIRED"
    if name == "REAUTHENTICATION_REQUIRED":
        return problem(codes[name], *field)
    return problem(codes[name])


async def _refusal(ctx: Context, password: str | None, *, always: bool) -> str | None:
    login = require_login(ctx)
    session = ctx.session
    assert session is not None
    if not await _password_ok(ctx, login, session, password, always=always):
        return "REAUTHENTICATION_REQUIRED"
    if await factor_methods(login.id) and not second_factor_fresh(
        session, now=clock.now(), step_up_minutes=ctx.settings.step_up_minutes
    ):
        await audit(ctx, "step_up_required", login.id, outcome="refused")
        return "SECOND_FACTOR_REQUIRED"
    return None


async def _password_ok(
    ctx: Context, login: Login, session: Session, password: str | None, *, always: bool
) -> bool:
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
