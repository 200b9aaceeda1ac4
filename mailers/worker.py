"""The outbox worker: delivers queued mails, retries temporary failures with backoff.

Runs inside the app (started and stopped by the lifespan) or on its own
(`kundenportal worker`). Several workers on PostgreSQL claim rows with
`FOR UPDATE SKIP LOCKED`, so none takes a mail another is sending.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator

from tortoise.transactions import in_transaction

from mailers.backends import PermanentFailure, TemporaryFailure, deliver
from models import MailStatus, OutboxMail
from settings import Settings

log = logging.getLogger("kundenportal.mail")
BATCH = 20


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def deliver_due(settings: Settings, batch: int = BATCH) -> int:
    """Deliver up to `batch` due mails, one transaction each; returns how many were tried."""
    tried = 0
    for _ in range(batch):
        async with in_transaction() as conn:
            mail = (
                await OutboxMail.filter(status=MailStatus.QUEUED, next_attempt_at__lte=utcnow())
                .order_by("next_attempt_at", "id")
                .select_for_update(skip_locked=True)
                .using_db(conn)
                .first()
            )
            if mail is None:
                break
            tried += 1
            mail.attempts += 1
            try:
                await deliver(mail, settings)
            except TemporaryFailure as error:
                if mail.attempts >= settings.mail_max_attempts:
                    mail.status = MailStatus.FAILED
                else:
                    delay = settings.mail_backoff_base_seconds * 2 ** (mail.attempts - 1)
                    mail.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
                mail.last_error = str(error)[:1000]
                log.warning("mail %s not delivered (attempt %s): %s", mail.id, mail.attempts, error)
            except PermanentFailure as error:
                mail.status = MailStatus.FAILED
                mail.last_error = str(error)[:1000]
                log.error("mail %s refused: %s", mail.id, error)
            else:
                mail.status = MailStatus.SENT
                mail.sent_at = utcnow()
            await mail.save(using_db=conn)
    return tried


async def work(settings: Settings, stop: asyncio.Event) -> None:
    """Deliver until told to stop, then drain what is due."""
    while not stop.is_set():
        try:
            tried = await deliver_due(settings)
        except Exception:
            log.exception("mail worker round failed")
            tried = 0
        if tried == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.mail_poll_seconds)
    with contextlib.suppress(Exception):
        while await deliver_due(settings):
            pass


@contextlib.asynccontextmanager
async def run_worker(settings: Settings) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(work(settings, stop), name="mail-worker")
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=30)
        except TimeoutError:
            task.cancel()
