"""Old audit events are purged after their retention; staff can list recent ones."""

from __future__ import annotations

import asyncio
import datetime as dt

import time_machine

from models import AuditEvent
from ops.purge import purge_all


async def test_audit_events_older_than_retention_are_purged(app, settings):
    settings.audit_retention_days = 30
    with time_machine.travel(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)):
        await AuditEvent.create(action="login", actor="login:1", login_id=1, outcome="success")
    with time_machine.travel(dt.datetime(2026, 1, 25, tzinfo=dt.UTC)):
        await AuditEvent.create(action="login", actor="login:1", login_id=1, outcome="failure")
    with time_machine.travel(dt.datetime(2026, 2, 5, tzinfo=dt.UTC)):
        removed = await purge_all(settings)
    assert removed["audit events"] == 1
    assert [e.outcome for e in await AuditEvent.all()] == ["failure"]


async def test_audit_command_lists_events(app, staff):
    await AuditEvent.create(
        action="login_failed", actor="anonymous", outcome="failure", client_address="203.0.113.9"
    )
    done = await staff("audit", "--action", "login_failed")
    assert done.code == 0, done.stderr
    assert "login_failed" in done.stdout
    assert "203.0.113.9" in done.stdout


async def test_the_app_purges_on_a_schedule(settings):
    from app import create_app

    settings.purge_interval_seconds = 3600
    settings.audit_retention_days = 30
    application = create_app(settings)
    with time_machine.travel(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), tick=True):
        async with application.router.lifespan_context(application):
            await AuditEvent.create(action="login", actor="login:1", login_id=1, outcome="ok")
    with time_machine.travel(dt.datetime(2026, 3, 1, tzinfo=dt.UTC), tick=True):
        async with application.router.lifespan_context(application):
            for _ in range(100):
                if await AuditEvent.all().count() == 0:
                    break
                await asyncio.sleep(0.01)
            assert await AuditEvent.all().count() == 0


async def test_closed_contact_messages_are_purged_after_their_retention(app, settings):
    from models import ContactMessage

    settings.contact_retention_days = 90
    common = {
        "department": "billing",
        "name": "Erika",
        "email": "e@example.org",
        "subject": "Konto löschen",
        "text": "Bitte löschen.",
    }
    await ContactMessage.create(
        **common, status="closed", closed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    await ContactMessage.create(
        **common, status="closed", closed_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    )
    await ContactMessage.create(**common)  # still open: staff have not answered
    with time_machine.travel(dt.datetime(2026, 4, 15, tzinfo=dt.UTC)):
        removed = await purge_all(settings)
    assert removed["contact messages"] == 1
    assert await ContactMessage.all().count() == 2
