"""The reading-reminder job: one mail when a period opens, one before it closes, never
twice, only with consent and a confirmed login, not after a reading, not after opting out;
in batches, resumable after a crash, on the app's schedule and as a command."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import resolvers.reminders
from models import (
    Customer,
    LoginState,
    MeterKind,
    OutboxMail,
    ReadingReminder,
    ReminderKind,
    ReminderOptOut,
)
from resolvers.reminders import send_reading_reminders
from tests.factories import (
    TODAY,
    make_customer,
    make_login,
    make_meter,
    make_period,
    make_reading,
    reported_move_out,
)

DAY = dt.timedelta(days=1)


async def consenting_customer(**fields: Any) -> Customer:
    return await make_customer(
        online_consent=True, online_consent_at=dt.datetime.now(dt.UTC), **fields
    )


async def household_with_open_period(
    email: str, *, starts: int = 0, ends: int = 20, consent: bool = True, locale: str = "de"
):
    """A customer (with consent) and login whose manual meter's period opened `starts` days ago."""
    customer = await (consenting_customer() if consent else make_customer())
    login = await make_login(customer, email=email, locale=locale)
    meter = await make_meter(customer, main=True)
    period = await make_period(TODAY - starts * DAY, TODAY + ends * DAY, meter=meter)
    return customer, login, meter, period


async def test_opening_reminder_is_mailed_once_with_period_and_link(app, clock, mailbox, settings):
    _, _, meter, _ = await household_with_open_period("erika@example.org")

    first = await send_reading_reminders(settings, today=TODAY)
    again = await send_reading_reminders(settings, today=TODAY + DAY)

    assert (first.mails, again.mails) == (1, 0)
    text = await mailbox.last_text("erika@example.org")
    assert meter.number in text
    assert "10.03.2025 bis 30.03.2025" in text
    assert "https://portal.wasser.example/zaehlerstand" in text
    assert "https://portal.wasser.example/einstellungen" in text
    assert len(mailbox.to("erika@example.org")) == 1


async def test_closing_reminder_goes_to_those_without_a_reading(app, clock, mailbox, settings):
    settings.reminder_days_before_close = 7
    await household_with_open_period("silent@example.org", starts=20, ends=5, locale="en")
    _, _, read, _ = await household_with_open_period("diligent@example.org", starts=20, ends=5)
    await make_reading(read, "100.000", TODAY - 2 * DAY)

    run = await send_reading_reminders(settings, today=TODAY)

    assert run.by_kind == {"closing": 1}
    message = (await mailbox.wait_for("silent@example.org"))[0]
    assert "Reminder: the reading period ends on 2025-03-15" in str(message["Subject"])
    assert await ReadingReminder.filter(kind=ReminderKind.CLOSING).count() == 1
    assert mailbox.to("diligent@example.org") == []


async def test_no_reminder_without_consent_confirmed_login_or_after_opting_out(
    app, clock, mailbox, settings
):
    await household_with_open_period("noconsent@example.org", consent=False)
    _, pending, _, _ = await household_with_open_period("pending@example.org")
    pending.state, pending.confirmed_at = LoginState.PENDING, None
    await pending.save()
    opted, _, _, _ = await household_with_open_period("optout@example.org")
    await ReminderOptOut.create(customer=opted, created_at=dt.datetime.now(dt.UTC))
    moving, _, _, _ = await household_with_open_period("moving@example.org")
    await reported_move_out(moving, TODAY + 30 * DAY)

    run = await send_reading_reminders(settings, today=TODAY)

    assert run.mails == 0
    assert await OutboxMail.all().count() == 0


async def test_radio_and_removed_meters_get_no_reminder(app, clock, settings):
    customer = await consenting_customer()
    await make_login(customer)
    radio = await make_meter(customer, kind=MeterKind.RADIO)
    removed = await make_meter(customer, removed_on=TODAY - DAY)
    for meter in (radio, removed):
        await make_period(TODAY, TODAY + 20 * DAY, meter=meter)

    assert (await send_reading_reminders(settings, today=TODAY)).mails == 0


async def test_one_mail_names_every_due_meter_of_a_customer_incl_group_periods(
    app, clock, mailbox, settings
):
    customer = await consenting_customer()
    await make_login(customer, email="two@example.org")
    own = await make_meter(customer, main=True)
    grouped = await make_meter(customer, group="NORD")
    await make_period(TODAY, TODAY + 20 * DAY, meter=own)
    await make_period(TODAY - DAY, TODAY + 10 * DAY, group="NORD")

    run = await send_reading_reminders(settings, today=TODAY)

    assert (run.mails, run.meters) == (1, 2)
    text = await mailbox.last_text("two@example.org")
    assert own.number in text
    assert grouped.number in text


async def test_dry_run_counts_and_changes_nothing(app, clock, settings):
    for n in range(3):
        await household_with_open_period(f"dry{n}@example.org")

    run = await send_reading_reminders(settings, today=TODAY, dry_run=True, batch_size=2)

    assert (run.mails, run.batches, run.customers) == (3, 2, 3)
    assert await ReadingReminder.all().count() == 0
    assert await OutboxMail.all().count() == 0


async def test_a_crash_mid_run_loses_no_mail_and_the_rerun_mails_nobody_twice(
    app, clock, mailbox, settings, monkeypatch: pytest.MonkeyPatch
):
    for n in range(5):
        await household_with_open_period(f"crash{n}@example.org")
    real_outbox_mail = resolvers.reminders.outbox_mail
    calls = 0

    def dies_on_the_fourth_mail(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise RuntimeError("process killed")
        return real_outbox_mail(*args, **kwargs)

    monkeypatch.setattr(resolvers.reminders, "outbox_mail", dies_on_the_fourth_mail)
    with pytest.raises(RuntimeError):
        await send_reading_reminders(settings, today=TODAY, batch_size=2)
    assert await ReadingReminder.all().count() == 2  # the first batch only; the second rolled back
    monkeypatch.setattr(resolvers.reminders, "outbox_mail", real_outbox_mail)

    rerun = await send_reading_reminders(settings, today=TODAY, batch_size=2)

    assert rerun.mails == 3
    for n in range(5):
        await mailbox.wait_for(f"crash{n}@example.org")
    assert await OutboxMail.all().count() == 5
    assert await ReadingReminder.all().count() == 5


async def test_two_runs_at_once_mail_each_customer_once(app, clock, settings):
    for n in range(6):
        await household_with_open_period(f"race{n}@example.org")

    await asyncio.gather(
        send_reading_reminders(settings, today=TODAY, batch_size=2),
        send_reading_reminders(settings, today=TODAY, batch_size=3),
    )

    assert await OutboxMail.all().count() == 6
    assert await ReadingReminder.all().count() == 6


async def test_final_reading_reminder_when_the_window_opens(app, clock, mailbox, settings):
    customer = await make_customer()
    await make_login(customer, email="mover@example.org", locale="en")
    meter = await make_meter(customer, main=True)
    await reported_move_out(customer, TODAY + 20 * DAY)

    before = await send_reading_reminders(settings, today=TODAY)
    opened = await send_reading_reminders(settings, today=TODAY + 6 * DAY)
    again = await send_reading_reminders(settings, today=TODAY + 7 * DAY)

    assert (before.final_reading_mails, opened.final_reading_mails) == (0, 1)
    assert again.final_reading_mails == 0
    text = await mailbox.last_text("mover@example.org")
    assert meter.number in text
    assert "2025-04-13" in text


async def test_reading_reminders_command_dry_run_tells_how_many(staff, app, settings):
    # the command runs in a process of its own, on the real date
    today = dt.datetime.now(ZoneInfo(settings.utility_timezone)).date()
    customer = await consenting_customer()
    await make_login(customer)
    meter = await make_meter(customer, main=True)
    await make_period(today - DAY, today + 20 * DAY, meter=meter)

    dry = await staff("reading-reminders", "--dry-run")
    assert dry.code == 0, dry.err
    assert "1 reminder mails would be queued (opened 1)" in dry.stdout
    assert await OutboxMail.all().count() == 0

    done = await staff("reading-reminders")
    assert done.code == 0, done.err
    assert "1 reminder mails queued" in done.stdout
    assert await ReadingReminder.all().count() == 1


async def test_the_app_sends_reminders_on_the_purge_schedule(settings, mailbox):
    from app import create_app
    from tests.conftest import empty_all_tables

    settings.purge_interval_seconds = 3600
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        today = dt.datetime.now(ZoneInfo(settings.utility_timezone)).date()
        customer = await consenting_customer()
        await make_login(customer, email="scheduled@example.org")
        meter = await make_meter(customer, main=True)
        await make_period(today - DAY, today + 20 * DAY, meter=meter)
    async with application.router.lifespan_context(application):
        try:
            await mailbox.wait_for("scheduled@example.org")
        finally:
            await empty_all_tables(settings.database_url)
