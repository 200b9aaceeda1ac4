"""Forgotten password (R7) and changing the password."""

from __future__ import annotations

import datetime as dt

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

import clock
from mailers import is_valid_email, mask_address, queue_mail
from models import Login, LoginState, OneTimeSecret, SecretPurpose
from models.account_codes import AccountErrorCode
from models.errors import Outcome, Problem
from ops.tasks import spawn
from resolvers.accounts.addresses import clean_email, email_key
from resolvers.accounts.links import find_link_token, issue_link_token, use_link_token
from resolvers.accounts.logins import customer_numbers_of
from resolvers.accounts.mails import Sent, available_at, mail_gate, portal_link, resend_refused
from resolvers.accounts.new_password import hash_password, password_errors
from resolvers.accounts.notices import notify_password_changed
from resolvers.auth import limiter, reauthentication_problem, require_login
from resolvers.context import Context, audit
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


async def request_password_reset(ctx: Context, email: str) -> Outcome[Sent]:
    """Mail a reset link. Answers the same whether or not the address has a login."""
    settings = ctx.settings
    address = clean_email(email)
    if not is_valid_email(address):
        return Outcome.failed(AccountErrorCode.EMAIL_INVALID, "input", "email")
    cooldown = dt.timedelta(minutes=settings.link_resend_minutes)
    gate = await mail_gate(ctx, RESET_MAIL, address, cooldown)
    if not gate.allowed:
        return Outcome(
            Sent(resend_available_at=available_at(gate)), problems=[resend_refused(gate)]
        )
    spawn(_mail_reset_link(ctx, address), name="password-reset")
    now = clock.now()
    return Outcome(
        Sent(
            expires_at=now + dt.timedelta(days=settings.reset_link_valid_days),
            resend_available_at=now + cooldown,
        ),
        mailed_to=mask_address(address),
    )


async def _mail_reset_link(ctx: Context, address: str) -> None:
    """After the answer: the link, if the address has an active login. The answer is
    the same and comes after the same work either way (no timing tells them apart)."""
    login = await Login.get_or_none(email_key=email_key(address), state=LoginState.ACTIVE)
    if login is None:
        return
    try:
        async with in_transaction():
            await send_reset_link(login, ctx.settings)
            await audit(ctx, "password_reset_requested", login.id, actor="anonymous")
    except IntegrityError:  # the login was deleted in the meantime: no link to send
        return


async def reset_password(ctx: Context, token: str, new_password: str) -> Outcome[Sent]:
    """Set a new password from a reset link; every session of the login ends."""
    settings = ctx.settings
    secret, failure = await find_link_token(
        ctx, token, SecretPurpose.PASSWORD_RESET, "input", "token"
    )
    if failure or secret is None:
        return Outcome(problems=[failure] if failure else [])
    login = secret.login
    if errors := await _policy_errors(ctx, login, new_password):
        return Outcome(problems=errors)
    password_hash = await hash_password(ctx, new_password)
    async with in_transaction():
        if not await use_link_token(secret):
            return Outcome.failed(AccountErrorCode.LINK_INVALID, "input", "token")
        await _set_password(login, password_hash)
        await end_sessions(login.id)
        mailed_to = await notify_password_changed(ctx, login)
        await audit(ctx, "password_reset", login.id)
    await limiter(ctx).clear(Limits.login_failures_per_login(settings), login.email_key)
    return Outcome(mailed_to=mailed_to)


async def change_password(
    ctx: Context, current_password: str | None, new_password: str
) -> Outcome[Sent]:
    """A new password for the logged-in login; its other sessions end."""
    login = require_login(ctx)
    if refused := await reauthentication_problem(
        ctx, current_password, AccountErrorCode, always=True
    ):
        return Outcome(problems=[refused])
    if errors := await _policy_errors(ctx, login, new_password):
        return Outcome(problems=errors)
    password_hash = await hash_password(ctx, new_password)
    async with in_transaction():
        await _set_password(login, password_hash)
        await end_sessions(login.id, keep=ctx.session)
        mailed_to = await notify_password_changed(ctx, login)
        await audit(ctx, "password_changed", login.id)
    return Outcome(mailed_to=mailed_to)


async def _policy_errors(ctx: Context, login: Login, new_password: str) -> list[Problem]:
    """The password policy's objections to a new password of `login`, on `newPassword`."""
    customer_numbers = await customer_numbers_of(login)
    return password_errors(
        ctx,
        new_password,
        email=login.email,
        customer_numbers=customer_numbers,
        field=["input", "newPassword"],
    )


async def _set_password(login: Login, password_hash: str) -> None:
    login.password_hash = password_hash
    login.password_changed_at = clock.now()
    await login.save(update_fields=["password_hash", "password_changed_at"])
    # A reset link issued before the change must not work after it.
    await OneTimeSecret.filter(
        login_id=login.id, purpose=SecretPurpose.PASSWORD_RESET, used_at=None, voided_at=None
    ).update(voided_at=clock.now())
