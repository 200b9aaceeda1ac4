"""Mails of the account area: whether one may go out now (cooldown, daily caps), what the
answer says about it (R4, R19), and links into the portal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

import clock
from models.account_codes import AccountErrorCode
from models.errors import Problem, problem
from resolvers.accounts.addresses import email_key
from resolvers.auth import limiter
from resolvers.context import Context
from security.ratelimit import Decision, Limits
from settings import Settings

# ----------------------------------------------------------------- mail gate


@dataclass(frozen=True)
class Sent:
    """What an operation that mails a PIN or link answers besides the masked address
    (`Outcome.mailed_to`): until when it is valid, from when another can be asked for,
    and for a registration until when it must be confirmed. All UTC."""

    expires_at: dt.datetime | None = None
    resend_available_at: dt.datetime | None = None
    registration_expires_at: dt.datetime | None = None


async def mail_gate(
    ctx: Context, kind: str, address: str, cooldown: dt.timedelta, *, cooldown_key: str = ""
) -> Decision:
    """Whether a mail of `kind` may go to `address` now, and count it if so.

    Three limits at once: the cooldown between two such mails (keyed by
    `cooldown_key`, default the address), and the daily caps per recipient
    address and per client address, so nobody can flood a stranger's inbox.
    Counted for addresses that have no login too, so the answers reveal nothing.
    """
    s = ctx.settings
    key = email_key(address)
    checks = [
        (Limits.mail_cooldown(kind, cooldown.total_seconds()), cooldown_key or key),
        (Limits.mails_per_address(s, kind), key),
        (Limits.mails_per_client(s, kind), ctx.client_address),
    ]
    return await limiter(ctx).hit_all(checks)


def available_at(decision: Decision) -> dt.datetime:
    return clock.now() + dt.timedelta(seconds=decision.retry_after_seconds)


def resend_refused(decision: Decision) -> Problem:
    minutes = max(1, -(-decision.retry_after_seconds // 60))
    return problem(AccountErrorCode.RESEND_NOT_YET_AVAILABLE, minutes=minutes)


# --------------------------------------------------------------- mail helpers


def portal_link(settings: Settings, path: str, **query: str) -> str:
    """A link to a page of the front end; tokens are URL-safe, so links survive copying."""
    base = settings.portal_url.rstrip("/") + "/" + path.lstrip("/")
    return base + ("?" + urlencode(query) if query else "")
