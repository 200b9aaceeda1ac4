"""Forgotten password (R7) and changing the password."""

from __future__ import annotations

import datetime as dt

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from mailers import is_valid_email, mask_address, queue_mail
from models import Login, LoginState, OneTimeSecret, SecretPurpose
from ops.tasks import spawn
from resolvers.accounts.common import (
    available_at,
    clean_email,
    customer_numbers_of,
    email_key,
    error,
    hash_password,
    mail_gate,
    password_errors,
    portal_link,
    resend_refused,
    utcnow,
)
from resolvers.accounts.links import find_link_token, issue_link_token, use_link_token
from resolvers.accounts.notices import notify_password_changed
from resolvers.auth import limiter, reauthenticate, require_login
from resolvers.context import Info, audit
from schema.accounts import (
    AccountError,
    AccountErrorCode,
    PasswordPayload,
    RequestPasswordResetPayload,
)
from security.ratelimit import Limits
from security.sessions import end_sessions
from settings import Settings

RESET_MAIL = "password_reset"


async def send_reset_link(login: Login, settings: Settings) -> OneTimeSecret:
    """R7: a mail with a link to set a new password, valid for 7 days.

    The link is the front end's reset page with a URL-safe token, so it also
    works copied whole into the address bar; single use, and a newer link
    voids the older. Call in a transaction.
    """
    token, secret = await issue_link_token(
        login.id,
        SecretPurpose.PASSWORD_RESET,
        dt.timedelta(days=settings.reset_link_valid_days),
        settings,
    )
    await queue_mail(
        RESET_MAIL,
        to=login.email,
        locale=login.locale,
        settings=settings,
        link=portal_link(settings, settings.reset_password_path, token=token),
        valid_days=settings.reset_link_valid_days,
    )
    return secret


async def request_password_reset(info: Info, email: str) -> RequestPasswordResetPayload:
    """Mail a reset link. Answers the same whether or not the address has a login."""
    settings = info.context.settings
    address = clean_email(email)
    if not is_valid_email(address):
        return RequestPasswordResetPayload(
            errors=[error(info, AccountErrorCode.INVALID_EMAIL, "email")]
        )
    cooldown = dt.timedelta(minutes=settings.link_resend_minutes)
    gate = await mail_gate(info, RESET_MAIL, address, cooldown)
    if not gate.allowed:
        return RequestPasswordResetPayload(
            errors=[resend_refused(info, gate)], resend_available_at=available_at(gate)
        )
    spawn(_mail_reset_link(info, address), name="password-reset")
    now = utcnow()
    return RequestPasswordResetPayload(
        mailed_to=mask_address(address),
        expires_at=now + dt.timedelta(days=settings.reset_link_valid_days),
        resend_available_at=now + cooldown,
    )


async def _mail_reset_link(info: Info, address: str) -> None:
    """After the answer: the link, if the address has an active login. The answer is
    the same and comes after the same work either way (no timing tells them apart)."""
    login = await Login.get_or_none(email_key=email_key(address), state=LoginState.ACTIVE)
    if login is None:
        return
    try:
        async with in_transaction():
            await send_reset_link(login, info.context.settings)
            await audit(info, "password_reset_requested", login.id, actor="anonymous")
    except IntegrityError:  # the login was deleted in the meantime: no link to send
        return


async def reset_password(info: Info, token: str, new_password: str) -> PasswordPayload:
    """Set a new password from a reset link; every session of the login ends."""
    settings = info.context.settings
    secret, failure = await find_link_token(info, token, SecretPurpose.PASSWORD_RESET, "token")
    if failure or secret is None:
        return PasswordPayload(errors=[failure] if failure else [])
    login = secret.login
    if errors := await _policy_errors(info, login, new_password):
        return PasswordPayload(errors=errors)
    password_hash = await hash_password(info, new_password)
    async with in_transaction():
        if not await use_link_token(secret):
            return PasswordPayload(errors=[error(info, AccountErrorCode.LINK_INVALID, "token")])
        await _set_password(login, password_hash)
        await end_sessions(login.id)
        mailed_to = await notify_password_changed(info, login)
        await audit(info, "password_reset", login.id)
    await limiter(info).clear(Limits.login_failures_per_login(settings), login.email_key)
    return PasswordPayload(mailed_to=mailed_to)


async def change_password(
    info: Info, current_password: str | None, new_password: str
) -> PasswordPayload:
    """A new password for the logged-in login; its other sessions end."""
    login = require_login(info)
    ctx = info.context
    if not await reauthenticate(info, current_password, always=True):
        return PasswordPayload(
            errors=[error(info, AccountErrorCode.REAUTHENTICATION_REQUIRED, "currentPassword")]
        )
    if errors := await _policy_errors(info, login, new_password):
        return PasswordPayload(errors=errors)
    password_hash = await hash_password(info, new_password)
    async with in_transaction():
        await _set_password(login, password_hash)
        await end_sessions(login.id, keep=ctx.session)
        mailed_to = await notify_password_changed(info, login)
        await audit(info, "password_changed", login.id)
    return PasswordPayload(mailed_to=mailed_to)


async def _policy_errors(info: Info, login: Login, new_password: str) -> list[AccountError]:
    """The password policy's objections to a new password of `login`, on `newPassword`."""
    customer_numbers = await customer_numbers_of(login)
    return password_errors(
        info,
        new_password,
        email=login.email,
        customer_numbers=customer_numbers,
        field=["newPassword"],
    )


async def _set_password(login: Login, password_hash: str) -> None:
    login.password_hash = password_hash
    login.password_changed_at = utcnow()
    await login.save(update_fields=["password_hash", "password_changed_at"])
    # A reset link issued before the change must not work after it.
    await OneTimeSecret.filter(
        login_id=login.id, purpose=SecretPurpose.PASSWORD_RESET, used_at=None, voided_at=None
    ).update(voided_at=utcnow())
