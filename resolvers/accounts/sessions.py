"""Logging in and out: sessions for apps (Bearer token) and browsers (cookie + CSRF token)."""

from __future__ import annotations

import datetime as dt

import strawberry
from tortoise.transactions import in_transaction

from mailers import is_valid_email
from models import AuditEvent, Login, LoginState, Session
from resolvers.accounts.common import (
    clean_email,
    client_key,
    customer_numbers_of,
    email_key,
    error,
    user_agent,
    utcnow,
)
from resolvers.accounts.notices import notify_new_client
from resolvers.auth import caller, check_password, limiter, refuse_rate_limited, require_login
from resolvers.context import Info, audit
from schema.accounts import (
    AccountErrorCode,
    EndSessionsPayload,
    LoginPayload,
    LoginType,
    SessionType,
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


async def count_login_failure(info: Info, key: str, login: Login | None) -> None:
    """A wrong password counts as `security.throttle` says (per login and client, per
    login for unknown clients, per address). Using up the login's budget for unknown
    clients locks them out (not the known devices): recorded in the audit trail."""
    settings = info.context.settings
    login_id = login.id if login else None
    who = caller(info, login)
    decision = await throttle.failed(limiter(info), Limits.login_guesses(settings), key, who)
    await audit(info, "login_failed", login_id, outcome="failure")
    if who.device is None and decision.allowed and decision.remaining == 0:
        minutes = settings.rate_window_seconds // 60
        await audit(info, "lockout", login_id, actor="system", outcome="refused", minutes=minutes)


async def is_new_client(login: Login, fingerprint: str, history: int = 500) -> bool:
    """Issue 9: has this login never registered or logged in from this client before?

    Clients are compared by the keyed fingerprint the audit trail keeps of
    User-Agent and address. A login with no history at all is not told.
    """
    seen = (
        await AuditEvent.filter(
            login_id=login.id, action__in=["register", "login"], outcome="success"
        )
        .order_by("-id")
        .limit(history)
        .values_list("details", flat=True)
    )
    keys: set[object] = set()
    for details in seen:
        if isinstance(details, dict):
            keys.add(details.get("client_key"))
    return bool(keys) and fingerprint not in keys


async def login(info: Info, email: str, password: str) -> LoginPayload:
    """E-mail and password; the same error, after the same work, for either being wrong.

    Guessing is slowed per client without locking the owner out (`security.throttle`):
    the login's row is looked up first only to recognise its known devices."""
    ctx, settings = info.context, info.context.settings
    address = clean_email(email)
    key = email_key(address)
    row = await Login.get_or_none(email_key=key) if is_valid_email(address) else None
    guesses = Limits.login_guesses(settings)
    decision = await throttle.refusal(limiter(info), guesses, key, caller(info, row))
    if not decision.allowed:
        refuse_rate_limited(info, decision)
    too_long = len(password.encode()) > BCRYPT_MAX_BYTES
    ok = await check_password(info, password, row.password_hash if row and not too_long else None)
    if not ok or row is None:
        await count_login_failure(info, key, row)
        return LoginPayload(errors=[error(info, AccountErrorCode.INVALID_CREDENTIALS, "password")])
    if row.state == LoginState.PENDING:
        return LoginPayload(errors=[error(info, AccountErrorCode.LOGIN_NOT_CONFIRMED, "email")])
    await throttle.succeeded(limiter(info), guesses, key, caller(info, row))

    async with in_transaction():
        session, token = await start_session(
            row, settings, client=user_agent(info), address=ctx.client_address
        )
        row.last_login_at = session.created_at
        row.locale = ctx.locale
        await row.save(update_fields=["last_login_at", "locale"])
        fingerprint = client_key(info)
        mailed_to = None
        if await is_new_client(row, fingerprint):
            mailed_to = await notify_new_client(info, row)
        await audit(info, "login", row.id, client_key=fingerprint)
    device = remember_device(ctx.request, settings, row, session.created_at)
    if ctx.response is not None:
        set_session_cookie(ctx.response, token, settings)
        set_device_cookie(ctx.response, device.token, settings)
    return LoginPayload(
        token=token,
        csrf_token=csrf_token(session, settings),
        session_expires_at=session.expires_at,
        device_token=device.token,
        login=LoginType.from_model(row, await customer_numbers_of(row)),
        mailed_to=mailed_to,
    )


async def logout(info: Info, all_sessions: bool) -> EndSessionsPayload:
    """End this session, or every session of the login."""
    login_row = require_login(info)
    ctx = info.context
    assert ctx.session is not None
    if all_sessions:
        ended = await end_sessions(login_row.id)
    else:
        ended = await Session.filter(id=ctx.session.id).delete()
    if ctx.response is not None:
        clear_session_cookie(ctx.response, ctx.settings)
    await audit(info, "logout", login_row.id, all_sessions=all_sessions)
    return EndSessionsPayload(ended_sessions=ended)


async def me(info: Info) -> LoginType | None:
    """The logged-in login, or null for an anonymous request."""
    login_row = info.context.login
    if login_row is None:
        return None
    return LoginType.from_model(login_row, await customer_numbers_of(login_row))


async def sessions(info: Info) -> list[SessionType]:
    """The login's live sessions, the newest first."""
    login_row = require_login(info)
    ctx = info.context
    now = utcnow()
    rows = await Session.filter(
        login_id=login_row.id,
        expires_at__gt=now,
        last_used_at__gt=now - dt.timedelta(minutes=ctx.settings.session_idle_minutes),
    ).order_by("-created_at", "-id")
    current = ctx.session.id if ctx.session else None
    return [SessionType.from_model(row, current) for row in rows]


async def end_sessions_of_login(
    info: Info, session_id: strawberry.ID | None, all_others: bool
) -> EndSessionsPayload:
    """Issue 9: end one session of the login (e.g. a lost phone), or all but this one."""
    login_row = require_login(info)
    ctx = info.context
    assert ctx.session is not None
    if (session_id is None) == (not all_others):
        return EndSessionsPayload(errors=[error(info, AccountErrorCode.CHOICE_REQUIRED)])
    if all_others:
        ended = await end_sessions(login_row.id, keep=ctx.session)
    else:
        target = int(session_id) if session_id and str(session_id).isdigit() else 0
        ended = await Session.filter(id=target, login_id=login_row.id).delete()
        if not ended:
            return EndSessionsPayload(
                errors=[error(info, AccountErrorCode.SESSION_NOT_FOUND, "sessionId")]
            )
        if target == ctx.session.id and ctx.response is not None:
            clear_session_cookie(ctx.response, ctx.settings)
    await audit(info, "sessions_ended", login_row.id, count=ended)
    return EndSessionsPayload(ended_sessions=ended)
