"""The outbox: queue a mail in the caller's transaction (if the change rolls back,
no mail exists), and the operations staff and the metrics endpoint run on it."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import uuid
import zlib
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tortoise.connection import connections
from tortoise.expressions import Q
from tortoise.functions import Count

import clock
from mailers.render import render
from models import MailPriority, MailStatus, OutboxMail
from settings import Settings

# Deliberately simple: one @, a dot in the domain, no spaces. The mail sent to it proves the rest.
_ADDRESS = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_ADDRESS = 254


def is_valid_email(address: str) -> bool:
    """Whether `address` is a usable e-mail address: for logins, contacts and base data.

    One @, a dotted domain, no spaces, at most 254 characters; non-ASCII letters
    only in lower case, because the databases' lower() (which checks the
    case-free key of login addresses) lowers ASCII letters alone.
    """
    if len(address) > MAX_ADDRESS or not _ADDRESS.match(address):
        return False
    return all(c.isascii() or c == c.lower() for c in address)


def mask_address(address: str) -> str:
    """`e***a@example.org`: tells the user which address was mailed (R19) without
    spelling it out to whoever looks over their shoulder."""
    local, _, domain = address.partition("@")
    shown = local[:1] + "***" if len(local) <= 2 else f"{local[0]}***{local[-1]}"
    return f"{shown}@{domain}"


def format_when(moment: dt.datetime, locale: str, settings: Settings) -> str:
    """A time as people read it in mails: local time with its zone's abbreviation."""
    try:
        zone: dt.tzinfo = ZoneInfo(settings.mail_timezone)
    except ZoneInfoNotFoundError:
        zone = dt.UTC
    local = moment.astimezone(zone)
    if locale == "en":
        return local.strftime("%d %B %Y, %H:%M %Z")
    return local.strftime("%d.%m.%Y, %H:%M Uhr %Z")


# Mails a person waits for at the screen: a PIN or a link they just asked for. They go
# before notices and confirmations when the queue is long.
WAITED_FOR = frozenset({"registration_pin", "password_reset", "email_change_confirm"})


SHARDS = 64
"""Mails are spread over this many shards by recipient; a worker lane takes some of them."""


def shard_of(address: str) -> int:
    """The shard of every mail to `address`: one lane delivers them, in queue order."""
    return zlib.crc32(address.strip().lower().encode()) % SHARDS


def priority_of(kind: str) -> MailPriority:
    return MailPriority.WAITED_FOR if kind in WAITED_FOR else MailPriority.NORMAL


async def queue_mail(
    kind: str,
    *,
    to: str,
    locale: str,
    settings: Settings,
    using_db: Any = None,
    priority: MailPriority | None = None,
    **data: Any,
) -> OutboxMail:
    """Render mail `kind` for `to` and store it for the worker.

    Call inside the transaction of the change that causes the mail. Mails of
    `WAITED_FOR` kinds are delivered first; jobs that mail many customers at
    once pass `MailPriority.BULK`, so a reminder run never delays a PIN.
    """
    mail = outbox_mail(kind, to=to, locale=locale, settings=settings, priority=priority, **data)
    await mail.save(using_db=using_db)
    if mail.priority == MailPriority.WAITED_FOR:
        await _wake_workers(using_db)
    return mail


WAKE_CHANNEL = "kundenportal_mail"
"""PostgreSQL's notification channel on which idle workers hear of a mail a person waits for."""


_IN_PROCESS: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
"""The wake-up events of the workers that run in this process's event loops (SQLite)."""


@contextlib.contextmanager
def woken_in_process(wake: asyncio.Event) -> Iterator[None]:
    """While inside, `queue_mail` sets `wake` for a mail a person waits for, when it is
    called in the same event loop: on SQLite, where the worker shares the app's loop."""
    entry = (asyncio.get_running_loop(), wake)
    _IN_PROCESS.add(entry)
    try:
        yield
    finally:
        _IN_PROCESS.discard(entry)


async def _wake_workers(using_db: Any) -> None:
    """Tell idle workers to look now instead of at their next poll.

    On PostgreSQL, `pg_notify` in the caller's transaction is delivered when it
    commits, and not at all when it rolls back, so a worker never wakes to a mail it
    cannot see yet. On SQLite the worker runs in this event loop and is woken
    directly: a transaction holds the database's one connection until it ends, so
    the woken worker's claim waits for the commit (after a rollback it finds nothing
    and goes back to its pause). A `kundenportal worker` process beside an app on
    SQLite hears nothing and polls (`MAIL_POLL_SECONDS`).
    """
    connection = using_db or connections.get("default")
    if connection.capabilities.dialect == "postgres":
        await connection.execute_query("SELECT pg_notify($1, '')", [WAKE_CHANNEL])
        return
    loop = asyncio.get_running_loop()
    for owner, wake in _IN_PROCESS:
        if owner is loop:
            wake.set()


def outbox_mail(
    kind: str,
    *,
    to: str,
    locale: str,
    settings: Settings,
    priority: MailPriority | None = None,
    **data: Any,
) -> OutboxMail:
    """The rendered, unsaved outbox row of `queue_mail`: jobs that mail many customers
    render a batch and store it with one `OutboxMail.bulk_create` in their transaction."""
    mail = render(kind, locale, data, settings)
    domain = settings.mail_from.rpartition("@")[2].rstrip(">") or "kundenportal.invalid"
    now = clock.now()
    return OutboxMail(
        kind=kind,
        recipient=to,
        subject=mail.subject,
        body_text=mail.text,
        body_html=mail.html,
        message_id=f"<{uuid.uuid4().hex}@{domain}>",
        next_attempt_at=now,
        created_at=now,
        priority=priority if priority is not None else priority_of(kind),
        shard=shard_of(to),
    )


# ---------------------------------------------------------------- operations


async def queue_metrics() -> dict[str, float]:
    """The queue as the /metrics endpoint shows it: mails by state, and the age
    of the oldest mail still waiting (0 when none waits).

    Counts are of the rows in the outbox now, so they are gauges: purging
    bodies keeps the rows, deleting rows would lower `sent`.
    """
    rows = await OutboxMail.annotate(count=Count("id")).group_by("status").values("status", "count")
    counts = {str(row["status"]): int(row["count"]) for row in rows}
    oldest = (
        await OutboxMail.filter(status=MailStatus.QUEUED)
        .order_by("created_at")
        .only("id", "created_at")
        .first()
    )
    age = max(0.0, (clock.now() - oldest.created_at).total_seconds()) if oldest else 0.0
    return {
        "queued": counts.get(MailStatus.QUEUED, 0),
        "sent": counts.get(MailStatus.SENT, 0),
        "failed": counts.get(MailStatus.FAILED, 0),
        "oldest_queued_age_seconds": age,
    }


async def latest_failures(limit: int = 10) -> list[OutboxMail]:
    """Failed mails and mails waiting for a retry, newest trouble first."""
    return (
        await OutboxMail.filter(
            Q(status=MailStatus.FAILED) | Q(status=MailStatus.QUEUED, attempts__gt=0)
        )
        .exclude(last_error="")
        .order_by("-next_attempt_at", "-id")
        .limit(limit)
    )


class NotRetryable(Exception):
    """The mail does not exist, is not failed, or its body was already purged."""


async def retry_mail(mail_id: int) -> None:
    """Queue a failed mail again with a full set of attempts (an operator's decision).

    Only failed mails: a queued one may be in the middle of its delivery.
    """
    mail = await OutboxMail.get_or_none(id=mail_id)
    if mail is None:
        raise NotRetryable(f"mail {mail_id} does not exist")
    if mail.status != MailStatus.FAILED:
        raise NotRetryable(f"mail {mail_id} is {mail.status}, not failed")
    if not mail.body_text:
        raise NotRetryable(f"mail {mail_id} was purged; its content is gone")
    await OutboxMail.filter(id=mail_id, status=MailStatus.FAILED).update(
        status=MailStatus.QUEUED, attempts=0, next_attempt_at=clock.now()
    )


async def retry_failed() -> int:
    """Queue every failed mail that still has its content again; returns how many."""
    return (
        await OutboxMail.filter(status=MailStatus.FAILED)
        .exclude(body_text="")
        .update(status=MailStatus.QUEUED, attempts=0, next_attempt_at=clock.now())
    )


async def purge_mail_bodies(settings: Settings) -> int:
    """The retention job: `purge_sent_mail` with `MAIL_BODY_RETENTION_DAYS`."""
    return await purge_sent_mail(dt.timedelta(days=settings.mail_body_retention_days))


async def purge_sent_mail(older_than: dt.timedelta) -> int:
    """Clear the bodies of mails done longer ago than `older_than`; returns how many.

    A body may hold a PIN or a link that works for days (R7); once the mail
    is delivered the outbox needs it no more (GDPR data minimisation, R18).
    Failed mails are cleared after the same time counted from their last
    attempt: a PIN or link that old is of no use to a retry. The recipient
    is kept masked (`e***a@example.org`), with subject, Message-ID and times,
    to answer "was I mailed?".
    """
    cutoff = clock.now() - older_than
    purged = 0
    for done in (
        Q(status=MailStatus.SENT, sent_at__lt=cutoff),
        Q(status=MailStatus.FAILED, next_attempt_at__lt=cutoff),
    ):
        for mail in await OutboxMail.filter(done).exclude(body_text="", body_html=""):
            mail.recipient = mask_address(mail.recipient)
            mail.body_text = mail.body_html = ""
            await mail.save(update_fields=["recipient", "body_text", "body_html"])
            purged += 1
    return purged
