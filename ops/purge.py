"""Retention: personal data and secrets are kept no longer than needed (GDPR, R18).

A periodic task in the app's lifespan runs every purge job; with several app
processes each runs it, which is harmless: every job is an idempotent DELETE.
The same schedule runs the reading reminders (`resolvers/reminders.py`), which are
safe to run in several processes too (a unique marker per meter and period).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import clock
from mailers import purge_mail_bodies
from models import AuditEvent, ContactMessage, ContactStatus
from resolvers.accounts.registration import (
    purge_expired_registrations,
    purge_expired_secrets,
    purge_expired_sessions,
)
from resolvers.photos import purge_meter_photos
from resolvers.reminders import run_reminders
from resolvers.second_factor.gate import purge_expired_challenges, purge_expired_remembered_devices
from settings import Settings

log = logging.getLogger("kundenportal.purge")

PurgeJob = Callable[[Settings], Awaitable[int]]


async def purge_old_audit_events(settings: Settings) -> int:
    cutoff = clock.now() - dt.timedelta(days=settings.audit_retention_days)
    return await AuditEvent.filter(at__lt=cutoff).delete()


async def purge_closed_contact_messages(settings: Settings) -> int:
    """Contact messages hold a name, an address and free text: gone a while after closing."""
    cutoff = clock.now() - dt.timedelta(days=settings.contact_retention_days)
    return await ContactMessage.filter(status=ContactStatus.CLOSED, closed_at__lt=cutoff).delete()


def purge_jobs() -> list[tuple[str, PurgeJob]]:
    """Every retention job of the service, by name."""
    return [
        ("pending registrations", purge_expired_registrations),
        ("one-time secrets", purge_expired_secrets),
        ("sessions", purge_expired_sessions),
        ("audit events", purge_old_audit_events),
        ("contact messages", purge_closed_contact_messages),
        ("mail bodies", purge_mail_bodies),
        ("meter photos", purge_meter_photos),
        ("second-factor challenges", purge_expired_challenges),
        ("remembered devices", purge_expired_remembered_devices),
    ]


async def purge_all(settings: Settings) -> dict[str, int]:
    done = {}
    for name, job in purge_jobs():
        try:
            done[name] = await job(settings)
        except Exception:
            log.exception("purge of %s failed", name)
    return done


@contextlib.asynccontextmanager
async def run_purges(settings: Settings) -> AsyncIterator[None]:
    async def loop() -> None:
        while True:
            removed = await purge_all(settings)
            if any(removed.values()):
                log.info("purged %s", ", ".join(f"{n} {k}" for k, n in removed.items() if n))
            if settings.reminders_in_app:
                await run_reminders(settings, clock.utility_today(settings.utility_timezone))
            await asyncio.sleep(settings.purge_interval_seconds)

    task = asyncio.create_task(loop(), name="purge")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
