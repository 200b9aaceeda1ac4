"""Notices to a login's address about changes to its credentials.

Each says when and from which client, and links to the password reset for
"this was not me". Queued in the transaction of the change they report.
"""

from __future__ import annotations

from typing import Any

import clock
from mailers import format_when, mask_address, queue_mail
from models import Login
from resolvers.accounts.clients import describe_client
from resolvers.accounts.mails import portal_link
from resolvers.context import Context


async def _notify(ctx: Context, kind: str, login: Login, *, to: str = "", **data: Any) -> str:
    """Queue notice `kind` to `to` (default: the login's address) in the login's language,
    with when, from which client, and the 'this was not me' link; returns the address masked."""
    settings = ctx.settings
    address = to or login.email
    await queue_mail(
        kind,
        to=address,
        locale=login.locale,
        settings=settings,
        when=format_when(clock.now(), login.locale, settings),
        client=describe_client(ctx, login.locale),
        forgot_link=portal_link(settings, settings.forgot_password_path),
        **data,
    )
    return mask_address(address)


async def notify_second_factor(ctx: Context, kind: str, login: Login, **data: Any) -> str:
    """A second factor added or removed, new recovery codes, a recovery code used
    (`second_factor_added`, `second_factor_removed`, `recovery_code_used`)."""
    return await _notify(ctx, kind, login, **data)


async def notify_password_changed(ctx: Context, login: Login) -> str:
    """'Your password was changed' to the login's address."""
    return await _notify(ctx, "password_changed", login)


async def notify_email_changed(
    ctx: Context, login: Login, *, old_email: str, undo_link: str, undo_valid_days: int
) -> str:
    """To the old address: the login now uses another one; the link undoes it."""
    return await _notify(
        ctx,
        "email_changed",
        login,
        to=old_email,
        new_email=mask_address(login.email),
        undo_link=undo_link,
        undo_valid_days=undo_valid_days,
    )


async def notify_new_client(ctx: Context, login: Login) -> str:
    """A login from a client not seen before for this login."""
    return await _notify(ctx, "new_client_login", login)
