"""The worker against a real SMTP server: retries, failures, leases, drain, purge, metrics.

These tests drive the worker by hand (`deliver_due`, `run_worker`) on the
database without the app, and move the clock with time-machine instead of
waiting for backoffs.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
from collections import Counter
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from tortoise.connection import connections
from tortoise.transactions import in_transaction

import clock
import db
from app import create_app
from mailers import purge_mail_bodies, queue_metrics
from mailers import worker as worker_module
from mailers.outbox import NotRetryable, purge_sent_mail, queue_mail, retry_mail
from mailers.worker import MailWorker, claim, deliver_due, run_worker
from models import MailPriority, MailStatus, OutboxMail
from settings import Settings
from tests.conftest import empty_all_tables, free_port, is_postgres


async def queue(settings: Settings, count: int = 1, to: str = "kunde@example.org") -> list[int]:
    async with in_transaction() as conn:
        mails = [
            await queue_mail(
                "test_notice", to=to, locale="de", settings=settings, using_db=conn, name="Jörg"
            )
            for _ in range(count)
        ]
    return [mail.id for mail in mails]


async def deliver_all_due(settings: Settings) -> int:
    tried = total = await deliver_due(settings)
    while tried:
        tried = await deliver_due(settings)
        total += tried
    return total


def at(moment: dt.datetime) -> time_machine.travel:
    """The clock stands at `moment` (it does not tick, so waits come out exact)."""
    return time_machine.travel(moment, tick=False)


async def test_mails_queued_while_server_is_down_arrive_after_it_returns(outbox, mailbox):
    # given: the SMTP server is down and three mails are queued
    mailbox.controller.stop()
    ids = await queue(outbox, count=3)

    # when: the worker tries
    tried = await deliver_due(outbox)

    # then: connection refused is temporary; the round ends at the first refusal
    assert tried == 1
    first = await OutboxMail.get(id=ids[0])
    assert first.status == MailStatus.QUEUED
    assert first.attempts == 1
    assert first.last_error.startswith("SMTPConnectError")
    # the others of the claim were not tried: due again at once, no attempt counted
    for other in await OutboxMail.filter(id__in=ids[1:]):
        assert other.attempts == 0
        assert other.next_attempt_at <= clock.now()

    # when: the server comes back on the same port and the backoff has passed
    restarted = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    restarted.start()
    try:
        with at(clock.now() + dt.timedelta(minutes=1)):
            await deliver_all_due(outbox)
    finally:
        restarted.stop()

    # then: every mail arrived, each once
    assert sorted(str(m["Message-ID"]) for m in mailbox.messages) == sorted(
        [m.message_id for m in await OutboxMail.all()]
    )
    assert {m.status for m in await OutboxMail.all()} == {MailStatus.SENT}


async def test_temporary_refusal_is_retried_and_delivered_later(outbox, mailbox):
    # given: the server answers 451 to the mail
    mailbox.reply = "451 4.3.0 Try again later"
    [mail_id] = await queue(outbox)

    # when: the worker tries
    assert await deliver_due(outbox) == 1

    # then: the mail waits for its retry, with the server's answer noted
    mail = await OutboxMail.get(id=mail_id)
    assert (mail.status, mail.attempts) == (MailStatus.QUEUED, 1)
    assert mail.last_error == "451 4.3.0 Try again later"
    assert await deliver_due(outbox) == 0, "not due again before its backoff"

    # when: the server accepts again and the retry is due
    mailbox.reply = None
    with at(mail.next_attempt_at):
        assert await deliver_due(outbox) == 1

    # then: it is delivered once
    assert len(mailbox.to("kunde@example.org")) == 1
    mail = await OutboxMail.get(id=mail_id)
    assert (mail.status, mail.attempts, mail.last_error) == (MailStatus.SENT, 2, "")


async def test_retries_wait_twice_as_long_each_time_then_the_mail_fails(outbox, mailbox):
    # given: backoff 30 s capped at 100 s, 5 attempts, and a server that keeps saying 450
    settings = outbox.model_copy(
        update={
            "mail_backoff_base_seconds": 30,
            "mail_backoff_max_seconds": 100,
            "mail_max_attempts": 5,
        }
    )
    mailbox.reply = "450 4.2.1 Mailbox busy"
    [mail_id] = await queue(settings)

    # when: the worker tries each time the mail is due
    waits = []
    now = clock.now()
    for _ in range(5):
        with at(now):
            assert await deliver_due(settings) == 1
        mail = await OutboxMail.get(id=mail_id)
        waits.append((mail.next_attempt_at - now).total_seconds())
        now = mail.next_attempt_at

    # then: 30, 60, 100 (cap), 100 s between tries, and failed after the fifth
    assert waits[:4] == [30, 60, 100, 100]
    assert (mail.status, mail.attempts) == (MailStatus.FAILED, 5)
    assert mail.last_error == "450 4.2.1 Mailbox busy"
    assert mailbox.messages == []


async def test_permanent_refusal_fails_the_mail_at_once_with_the_servers_answer(outbox, mailbox):
    # given: the server refuses the mail for good
    mailbox.reply = "550 5.7.1 Message rejected as spam"
    [mail_id] = await queue(outbox)

    # when
    await deliver_due(outbox)

    # then
    mail = await OutboxMail.get(id=mail_id)
    assert (mail.status, mail.attempts) == (MailStatus.FAILED, 1)
    assert mail.last_error == "550 5.7.1 Message rejected as spam"
    with at(clock.now() + dt.timedelta(days=1)):
        assert await deliver_due(outbox) == 0, "a failed mail is never tried again by itself"


class RefusingRecipients:
    """An SMTP server that answers RCPT TO with a fixed reply."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    async def handle_RCPT(self, server, session, envelope, address, options) -> str:
        return self.reply


@pytest.mark.parametrize(
    ("reply", "status"),
    [("550 5.1.1 No such user", MailStatus.FAILED), ("450 4.2.0 Greylisted", MailStatus.QUEUED)],
)
async def test_refused_recipient_fails_on_5xx_and_waits_on_4xx(outbox, reply, status):
    # given: a server that refuses the recipient
    port = free_port()
    server = Controller(RefusingRecipients(reply), hostname="127.0.0.1", port=port)
    server.start()
    try:
        [mail_id] = await queue(outbox)

        # when
        await deliver_due(outbox.model_copy(update={"smtp_port": port}))
    finally:
        server.stop()

    # then
    mail = await OutboxMail.get(id=mail_id)
    assert (mail.status, mail.attempts, mail.last_error) == (status, 1, reply)


async def test_server_that_never_answers_is_retried_after_the_timeout(outbox):
    # given: a port that accepts connections but never greets
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        settings = outbox.model_copy(
            update={"smtp_port": silent.getsockname()[1], "smtp_timeout_seconds": 0.3}
        )
        [mail_id] = await queue(settings)

        # when
        await deliver_due(settings)

    # then: a timeout is temporary
    mail = await OutboxMail.get(id=mail_id)
    assert (mail.status, mail.attempts) == (MailStatus.QUEUED, 1)
    assert "timeout" in mail.last_error.lower() or "timed out" in mail.last_error.lower()


async def test_mail_of_a_worker_that_died_is_sent_once_after_its_lease(outbox, mailbox):
    # given: a worker claimed a mail and died before delivering it
    [mail_id] = await queue(outbox)
    assert (await claim(outbox)).id == mail_id

    # when: another worker looks before and after the lease ran out
    tried_during_lease = await deliver_due(outbox)
    with at(clock.now() + dt.timedelta(seconds=outbox.mail_lease_seconds + 1)):
        tried_after_lease = await deliver_due(outbox)

    # then: nobody touched it while it was claimed; afterwards it went out once
    assert (tried_during_lease, tried_after_lease) == (0, 1)
    assert len(mailbox.messages) == 1
    mail = await OutboxMail.get(id=mail_id)
    assert (mail.status, mail.attempts) == (MailStatus.SENT, 2)


async def test_two_concurrent_workers_deliver_each_mail_exactly_once(outbox, mailbox):
    # given: 100 queued mails
    await queue(outbox, count=100)

    # when: two delivery loops run at the same time (own connections on PostgreSQL)
    tried = await asyncio.gather(deliver_all_due(outbox), deliver_all_due(outbox))

    # then: 100 tries in all, 100 distinct Message-IDs received, each once
    assert sum(tried) == 100
    received = Counter(str(m["Message-ID"]) for m in mailbox.messages)
    assert len(received) == 100
    assert set(received.values()) == {1}
    assert set(received) == {m.message_id for m in await OutboxMail.all()}


# ---------------------------------------------------------------------- drain


async def test_stopping_worker_delivers_what_is_due_before_it_ends(outbox, mailbox):
    # given: a running worker that has gone to sleep for an hour
    settings = outbox.model_copy(update={"mail_poll_seconds": 3600})
    async with run_worker(settings) as worker:
        await asyncio.wait_for(worker.idle.wait(), 10)
        await queue(settings, to="spaet@example.org")
        assert mailbox.to("spaet@example.org") == []

        # when: it is stopped (leaving the context)

    # then: the mail went out before the worker ended
    assert len(mailbox.to("spaet@example.org")) == 1
    assert (await OutboxMail.get()).status == MailStatus.SENT


# -------------------------------------------------------------------- wake-up


def _postgres_only(settings: Settings) -> None:
    if not is_postgres(settings.database_url):
        pytest.skip("a wake-up connection exists on PostgreSQL (LISTEN/NOTIFY)")


async def queue_waited_for(settings: Settings, to: str) -> None:
    """A mail a person waits for at the screen (as a PIN is), in its own transaction."""
    async with in_transaction() as conn:
        await queue_mail(
            "test_notice",
            to=to,
            locale="de",
            settings=settings,
            using_db=conn,
            priority=MailPriority.WAITED_FOR,
            name="Jörg",
        )


async def _listening_and_idle(worker: MailWorker) -> None:
    await asyncio.wait_for(worker.listening.wait(), 10)
    await asyncio.wait_for(worker.idle.wait(), 10)


async def test_a_mail_someone_waits_for_wakes_the_idle_worker(outbox, mailbox):
    # given: a worker that polls once a minute, idle and listening
    settings = outbox.model_copy(update={"mail_poll_seconds": 60})
    async with run_worker(settings) as worker:
        await _listening_and_idle(worker)

        # when: a PIN-like mail is committed, and another one in a transaction that rolls back
        await queue_waited_for(settings, "wartet@example.org")
        with contextlib.suppress(RuntimeError):
            async with in_transaction() as conn:
                await queue_mail(
                    "test_notice",
                    to="nie@example.org",
                    locale="de",
                    settings=settings,
                    using_db=conn,
                    priority=MailPriority.WAITED_FOR,
                    name="Jörg",
                )
                raise RuntimeError("the change fails")

        # then: the committed one arrives long before the next poll; the other never existed
        # (on PostgreSQL by NOTIFY on commit; on SQLite the worker in this event loop is
        # woken at once and its claim waits for the transaction to end)
        await mailbox.wait_for("wartet@example.org", 1, timeout=10)
        assert mailbox.to("nie@example.org") == []
        assert await OutboxMail.filter(recipient="nie@example.org").count() == 0


async def test_worker_listens_again_after_its_connection_is_killed(outbox, mailbox, monkeypatch):
    _postgres_only(outbox)
    monkeypatch.setattr(worker_module, "LISTEN_RETRY_SECONDS", 0.2)
    settings = outbox.model_copy(update={"mail_poll_seconds": 60})
    async with run_worker(settings) as worker:
        await _listening_and_idle(worker)

        # when: the database ends the wake-up connection (a restart, an operator)
        killed = await connections.get("default").execute_query_dict(
            "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity "
            "WHERE application_name = $1 AND datname = current_database()",
            [worker_module.LISTENER_NAME],
        )
        assert [row["done"] for row in killed] == [True]
        deadline = asyncio.get_running_loop().time() + 10
        while worker.listening.is_set():
            assert asyncio.get_running_loop().time() < deadline, "the loss was not noticed"
            await asyncio.sleep(0.05)

        # then: the worker connects again, and the next mail someone waits for wakes it
        await _listening_and_idle(worker)
        await queue_waited_for(settings, "wieder@example.org")
        await mailbox.wait_for("wieder@example.org", 1, timeout=10)


class SlowMailbox:
    """An SMTP server that takes a second to accept each mail."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.sleep(1)
        self.received += 1
        return "250 OK"


class PacedMailbox:
    """An SMTP server that takes `delay` seconds to accept each mail."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.message_ids: list[str] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.sleep(self.delay)
        for line in envelope.content.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                self.message_ids.append(line.split(b":", 1)[1].strip().decode())
        return "250 OK"


async def test_claimed_mails_are_started_only_while_half_their_lease_is_left(outbox):
    # given: a lease of one second, a server that takes 0.4 s per mail, and four mails
    # that one claim takes together
    paced = PacedMailbox(0.4)
    port = free_port()
    server = Controller(paced, hostname="127.0.0.1", port=port)
    server.start()
    settings = outbox.model_copy(update={"smtp_port": port, "mail_lease_seconds": 1.0})
    ids = await queue(settings, count=4)

    # when: the worker delivers them
    try:
        tried = await deliver_due(settings)
    finally:
        server.stop()

    # then: it stopped starting mails once half the lease was gone (a delivery is cut
    # off at half the lease, so every one it started ended inside its lease); the mails
    # it did not start are due again, their attempt not counted; nothing went twice
    mails = {m.id: m for m in await OutboxMail.filter(id__in=ids)}
    sent = [i for i in ids if mails[i].status == MailStatus.SENT]
    assert 1 <= tried < 4
    assert sent == ids[:tried]
    for waiting in ids[tried:]:
        assert mails[waiting].status == MailStatus.QUEUED
        assert mails[waiting].attempts == 0
        assert mails[waiting].next_attempt_at <= clock.now()
    assert sorted(paced.message_ids) == sorted(mails[i].message_id for i in sent)


async def test_drain_at_shutdown_stops_starting_mails_after_its_time(outbox):
    # given: a slow server, a drain time of 0.3 s and five mails due at shutdown
    slow = SlowMailbox()
    port = free_port()
    server = Controller(slow, hostname="127.0.0.1", port=port)
    server.start()
    settings = outbox.model_copy(
        update={
            "smtp_port": port,
            "mail_poll_seconds": 3600,
            "mail_drain_seconds": 0.3,
            "mail_concurrency": 4,
        }
    )
    try:
        async with run_worker(settings) as worker:
            await asyncio.wait_for(worker.idle.wait(), 10)
            await queue(settings, count=5)

            # when: the worker is stopped
    finally:
        server.stop()

    # then: at most the mails under way (one per lane) went out; the rest wait, unclaimed,
    # for the next start
    mails = await OutboxMail.all()
    sent = [m for m in mails if m.status == MailStatus.SENT]
    waiting = [m for m in mails if m.status == MailStatus.QUEUED and m.attempts == 0]
    assert len(sent) == slow.received <= settings.mail_concurrency < 5
    assert len(waiting) == 5 - len(sent)


async def test_app_shutdown_delivers_mail_queued_just_before(settings, mailbox):
    # given: the app with its in-app worker, polling only once an hour
    settings = settings.model_copy(update={"mail_poll_seconds": 3600})
    application: Any = create_app(settings)
    async with application.router.lifespan_context(application):
        await queue(settings, to="abschied@example.org")

        # when: the app shuts down

    # then: the mail was delivered by then
    assert len(mailbox.to("abschied@example.org")) == 1
    async with db.database(settings.database_url):
        try:
            assert (await OutboxMail.get()).status == MailStatus.SENT
        finally:
            await empty_all_tables(settings.database_url)


# ---------------------------------------------------------------- purge, metrics


async def test_bodies_of_mails_done_for_a_week_are_cleared(outbox, mailbox):
    # given: on day 0 one mail is sent and one refused for good; on day 3 one more is sent;
    # one mail stays queued
    day0 = clock.now()
    with at(day0):
        [old_sent] = await queue(outbox)
        await deliver_due(outbox)
        mailbox.reply = "550 5.1.1 No such user"
        [old_failed] = await queue(outbox)
        await deliver_due(outbox)
        mailbox.reply = None
    with at(day0 + dt.timedelta(days=3)):
        [recent] = await queue(outbox)
        await deliver_due(outbox)
        [waiting] = await queue(outbox.model_copy(update={"smtp_port": free_port()}))

    # when: the purge runs on day 7 plus a minute, with a retention of 7 days
    with at(day0 + dt.timedelta(days=7, minutes=1)):
        purged = await purge_sent_mail(dt.timedelta(days=7))

    # then: the two mails done on day 0 lost their bodies and nothing else
    assert purged == 2
    by_id = {m.id: m for m in await OutboxMail.all()}
    for cleared in (old_sent, old_failed):
        assert (by_id[cleared].body_text, by_id[cleared].body_html) == ("", "")
        assert by_id[cleared].subject == "Grüße vom Kundenportal"
    for kept in (recent, waiting):
        assert "Hallo Jörg" in by_id[kept].body_text
        assert "Hallo Jörg" in by_id[kept].body_html
    with pytest.raises(NotRetryable, match="purged"):
        await retry_mail(old_failed)


async def test_retention_job_clears_bodies_after_the_configured_days(outbox):
    # given: a retention of 2 days and a mail sent now
    settings = outbox.model_copy(update={"mail_body_retention_days": 2})
    start = clock.now()
    with at(start):
        [mail_id] = await queue(settings)
        await deliver_due(settings)

    # when: the scheduled job runs after one day, and after two days and a minute
    with at(start + dt.timedelta(days=1)):
        after_one_day = await purge_mail_bodies(settings)
    with at(start + dt.timedelta(days=2, minutes=1)):
        after_two_days = await purge_mail_bodies(settings)

    # then
    assert (after_one_day, after_two_days) == (0, 1)
    assert (await OutboxMail.get(id=mail_id)).body_text == ""


async def test_queue_metrics_count_states_and_age_of_oldest_waiting_mail(outbox, mailbox):
    # given: nothing in the outbox
    assert await queue_metrics() == {
        "queued": 0,
        "sent": 0,
        "failed": 0,
        "oldest_queued_age_seconds": 0.0,
    }

    # given: one sent, one failed, two still waiting since T
    start = clock.now()
    with at(start):
        await queue(outbox)
        await deliver_due(outbox)
        mailbox.reply = "554 5.7.1 Rejected"
        await queue(outbox)
        await deliver_due(outbox)
        await queue(outbox, count=2)

    # when: the metrics are read 90 s later
    with at(start + dt.timedelta(seconds=90)):
        metrics = await queue_metrics()

    # then
    assert metrics == {"queued": 2, "sent": 1, "failed": 1, "oldest_queued_age_seconds": 90.0}
