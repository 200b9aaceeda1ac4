"""What an operator does on the command line: look at the queue, retry, send a test mail.

Each test runs the real `kundenportal` command in a process of its own,
against the test database and the test SMTP server.
"""

from __future__ import annotations

import re

from tortoise.transactions import in_transaction

from mailers.outbox import queue_mail
from mailers.worker import deliver_due
from models import MailStatus, OutboxMail
from settings import Settings


async def queue(settings: Settings, to: str) -> int:
    async with in_transaction() as conn:
        mail = await queue_mail(
            "test_notice", to=to, locale="de", settings=settings, using_db=conn, name="Ada"
        )
    return mail.id


async def refused(settings: Settings, mailbox, to: str) -> int:
    """A mail the server refused for good."""
    mailbox.reply = "550 5.1.1 No such user"
    mail_id = await queue(settings, to)
    await deliver_due(settings)
    mailbox.reply = None
    return mail_id


async def test_send_test_mail_delivers_the_test_notice_now(outbox, mailbox, staff):
    # when
    run = await staff("send-test-mail", "betrieb@example.org")

    # then
    assert run.code == 0, run.stderr
    assert f"handed to 127.0.0.1:{mailbox.port}" in run.stdout
    [message] = mailbox.to("betrieb@example.org")
    assert message["Subject"] == "Grüße vom Kundenportal"
    assert str(message["Message-ID"]) in run.stdout
    assert (await OutboxMail.get()).status == MailStatus.SENT


async def test_send_test_mail_reports_the_servers_refusal(outbox, mailbox, staff):
    # given: a relay that refuses us
    mailbox.reply = "550 5.7.1 Relaying denied"

    # when
    run = await staff("send-test-mail", "betrieb@example.org", "--locale", "en")

    # then: the operator reads the answer
    assert run.code == 1
    assert "failed" in run.stderr
    assert "550 5.7.1 Relaying denied" in run.stderr


async def test_mail_queue_shows_counts_oldest_waiting_mail_and_latest_failures(
    outbox, mailbox, staff
):
    # given: one mail sent, one refused, one waiting
    await queue(outbox, "gut@example.org")
    await deliver_due(outbox)
    failed_id = await refused(outbox, mailbox, "erika.mustermann@example.org")
    await queue(outbox, "warten@example.org")

    # when
    run = await staff("mail-queue")

    # then
    assert run.code == 0, run.stderr
    assert re.search(r"queued\s+1\s+oldest waiting \d+ s", run.stdout)
    assert re.search(r"sent\s+1\b", run.stdout)
    assert re.search(r"failed\s+1\b", run.stdout)
    [failure] = [line for line in run.stdout.splitlines() if f"#{failed_id} " in line]
    assert "failed" in failure
    assert "550 5.1.1 No such user" in failure
    assert "e***n@example.org" in failure
    assert "erika.mustermann" not in run.stdout


async def test_failed_mail_retried_by_id_is_delivered(outbox, mailbox, staff):
    # given: a refused mail, and a sent one
    failed_id = await refused(outbox, mailbox, "kunde@example.org")
    sent_id = await queue(outbox, "gut@example.org")
    await deliver_due(outbox)

    # when: the operator retries both
    retried = await staff("mail-queue", "--retry", str(failed_id))
    not_retried = await staff("mail-queue", "--retry", str(sent_id))

    # then: the failed one is queued again with a full set of attempts and goes out
    assert retried.code == 0
    assert f"Mail {failed_id} queued again" in retried.stdout
    assert not_retried.code == 1
    assert "sent, not failed" in not_retried.stderr
    mail = await OutboxMail.get(id=failed_id)
    assert (mail.status, mail.attempts) == (MailStatus.QUEUED, 0)
    await deliver_due(outbox)
    assert len(mailbox.to("kunde@example.org")) == 1
    assert (await OutboxMail.get(id=failed_id)).status == MailStatus.SENT


async def test_retry_failed_queues_every_failed_mail_again(outbox, mailbox, staff):
    # given: two refused mails
    await refused(outbox, mailbox, "eins@example.org")
    await refused(outbox, mailbox, "zwei@example.org")

    # when
    run = await staff("mail-queue", "--retry-failed")

    # then
    assert run.code == 0
    assert "2 failed mail(s) queued again" in run.stdout
    await deliver_due(outbox)
    assert len(mailbox.messages) == 2
