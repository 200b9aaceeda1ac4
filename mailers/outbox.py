"""Queue a mail in the caller's transaction: if the change rolls back, no mail exists."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from mailers.render import render
from models import OutboxMail
from settings import Settings


def mask_address(address: str) -> str:
    """`e***a@example.org`: tells the user which address was mailed (R19) without
    spelling it out to whoever looks over their shoulder."""
    local, _, domain = address.partition("@")
    shown = local[:1] + "***" if len(local) <= 2 else f"{local[0]}***{local[-1]}"
    return f"{shown}@{domain}"


async def queue_mail(
    kind: str,
    *,
    to: str,
    locale: str,
    settings: Settings,
    using_db: Any = None,
    **data: Any,
) -> OutboxMail:
    """Render mail `kind` for `to` and store it for the worker.

    Call inside the transaction of the change that causes the mail.
    """
    mail = render(kind, locale, data, settings)
    domain = settings.mail_from.rpartition("@")[2].rstrip(">") or "kundenportal.invalid"
    now = dt.datetime.now(dt.UTC)
    return await OutboxMail.create(
        kind=kind,
        recipient=to,
        subject=mail.subject,
        body_text=mail.text,
        body_html=mail.html,
        message_id=f"<{uuid.uuid4().hex}@{domain}>",
        next_attempt_at=now,
        created_at=now,
        using_db=using_db,
    )
