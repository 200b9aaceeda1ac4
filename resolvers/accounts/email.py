"""Changing the login e-mail (R6), and undoing a change from the old address."""

from __future__ import annotations

import datetime as dt

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from mailers import is_valid_email, mask_address, queue_mail
from models import Login, SecretPurpose
from models.account_codes import AccountErrorCode
from models.errors import Outcome
from resolvers.accounts.addresses import clean_email, email_key
from resolvers.accounts.links import (
    find_link_token,
    issue_link_token,
    use_link_token,
    void_link_tokens,
)
from resolvers.accounts.mails import Sent, available_at, mail_gate, portal_link, resend_refused
from resolvers.accounts.notices import notify_email_changed
from resolvers.accounts.password import send_reset_link
from resolvers.auth import reauthentication_problem, require_login
from resolvers.context import Context, audit
from security.sessions import clear_session_cookie, end_sessions

CONFIRM_MAIL = "email_change_confirm"


async def _in_use(address: str, except_login_id: int) -> bool:
    return await Login.filter(email_key=email_key(address)).exclude(id=except_login_id).exists()


async def change_email(ctx: Context, current_password: str | None, new_email: str) -> Outcome[Sent]:
    """R6: the new address takes effect only when confirmed from it; needs the password."""
    login = require_login(ctx)
    settings = ctx.settings
    if refused := await reauthentication_problem(
        ctx, current_password, AccountErrorCode, always=True
    ):
        return Outcome(problems=[refused])
    address = clean_email(new_email)
    if not is_valid_email(address):
        return Outcome.failed(AccountErrorCode.EMAIL_INVALID, "input", "newEmail")
    if email_key(address) == login.email_key:
        return Outcome.failed(AccountErrorCode.NOTHING_CHANGED, "input", "newEmail")
    if await _in_use(address, login.id):
        return Outcome.failed(AccountErrorCode.EMAIL_IN_USE, "input", "newEmail")
    cooldown = dt.timedelta(minutes=settings.link_resend_minutes)
    gate = await mail_gate(ctx, CONFIRM_MAIL, address, cooldown, cooldown_key=f"login:{login.id}")
    if not gate.allowed:
        return Outcome(
            Sent(resend_available_at=available_at(gate)), problems=[resend_refused(gate)]
        )
    async with in_transaction():
        token, secret = await issue_link_token(
            login.id,
            SecretPurpose.EMAIL_CHANGE,
            dt.timedelta(hours=settings.email_change_valid_hours),
            settings,
            payload={"email": address},
        )
        await queue_mail(
            CONFIRM_MAIL,
            to=address,
            locale=login.locale,
            settings=settings,
            link=portal_link(settings, settings.confirm_email_path, token=token),
            valid_hours=settings.email_change_valid_hours,
        )
        await audit(ctx, "email_change_requested", login.id)
    return Outcome(
        Sent(expires_at=secret.expires_at, resend_available_at=secret.created_at + cooldown),
        mailed_to=mask_address(address),
    )


async def confirm_email_change(ctx: Context, token: str) -> Outcome[Sent]:
    """The link from the new address makes it the login e-mail; the old one is told,
    with a link that undoes the change."""
    settings = ctx.settings
    secret, failure = await find_link_token(
        ctx, token, SecretPurpose.EMAIL_CHANGE, "input", "token"
    )
    if failure or secret is None:
        return Outcome(problems=[failure] if failure else [])
    login = secret.login
    new_address, old_address = str(secret.payload["email"]), login.email
    if await _in_use(new_address, login.id):
        return Outcome.failed(AccountErrorCode.EMAIL_IN_USE, "input", "token")
    try:
        async with in_transaction():
            if not await use_link_token(secret):
                return Outcome.failed(AccountErrorCode.LINK_INVALID, "input", "token")
            login.email, login.email_key = new_address, email_key(new_address)
            await login.save(update_fields=["email", "email_key"])
            undo_token, _ = await issue_link_token(
                login.id,
                SecretPurpose.EMAIL_CHANGE_UNDO,
                dt.timedelta(days=settings.email_undo_valid_days),
                settings,
                payload={"email": old_address},
            )
            mailed_to = await notify_email_changed(
                ctx,
                login,
                old_email=old_address,
                undo_link=portal_link(settings, settings.undo_email_change_path, token=undo_token),
                undo_valid_days=settings.email_undo_valid_days,
            )
            await audit(ctx, "email_changed", login.id)
    except IntegrityError:
        return Outcome.failed(AccountErrorCode.EMAIL_IN_USE, "input", "token")
    return Outcome(mailed_to=mailed_to)


async def undo_email_change(ctx: Context, token: str) -> Outcome[Sent]:
    """From the old address's notice: restore it, end every session, start a password reset."""
    settings = ctx.settings
    secret, failure = await find_link_token(
        ctx, token, SecretPurpose.EMAIL_CHANGE_UNDO, "input", "token"
    )
    if failure or secret is None:
        return Outcome(problems=[failure] if failure else [])
    login = secret.login
    old_address = str(secret.payload["email"])
    if await _in_use(old_address, login.id):
        return Outcome.failed(AccountErrorCode.EMAIL_IN_USE, "input", "token")
    try:
        async with in_transaction():
            if not await use_link_token(secret):
                return Outcome.failed(AccountErrorCode.LINK_INVALID, "input", "token")
            await void_link_tokens(login.id, SecretPurpose.EMAIL_CHANGE)
            await void_link_tokens(login.id, SecretPurpose.EMAIL_CHANGE_UNDO)
            login.email, login.email_key = old_address, email_key(old_address)
            await login.save(update_fields=["email", "email_key"])
            await end_sessions(login.id)
            reset = await send_reset_link(login, settings)
            await audit(ctx, "email_change_undone", login.id)
    except IntegrityError:
        return Outcome.failed(AccountErrorCode.EMAIL_IN_USE, "input", "token")
    if ctx.response is not None and ctx.login is not None and ctx.login.id == login.id:
        clear_session_cookie(ctx.response, settings)
    return Outcome(Sent(expires_at=reset.expires_at), mailed_to=mask_address(old_address))
