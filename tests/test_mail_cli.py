"""What an operator does on the command line: look at the queue, retry, send a test mail.

Each test runs the real `kundenportal` command in a process of its own,
against the test database and the test SMTP server.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from tortoise.transactions import in_transaction

from mailers.outbox import queue_mail
from mailers.worker import deliver_due
from models import MailStatus, OutboxMail
from settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def environment(settings: Settings) -> dict[str, str]:
    """The environment an operator's shell would have for this deployment."""
    return {
        **os.environ,
        "ENV": "test",
        "DATABASE_URL": settings.database_url,
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": settings.smtp_host,
        "SMTP_PORT": str(settings.smtp_port),
        "SMTP_TIMEOUT_SECONDS": "5",
        "MAIL_FROM": settings.mail_from,
    }


@dataclass
class Run:
    code: int
    out: str
    err: str


async def kundenportal(settings: Settings, *args: str) -> Run:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli",
        *args,
        cwd=ROOT,
        env=environment(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


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


async def test_send_test_mail_delivers_the_test_notice_now(outbox, mailbox):
    # when
    run = await kundenportal(outbox, "send-test-mail", "betrieb@example.org")

    # then
    assert run.code == 0, run.err
    assert f"handed to 127.0.0.1:{mailbox.port}" in run.out
    [message] = mailbox.to("betrieb@example.org")
    assert message["Subject"] == "Grüße vom Kundenportal"
    assert str(message["Message-ID"]) in run.out
    assert (await OutboxMail.get()).status == MailStatus.SENT


async def test_send_test_mail_reports_the_servers_refusal(outbox, mailbox):
    # given: a relay that refuses us
    mailbox.reply = "550 5.7.1 Relaying denied"

    # when
    run = await kundenportal(outbox, "send-test-mail", "betrieb@example.org", "--locale", "en")

    # then: the operator reads the answer
    assert run.code == 1
    assert "failed" in run.err
    assert "550 5.7.1 Relaying denied" in run.err


async def test_mail_queue_shows_counts_oldest_waiting_mail_and_latest_failures(outbox, mailbox):
    # given: one mail sent, one refused, one waiting
    await queue(outbox, "gut@example.org")
    await deliver_due(outbox)
    failed_id = await refused(outbox, mailbox, "erika.mustermann@example.org")
    await queue(outbox, "warten@example.org")

    # when
    run = await kundenportal(outbox, "mail-queue")

    # then
    assert run.code == 0, run.err
    assert re.search(r"queued\s+1\s+oldest waiting \d+ s", run.out)
    assert re.search(r"sent\s+1\b", run.out)
    assert re.search(r"failed\s+1\b", run.out)
    [failure] = [line for line in run.out.splitlines() if f"#{failed_id} " in line]
    assert "failed" in failure
    assert "550 5.1.1 No such user" in failure
    assert "e***n@example.org" in failure
    assert "erika.mustermann" not in run.out


async def test_failed_mail_retried_by_id_is_delivered(outbox, mailbox):
    # given: a refused mail, and a sent one
    failed_id = await refused(outbox, mailbox, "kunde@example.org")
    sent_id = await queue(outbox, "gut@example.org")
    await deliver_due(outbox)

    # when: the operator retries both
    retried = await kundenportal(outbox, "mail-queue", "--retry", str(failed_id))
    not_retried = await kundenportal(outbox, "mail-queue", "--retry", str(sent_id))

    # then: the failed one is queued again with a full set of attempts and goes out
    assert retried.code == 0
    assert f"Mail {failed_id} queued again" in retried.out
    assert not_retried.code == 1
    assert "sent, not failed" in not_retried.err
    mail = await OutboxMail.get(id=failed_id)
    assert (mail.status, mail.attempts) == (MailStatus.QUEUED, 0)
    await deliver_due(outbox)
    assert len(mailbox.to("kunde@example.org")) == 1
    assert (await OutboxMail.get(id=failed_id)).status == MailStatus.SENT


async def test_retry_failed_queues_every_failed_mail_again(outbox, mailbox):
    # given: two refused mails
    await refused(outbox, mailbox, "eins@example.org")
    await refused(outbox, mailbox, "zwei@example.org")

    # when
    run = await kundenportal(outbox, "mail-queue", "--retry-failed")

    # then
    assert run.code == 0
    assert "2 failed mail(s) queued again" in run.out
    await deliver_due(outbox)
    assert len(mailbox.messages) == 2
