"""Notices to a login's address about changes to its credentials.

Each says when and from which client, and links to the password reset for
"this was not me". Queued in the transaction of the change they report.
"""

from __future__ import annotations

from typing import Any

from mailers.outbox import mask_address, queue_mail
from models import Login
from resolvers.accounts.common import describe_client, format_when, portal_link, utcnow
from resolvers.context import Info


def _facts(info: Info, login: Login) -> dict[str, Any]:
    settings = info.context.settings
    return {
        "when": format_when(utcnow(), login.locale, settings),
        "client": describe_client(info, login.locale),
        "forgot_link": portal_link(settings, settings.forgot_password_path),
    }


async def notify_password_changed(info: Info, login: Login) -> str:
    """'Your password was changed' to the login's address; returns it masked."""
    await queue_mail(
        "password_changed",
        to=login.email,
        locale=login.locale,
        settings=info.context.settings,
        **_facts(info, login),
    )
    return mask_address(login.email)


async def notify_email_changed(
    info: Info, login: Login, *, old_email: str, undo_link: str, undo_valid_days: int
) -> str:
    """To the old address: the login now uses another one; the link undoes it."""
    await queue_mail(
        "email_changed",
        to=old_email,
        locale=login.locale,
        settings=info.context.settings,
        new_email=mask_address(login.email),
        undo_link=undo_link,
        undo_valid_days=undo_valid_days,
        **_facts(info, login),
    )
    return mask_address(old_email)


async def notify_new_client(info: Info, login: Login) -> str:
    """A login from a client not seen before for this login."""
    await queue_mail(
        "new_client_login",
        to=login.email,
        locale=login.locale,
        settings=info.context.settings,
        **_facts(info, login),
    )
    return mask_address(login.email)
