"""The reading-reminder job: mails when a reading period opens and before it closes,
and when the final-reading window of a reported move-out opens.

Customers are taken in batches by id (keyset, so a run over 100,000 customers
reads each once). Per batch the job reads what the rules need (a fixed number of
statements, whatever the batch size), decides with `models.reminders.due_reminder`
and writes, in one transaction, the `ReadingReminder` markers and the outbox
mails. The marker is unique per meter, period and kind: a run that crashes
loses at most its open batch (nothing of it was mailed), the next run does it
again, and two runs at once cannot both mail (the loser's batch rolls back on
the unique key and is decided again). The outbox worker delivers the mails.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

import clock
from mailers import outbox_mail, queue_mail
from models import (
    Customer,
    FinalReading,
    Login,
    LoginCustomer,
    LoginState,
    MailPriority,
    Meter,
    MeterKind,
    MeterReading,
    MoveOut,
    OutboxMail,
    ReadingPeriod,
    ReadingReminder,
    ReminderKind,
    ReminderOptOut,
)
from models.reminders import due_reminder, has_reading_in
from settings import Settings

log = logging.getLogger("kundenportal.reminders")

BATCH_RETRIES = 3


@dataclass
class ReminderRun:
    """What one run did (or, with `dry_run`, would do)."""

    customers: int = 0
    batches: int = 0
    mails: int = 0
    meters: int = 0
    final_reading_mails: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, meters: int) -> None:
        self.mails += 1
        self.meters += meters
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1


@dataclass(frozen=True)
class DueMail:
    """One reminder mail: a customer, its login, a kind and the meters it names."""

    customer: Customer
    login: Login
    kind: ReminderKind
    due: list[tuple[Meter, ReadingPeriod]]


def day_text(day: dt.date, locale: str) -> str:
    return day.strftime("%d.%m.%Y") if locale == "de" else day.isoformat()


async def send_reading_reminders(
    settings: Settings,
    *,
    today: dt.date,
    dry_run: bool = False,
    batch_size: int | None = None,
) -> ReminderRun:
    """Mail every reminder due today; returns the counts (with `dry_run`, writes nothing)."""
    size = batch_size or settings.reminder_batch_size
    run = ReminderRun()
    after = 0
    while True:
        customers = await _consenting_customers(after, size)
        if not customers:
            break
        after = customers[-1].id
        run.customers += len(customers)
        run.batches += 1
        for attempt in range(BATCH_RETRIES):
            mails = await _due_mails(customers, today, settings)
            if dry_run:
                break
            try:
                await _send(mails, settings, today)
                break
            except IntegrityError:
                # Another run marked some of these meters first: decide again.
                if attempt == BATCH_RETRIES - 1:
                    raise
        for mail in mails:
            run.add(mail.kind.value, len(mail.due))
    run.final_reading_mails = await send_final_reading_reminders(
        settings, today=today, dry_run=dry_run
    )
    return run


async def _consenting_customers(after: int, size: int) -> list[Customer]:
    """The next batch of customers with online consent (R11) and a confirmed login."""
    return (
        await Customer.filter(
            id__gt=after, online_consent=True, login_link__login__state=LoginState.ACTIVE
        )
        .order_by("id")
        .limit(size)
    )


@dataclass
class MeterDue:
    """A manual meter whose reading period is open today: until when, whether a reading
    arrived, and which reminders went out (the front end's "due meters")."""

    meter: Meter
    period: ReadingPeriod
    readings: list[MeterReading]
    reminders: dict[ReminderKind, dt.datetime]

    @property
    def has_reading(self) -> bool:
        return has_reading_in(self.period, self.readings)


async def meters_due(customer_ids: Sequence[int], today: dt.date) -> list[MeterDue]:
    """The customers' manual meters with a period open today, with readings and reminders
    of that period: five statements, however many customers."""
    meters = [
        m
        for m in await Meter.filter(customer_id__in=list(customer_ids), kind=MeterKind.MANUAL)
        if not m.is_removed(today)
    ]
    if not meters:
        return []
    meter_ids = [m.id for m in meters]
    groups = sorted({m.group for m in meters if m.group})
    applies = Q(meter_id__in=meter_ids)
    if groups:
        applies |= Q(meter_id=None, meter_group__in=groups)
    periods = await ReadingPeriod.filter(applies, starts_on__lte=today, ends_on__gte=today)
    if not periods:
        return []
    earliest = min(p.starts_on for p in periods)
    readings = await MeterReading.filter(meter_id__in=meter_ids, read_on__gte=earliest)
    markers = await ReadingReminder.filter(
        meter_id__in=meter_ids, period_id__in=[p.id for p in periods]
    )
    readings_of: dict[int, list[MeterReading]] = defaultdict(list)
    for reading in readings:
        readings_of[reading.meter_id].append(reading)
    sent: dict[tuple[int, int], dict[ReminderKind, dt.datetime]] = defaultdict(dict)
    for marker in markers:
        sent[(marker.meter_id, marker.period_id)][ReminderKind(marker.kind)] = marker.sent_at
    by_meter: dict[int, list[ReadingPeriod]] = defaultdict(list)
    by_group: dict[str, list[ReadingPeriod]] = defaultdict(list)
    for open_period in periods:
        if open_period.meter_id is not None:
            by_meter[open_period.meter_id].append(open_period)
        elif open_period.meter_group:
            by_group[open_period.meter_group].append(open_period)
    due = []
    for meter in sorted(meters, key=lambda m: (m.customer_id, m.number)):
        period = _open_period(by_meter[meter.id], by_group[meter.group] if meter.group else [])
        if period is not None:
            due.append(MeterDue(meter, period, readings_of[meter.id], sent[(meter.id, period.id)]))
    return due


async def _due_mails(
    customers: Sequence[Customer], today: dt.date, settings: Settings
) -> list[DueMail]:
    ids = [c.id for c in customers]
    opted_out = set(
        await ReminderOptOut.filter(customer_id__in=ids).values_list("customer_id", flat=True)
    )
    moving = set(await MoveOut.filter(customer_id__in=ids).values_list("customer_id", flat=True))
    wanted = [c for c in customers if c.id not in opted_out and c.id not in moving]
    if not wanted:
        return []
    links = await LoginCustomer.filter(customer_id__in=[c.id for c in wanted]).select_related(
        "login"
    )
    login_of = {link.customer_id: link.login for link in links}
    by_customer: dict[tuple[int, ReminderKind], list[tuple[Meter, ReadingPeriod]]] = defaultdict(
        list
    )
    for item in await meters_due(list(login_of), today):
        kind = due_reminder(
            item.period,
            item.readings,
            item.reminders,
            today=today,
            days_before_close=settings.reminder_days_before_close,
        )
        if kind is not None:
            by_customer[(item.meter.customer_id, kind)].append((item.meter, item.period))
    customer_of = {c.id: c for c in wanted}
    return [
        DueMail(customer_of[customer_id], login_of[customer_id], kind, due)
        for (customer_id, kind), due in sorted(by_customer.items(), key=lambda i: i[0][0])
    ]


def _open_period(
    own: Sequence[ReadingPeriod], group: Sequence[ReadingPeriod]
) -> ReadingPeriod | None:
    """The meter's own period open today, else its group's (the earliest if several)."""
    candidates = sorted(own or group, key=lambda p: (p.starts_on, p.id))
    return candidates[0] if candidates else None


async def _send(mails: Sequence[DueMail], settings: Settings, today: dt.date) -> None:
    if not mails:
        return
    now = clock.now()
    base = settings.portal_url.rstrip("/")
    async with in_transaction() as conn:
        await ReadingReminder.bulk_create(
            [
                ReadingReminder(
                    meter_id=meter.id,
                    period_id=period.id,
                    kind=mail.kind,
                    login_id=mail.login.id,
                    sent_at=now,
                )
                for mail in mails
                for meter, period in mail.due
            ],
            using_db=conn,
        )
        await OutboxMail.bulk_create(
            [
                outbox_mail(
                    "reading_reminder",
                    to=mail.login.email,
                    locale=mail.login.locale,
                    settings=settings,
                    priority=MailPriority.BULK,
                    name=mail.customer.name,
                    customer_number=mail.customer.number,
                    reminder=mail.kind.value,
                    ends_on=day_text(min(p.ends_on for _, p in mail.due), mail.login.locale),
                    meters=[
                        {
                            "number": meter.number,
                            "starts_on": day_text(period.starts_on, mail.login.locale),
                            "ends_on": day_text(period.ends_on, mail.login.locale),
                        }
                        for meter, period in mail.due
                    ],
                    link=base + settings.reading_page_path,
                    settings_link=base + settings.reminder_settings_path,
                )
                for mail in mails
            ],
            using_db=conn,
        )


async def send_final_reading_reminders(
    settings: Settings, *, today: dt.date, dry_run: bool = False
) -> int:
    """One mail when the final-reading window of a move-out opens, for move-outs reported
    before it and still missing a final reading. The move-out's own timestamp is the
    marker: it is set by a conditional update in the mail's transaction."""
    span = dt.timedelta(days=settings.final_reading_window_days)
    candidates = await MoveOut.filter(
        window_reminder_sent_at=None,
        final_invoice_number=None,
        move_out_on__lte=today + span,
        move_out_on__gte=today - span,
    ).select_related("customer")
    mailed = 0
    for move_out in candidates:
        window = move_out.reading_window(days=settings.final_reading_window_days)
        if move_out.reported_at.date() >= window.starts_on:
            continue  # reported inside the window: the confirmation asked for the readings
        missing = await _meters_without_final_reading(move_out, today)
        link = await LoginCustomer.filter(customer_id=move_out.customer_id).select_related("login")
        if not missing or not link or link[0].login.state != LoginState.ACTIVE:
            continue
        mailed += 1
        if dry_run:
            continue
        login = link[0].login
        async with in_transaction() as conn:
            claimed = (
                await MoveOut.filter(id=move_out.id, window_reminder_sent_at=None)
                .using_db(conn)
                .update(window_reminder_sent_at=clock.now())
            )
            if not claimed:
                mailed -= 1
                continue
            await queue_mail(
                "final_reading_due",
                to=login.email,
                locale=login.locale,
                settings=settings,
                using_db=conn,
                name=move_out.customer.name,
                customer_number=move_out.customer.number,
                move_out_on=day_text(move_out.move_out_on, login.locale),
                window_ends_on=day_text(window.ends_on, login.locale),
                meters=missing,
                link=settings.portal_url.rstrip("/") + settings.move_out_page_path,
            )
    return mailed


async def _meters_without_final_reading(move_out: MoveOut, today: dt.date) -> list[str]:
    meters = await Meter.filter(customer_id=move_out.customer_id, kind=MeterKind.MANUAL)
    done = set(
        await FinalReading.filter(move_out_id=move_out.id).values_list("meter_id", flat=True)
    )
    return sorted(m.number for m in meters if m.id not in done and not m.is_removed(today))


async def run_reminders(settings: Settings, today: dt.date) -> Any:
    """The scheduled run: logs what it did, never raises (the next run tries again)."""
    try:
        run = await send_reading_reminders(settings, today=today)
    except Exception:
        log.exception("reading reminders failed")
        return None
    if run.mails or run.final_reading_mails:
        log.info(
            "reading reminders: %d mails for %d meters, %d final-reading mails",
            run.mails,
            run.meters,
            run.final_reading_mails,
        )
    return run
