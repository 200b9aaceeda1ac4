"""Deleting a login: by its owner (R16, R17) or by staff on request (R8)."""

from __future__ import annotations

from tortoise.transactions import in_transaction

import clock
from documents.store import open_store
from mailers import format_when, mask_address, queue_mail
from models import AuditEvent, Login, MailStatus, OutboxMail
from models.account_codes import AccountErrorCode
from models.errors import Outcome
from resolvers.accounts.logins import find_login
from resolvers.accounts.mails import Sent
from resolvers.auth import reauthentication_problem, require_login
from resolvers.context import Context
from resolvers.money import forget_money_traces
from resolvers.photos import delete_photos_of_login
from security.audit import actor_for_login, actor_for_staff, record_audit
from security.sessions import clear_session_cookie
from settings import Settings


async def delete_login(
    login: Login,
    settings: Settings,
    *,
    action: str,
    actor: str,
    client_address: str = "",
    **details: str,
) -> str:
    """R16, R17: remove the login with its sessions, secrets and customer links.

    The customers' master data stays (it belongs to the billing system), so
    their numbers can be registered again at once; the login's traces go. The
    address is told by mail; returns it masked.
    """
    async with in_transaction():
        await queue_mail(
            "profile_deleted",
            to=login.email,
            locale=login.locale,
            settings=settings,
            when=format_when(clock.now(), login.locale, settings),
            by_staff=action != "profile_deleted",
        )
        await record_audit(
            action,
            actor=actor,
            login_id=login.id,
            client_address=client_address,
            **details,
        )
        await Login.filter(id=login.id).delete()
        await forget_traces(login)
        await forget_money_traces(login, clock.now())
    await delete_photos_of_login(open_store(settings), login.id)
    return mask_address(login.email)


async def forget_traces(login: Login) -> None:
    """Leave no personal data of a deleted login behind (GDPR, R18).

    Its audit events keep what happened and when, under a number that now names
    no one, but lose the client addresses; mails already sent to it lose their
    address and bodies. The deletion notice itself waits in the outbox until
    sent, and the retention purge treats it like any other sent mail.
    """
    await AuditEvent.filter(login_id=login.id).update(client_address="")
    await (
        OutboxMail.filter(recipient=login.email)
        .exclude(status=MailStatus.QUEUED)
        .update(recipient=mask_address(login.email), body_text="", body_html="")
    )


async def delete_profile(ctx: Context, current_password: str | None) -> Outcome[Sent]:
    """'Remove profile' in the settings; needs the current password."""
    login = require_login(ctx)
    if refused := await reauthentication_problem(
        ctx, current_password, AccountErrorCode, always=True
    ):
        return Outcome(problems=[refused])
    mailed_to = await delete_login(
        login,
        ctx.settings,
        action="profile_deleted",
        actor=actor_for_login(login.id),
        client_address=ctx.client_address,
    )
    if ctx.response is not None:
        clear_session_cookie(ctx.response, ctx.settings)
    return Outcome(mailed_to=mailed_to)


async def delete_login_by_staff(
    settings: Settings,
    *,
    staff: str,
    reason: str,
    email: str | None = None,
    customer_number: str | None = None,
) -> str | None:
    """R8: staff delete the login of a person who lost access to its e-mail, on request
    (contact form to the billing department); the person can then register again.

    Found by login e-mail or by a customer number it holds. The audit event
    records who, what and why; returns the mailed address masked, None if no
    such login exists.
    """
    login = await find_login(email=email, customer_number=customer_number)
    if login is None:
        return None
    return await delete_login(
        login,
        settings,
        action="login_deleted_by_staff",
        actor=actor_for_staff(staff),
        reason=reason[:200],
    )
