"""Logging in and out: sessions for apps (Bearer token) and browsers (cookie + CSRF token).

A login with its second factor on gives it before the session starts, unless the
device is remembered (`resolvers.second_factor.gate`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from tortoise.transactions import in_transaction

import clock
from mailers import is_valid_email
from models import AuditEvent, Login, LoginState, Session
from models.account_codes import AccountErrorCode
from models.errors import Outcome
from resolvers.accounts.addresses import clean_email, email_key
from resolvers.accounts.clients import (
    client_key,
    device_fingerprint,
    device_key,
    user_agent,
)
from resolvers.accounts.logins import customer_numbers_of
from resolvers.accounts.notices import notify_new_client
from resolvers.auth import caller, check_password, limiter, refuse_rate_limited, require_login
from resolvers.context import Context, audit
from resolvers.second_factor.gate import (
    SecondFactorNeeded,
    remember_this_device,
    second_factor_needed,
)
from security import throttle
from security.devices import remember_device, set_device_cookie
from security.passwords import BCRYPT_MAX_BYTES
from security.ratelimit import Limits
from security.sessions import (
    clear_session_cookie,
    csrf_token,
    end_sessions,
    set_session_cookie,
    start_session,
)


@dataclass(frozen=True)
class LoggedIn:
    """A new session: its token for apps, the CSRF token for cookie clients, the device
    token for apps (`security.devices`), the login."""

    token: str
    csrf_token: str
    session_expires_at: dt.datetime
    device_token: str
    login: Login
    customer_numbers: list[str]


async def count_login_failure(ctx: Context, key: str, login: Login | None) -> None:
    """A wrong password counts as `security.throttle` says (per login and client, per
    login for unknown clients, per address). Using up the login's budget for unknown
    clients locks them out (not the known devices): recorded in the audit trail."""
    settings = ctx.settings
    login_id = login.id if login else None
    who = caller(ctx, login)
    decision = await throttle.failed(limiter(ctx), Limits.login_guesses(settings), key, who)
    await audit(ctx, "login_failed", login_id, outcome="failure")
    if who.device is None and decision.allowed and decision.remaining == 0:
        minutes = settings.rate_window_seconds // 60
        await audit(ctx, "lockout", login_id, actor="system", outcome="refused", minutes=minutes)


async def is_new_device(
    login: Login, device: str | None, fingerprint: str, history: int = 500
) -> bool:
    """Has this login never registered or logged in from this device before? (Then its
    owner is told, so that a login by someone else does not go unnoticed.)

    A device is the stable id of its device token (`security.devices`: the cookie of a
    browser, the `X-Device-Token` an app sends back), compared by the keyed `device`
    fingerprint the audit trail keeps; a new User-Agent of the same browser (an update)
    is no new device. A request without a device token is a new device: a browser with
    cleared cookies, an app that does not keep its `deviceToken`, or someone else. A login
    with no history at all is not told. Until a login's history names a device (events
    from before device fingerprints were kept), the client's User-Agent and address
    (`fingerprint`) decide as they did then.
    """
    seen = (
        await AuditEvent.filter(
            login_id=login.id, action__in=["register", "login"], outcome="success"
        )
        .order_by("-id")
        .limit(history)
        .values_list("details", flat=True)
    )
    details = [cast(dict[str, object], d) for d in seen if isinstance(d, dict)]
    devices = {d.get("device_key") for d in details} - {None}
    if devices:
        return device not in devices
    clients = {d.get("client_key") for d in details}
    return bool(clients) and fingerprint not in clients


async def login(ctx: Context, email: str, password: str) -> Outcome[LoggedIn | SecondFactorNeeded]:
    """E-mail and password; the same error, after the same work, for either being wrong.

    Guessing is slowed per client without locking the owner out (`security.throttle`):
    the login's row is looked up first only to recognise its known devices. With the
    second factor on and a device that is not remembered, no session starts: the
    answer is `SecondFactorNeeded`, and `completeLogin` finishes."""
    settings = ctx.settings
    address = clean_email(email)
    key = email_key(address)
    row = await Login.get_or_none(email_key=key) if is_valid_email(address) else None
    guesses = Limits.login_guesses(settings)
    decision = await throttle.refusal(limiter(ctx), guesses, key, caller(ctx, row))
    if not decision.allowed:
        refuse_rate_limited(ctx, decision)
    too_long = len(password.encode()) > BCRYPT_MAX_BYTES
    ok = await check_password(ctx, password, row.password_hash if row and not too_long else None)
    if not ok or row is None:
        await count_login_failure(ctx, key, row)
        return Outcome.failed(AccountErrorCode.INVALID_CREDENTIALS, "input", "password")
    if row.state == LoginState.PENDING:
        return Outcome.failed(AccountErrorCode.LOGIN_NOT_CONFIRMED, "input", "email")
    await throttle.succeeded(limiter(ctx), guesses, key, caller(ctx, row))
    if needed := await second_factor_needed(ctx, row):
        return Outcome(needed)
    return cast(Outcome[LoggedIn | SecondFactorNeeded], await start_logged_in(ctx, row))


async def start_logged_in(
    ctx: Context,
    row: Login,
    *,
    second_factor: bool = False,
    remember: bool = False,
    method: str = "password",
) -> Outcome[LoggedIn]:
    """Start the session of `row`, who proved who it is: the session and device cookies
    (and tokens for apps), the new-client notice and the audit event.

    `second_factor`: it was given just now, which counts as a step-up for this
    session; `remember`: this device may skip it at login for a while.
    """
    settings = ctx.settings
    async with in_transaction():
        session, token = await start_session(
            row,
            settings,
            client=user_agent(ctx),
            address=ctx.client_address,
            second_factor=second_factor,
        )
        row.last_login_at = session.created_at
        await row.save(update_fields=["last_login_at"])
        fingerprint = client_key(ctx)
        device = remember_device(ctx.request, settings, row, session.created_at)
        mailed_to = None
        if await is_new_device(row, device_key(ctx), fingerprint):
            mailed_to = await notify_new_client(ctx, row)
        await audit(
            ctx,
            "login",
            row.id,
            client_key=fingerprint,
            device_key=device_fingerprint(ctx, device.device.device_id),
            method=method,
        )
    if remember:
        await remember_this_device(ctx, row, device.device.device_id)
    if ctx.response is not None:
        set_session_cookie(ctx.response, token, settings)
        set_device_cookie(ctx.response, device.token, settings)
    return Outcome(
        LoggedIn(
            token=token,
            csrf_token=csrf_token(session, settings),
            session_expires_at=session.expires_at,
            device_token=device.token,
            login=row,
            customer_numbers=await customer_numbers_of(row),
        ),
        mailed_to=mailed_to,
    )


async def logout(ctx: Context, all_sessions: bool) -> Outcome[int]:
    """End this session, or every session of the login."""
    login_row = require_login(ctx)
    assert ctx.session is not None
    if all_sessions:
        ended = await end_sessions(login_row.id)
    else:
        ended = await Session.filter(id=ctx.session.id).delete()
    if ctx.response is not None:
        clear_session_cookie(ctx.response, ctx.settings)
    await audit(ctx, "logout", login_row.id, all_sessions=all_sessions)
    return Outcome(ended)


async def live_sessions(ctx: Context, pk: int | None = None) -> list[Session]:
    """The login's live sessions, the newest first (only the one with primary key `pk`
    when given: another login's session is not found)."""
    login_row = require_login(ctx)
    now = clock.now()
    rows = Session.filter(
        login_id=login_row.id,
        expires_at__gt=now,
        last_used_at__gt=now - dt.timedelta(minutes=ctx.settings.session_idle_minutes),
    )
    if pk is not None:
        rows = rows.filter(id=pk)
    return list(await rows.order_by("-created_at", "-id"))


async def end_sessions_of_login(
    ctx: Context, session_id: int | None, all_others: bool
) -> Outcome[int]:
    """End one session of the login (e.g. a lost phone), or all but this one. `session_id`:
    the session's primary key (0 for an ID that names no session)."""
    login_row = require_login(ctx)
    assert ctx.session is not None
    if (session_id is None) == (not all_others):
        return Outcome.failed(AccountErrorCode.CHOICE_REQUIRED)
    if all_others:
        ended = await end_sessions(login_row.id, keep=ctx.session)
    else:
        target = session_id or 0
        ended = await Session.filter(id=target, login_id=login_row.id).delete()
        if not ended:
            return Outcome.failed(AccountErrorCode.NOT_FOUND, "input", "sessionId")
        if target == ctx.session.id and ctx.response is not None:
            clear_session_cookie(ctx.response, ctx.settings)
    await audit(ctx, "sessions_ended", login_row.id, count=ended)
    return Outcome(ended)
