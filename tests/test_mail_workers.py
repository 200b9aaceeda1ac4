"""`kundenportal worker` as its own process: it delivers, stops on SIGTERM, and two
of them on PostgreSQL deliver every mail exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest
from tortoise.transactions import in_transaction

from mailers.outbox import queue_mail
from models import MailStatus, OutboxMail
from settings import Settings
from tests.conftest import is_postgres

ROOT = Path(__file__).resolve().parents[1]


class WorkerProcess:
    """`kundenportal worker` in a process of its own, its log collected."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())
        self.started = asyncio.Event()

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode().rstrip()
            self.lines.append(line)
            if "mail worker started" in line:
                self.started.set()

    @classmethod
    async def start(cls, settings: Settings) -> WorkerProcess:
        env = {
            **os.environ,
            "ENV": "test",
            "DATABASE_URL": settings.database_url,
            "MAIL_BACKEND": "smtp",
            "SMTP_HOST": settings.smtp_host,
            "SMTP_PORT": str(settings.smtp_port),
            "MAIL_POLL_SECONDS": "0.05",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cli",
            "worker",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        worker = cls(process)
        await asyncio.wait_for(worker.started.wait(), 60)
        return worker

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), 60)
        await self._reader
        return code

    def sent(self) -> int:
        return sum(" sent on attempt " in line for line in self.lines)


async def queue(settings: Settings, count: int, to: str = "kunde@example.org") -> None:
    async with in_transaction() as conn:
        for _ in range(count):
            await queue_mail(
                "test_notice", to=to, locale="de", settings=settings, using_db=conn, name="Ada"
            )


async def test_worker_process_delivers_and_stops_on_sigterm(outbox, mailbox):
    # given: a worker running on its own
    worker = await WorkerProcess.start(outbox)
    try:
        # when: a mail is queued
        await queue(outbox, 1)

        # then: the worker delivers it
        await mailbox.wait_for("kunde@example.org", 1, timeout=30)
    finally:
        code = await worker.stop()

    # then: SIGTERM ends it cleanly
    assert code == 0, "\n".join(worker.lines)
    assert worker.sent() == 1
    assert any("mail worker stopped" in line for line in worker.lines)
    assert (await OutboxMail.get()).status == MailStatus.SENT


async def test_two_worker_processes_on_postgres_deliver_500_mails_each_exactly_once(
    outbox, mailbox
):
    if not is_postgres(outbox.database_url):
        pytest.skip(
            "needs PostgreSQL: two processes on one SQLite file take turns on its write lock "
            "instead of skipping each other's rows (SKIP LOCKED is ignored there)"
        )
    # given: two workers running in processes of their own
    workers = [await WorkerProcess.start(outbox) for _ in range(2)]
    try:
        # when: 500 mails are committed at once
        await queue(outbox, 500)

        # then: 500 mails arrive
        await mailbox.wait_for("kunde@example.org", 500, timeout=240)
    finally:
        codes = [await worker.stop() for worker in workers]

    # then (the workers have ended, so no delivery is still under way): each Message-ID
    # arrived exactly once, and both workers took part
    assert codes == [0, 0]
    received = Counter(str(m["Message-ID"]) for m in mailbox.messages)
    assert len(mailbox.messages) == 500
    assert set(received.values()) == {1}
    assert set(received) == set(await OutboxMail.all().values_list("message_id", flat=True))
    assert sorted(await OutboxMail.all().distinct().values_list("status", flat=True)) == ["sent"]
    sent = [worker.sent() for worker in workers]
    print(f"mails sent per worker: {sent}")
    assert sum(sent) == 500
    assert min(sent) > 0
