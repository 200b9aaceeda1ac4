"""The worker at the peak: mails a person waits for go first, several lanes deliver at
once, and a busy spell reuses its SMTP connections instead of opening one per mail."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Awaitable, Callable

from aiosmtpd.controller import Controller
from tortoise.transactions import in_transaction

from mailers.backends import SmtpSession, build_message
from mailers.outbox import queue_mail
from mailers.worker import deliver_due, run_worker
from models import MailPriority, MailStatus, OutboxMail
from settings import Settings


async def queue_notices(settings: Settings, count: int) -> None:
    async with in_transaction() as conn:
        for n in range(count):
            await queue_mail(
                "test_notice",
                to=f"kunde{n}@example.org",
                locale="de",
                settings=settings,
                using_db=conn,
                name="Jörg",
            )


async def queue_pin(settings: Settings, to: str) -> OutboxMail:
    return await queue_mail(
        "registration_pin", to=to, locale="de", settings=settings, pin="123456", valid_minutes=15
    )


async def until(done: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    """Wait until `done()` holds; fail after `timeout` seconds (a stall guard, not a timing)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await done():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def all_sent() -> bool:
    return not await OutboxMail.exclude(status=MailStatus.SENT).exists()


async def test_pin_mail_queued_behind_notices_is_delivered_first(outbox, mailbox):
    # given: thirty notices wait, then someone registers
    await queue_notices(outbox, 30)
    pin = await queue_pin(outbox, "neu@example.org")

    # when: the worker delivers one mail
    assert await deliver_due(outbox, batch=1) == 1

    # then: it is the PIN mail, although it was queued last
    assert [str(m["To"]) for m in mailbox.messages] == ["neu@example.org"]
    assert pin.priority == MailPriority.WAITED_FOR


async def test_bulk_mails_wait_for_normal_ones(outbox, mailbox):
    # given: a bulk mail queued before a normal one
    await queue_mail(
        "test_notice",
        to="bulk@example.org",
        locale="de",
        settings=outbox,
        priority=MailPriority.BULK,
        name="A",
    )
    await queue_mail("test_notice", to="normal@example.org", locale="de", settings=outbox, name="B")

    # when: the worker delivers both, one at a time
    await deliver_due(outbox, batch=1)
    await deliver_due(outbox, batch=1)

    # then: the normal one went first
    assert [str(m["To"]) for m in mailbox.messages] == ["normal@example.org", "bulk@example.org"]


async def test_busy_spell_reuses_one_connection_per_lane(outbox, mailbox):
    # given: sixty mails due and a worker with three lanes
    settings = outbox.model_copy(update={"mail_concurrency": 3, "mail_poll_seconds": 0.05})
    await queue_notices(settings, 60)

    # when: the worker runs until all are sent
    async with run_worker(settings):
        await until(all_sent)

    # then: every mail arrived once, over at most three SMTP connections
    received = Counter(str(m["Message-ID"]) for m in mailbox.messages)
    assert len(received) == 60
    assert set(received.values()) == {1}
    assert 1 <= len(set(mailbox.peers)) <= 3


async def test_lanes_deliver_while_one_lane_waits_for_a_slow_answer(outbox, mailbox):
    # given: the server holds its answer to the first mail until the test lets it go
    held, release = threading.Event(), threading.Event()
    accept = mailbox.handle_DATA

    async def handle_data(server, session, envelope):
        if not held.is_set():
            held.set()
            await asyncio.to_thread(release.wait, 30)
        return await accept(server, session, envelope)

    mailbox.handle_DATA = handle_data  # type: ignore[method-assign]
    settings = outbox.model_copy(update={"mail_concurrency": 2, "mail_poll_seconds": 0.05})
    await queue_notices(settings, 10)

    async def nine_arrived() -> bool:
        return len(mailbox.messages) >= 9

    # when: the worker runs
    async with run_worker(settings):
        try:
            # then: the other lane delivers the other nine while the first one waits
            await until(nine_arrived, timeout=15)
        finally:
            release.set()
        await until(all_sent)
    assert len(mailbox.messages) == 10


async def test_session_reconnects_when_the_server_dropped_the_idle_connection(outbox, mailbox):
    # given: a session that delivered one mail, and a server restarted since
    session = SmtpSession(outbox)
    first = await queue_pin(outbox, "a@example.org")
    await session.send(build_message(first, outbox))
    mailbox.controller.stop()
    restarted = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    restarted.start()
    try:
        # when: the session sends the next mail
        second = await queue_pin(outbox, "b@example.org")
        await session.send(build_message(second, outbox))
    finally:
        await session.close()
        restarted.stop()

    # then: it arrived, over a new connection
    assert [str(m["To"]) for m in mailbox.messages] == ["a@example.org", "b@example.org"]
    assert session.connections == 2


async def test_one_addresses_mails_arrive_in_the_order_they_were_queued(outbox, mailbox):
    # given: twenty mails to one address and ten to others, and a worker with four lanes
    settings = outbox.model_copy(update={"mail_concurrency": 4, "mail_poll_seconds": 0.05})
    async with in_transaction() as conn:
        queued = []
        for n in range(20):
            mail = await queue_mail(
                "test_notice", to="erika@example.org", locale="de", settings=settings,
                using_db=conn, name=f"Nr. {n}",
            )  # fmt: skip
            queued.append(mail.message_id)
    await queue_notices(settings, 10)

    # when: the worker delivers them all
    async with run_worker(settings):
        await until(all_sent)

    # then: erika's mails came in the order they were queued
    assert [str(m["Message-ID"]) for m in mailbox.to("erika@example.org")] == queued
