"""`kundenportal worker` as its own process: it delivers, stops on SIGTERM, and two
of them on PostgreSQL deliver every mail exactly once. The app's worker as a child
process (PostgreSQL): started, started again, stopped and orphaned."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from tortoise.transactions import in_transaction

from app import create_app
from mailers.outbox import queue_mail
from models import MailStatus, OutboxMail
from settings import Settings
from tests.conftest import empty_all_tables, is_postgres

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


def _postgres_only(settings: Settings) -> None:
    if not is_postgres(settings.database_url):
        pytest.skip("the app starts its worker as a process on PostgreSQL only (SQLite: in-loop)")


async def _until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_app_on_postgres_delivers_through_a_child_process_it_restarts_and_stops(
    settings, mailbox
):
    _postgres_only(settings)
    # given: an app whose settings exist only in code (the relay's port is nowhere in the
    # environment), with its worker as a child process
    app = create_app(settings.model_copy(update={"mail_worker_subprocess": True}))
    async with app.router.lifespan_context(app):
        worker = app.state.mail_worker
        try:
            # when: a mail is queued
            await queue(settings, 1)

            # then: a process other than the app's delivers it, with the app's settings
            await mailbox.wait_for("kunde@example.org", 1, timeout=60)
            first = worker.process
            assert first.pid != os.getpid()
            assert first.returncode is None

            # when: that process dies
            first.kill()

            # then: the app starts another one, which delivers what is queued next
            await _until(lambda: worker.process is not first, timeout=30)
            await queue(settings, 1, to="danach@example.org")
            await mailbox.wait_for("danach@example.org", 1, timeout=60)
        finally:
            await empty_all_tables(settings.database_url)
        child = worker.process

    # then: stopping the app drained and ended its worker
    assert child.returncode == 0
    assert worker.starts == 2


async def test_a_child_stopped_by_a_signal_not_from_the_app_is_started_again_with_a_warning(
    settings, mailbox, caplog
):
    _postgres_only(settings)
    # given: an app with its worker as a child process, delivering
    app = create_app(settings.model_copy(update={"mail_worker_subprocess": True}))
    mail_log = logging.getLogger("kundenportal.mail")
    mail_log.addHandler(caplog.handler)  # the app set up logging anew, without caplog's
    async with contextlib.AsyncExitStack() as cleanup, app.router.lifespan_context(app):
        cleanup.callback(mail_log.removeHandler, caplog.handler)
        worker = app.state.mail_worker
        try:
            await queue(settings, 1)
            await mailbox.wait_for("kunde@example.org", 1, timeout=60)
            first = worker.process

            # when: the child gets the SIGTERM a service manager sends the app's whole group
            first.send_signal(signal.SIGTERM)

            # then: it drains and ends, and the app starts another one, which delivers
            await _until(lambda: worker.process is not first, timeout=30)
            assert first.returncode == 0
            await queue(settings, 1, to="danach@example.org")
            await mailbox.wait_for("danach@example.org", 1, timeout=60)
        finally:
            await empty_all_tables(settings.database_url)

    # then: the log has a warning for it, and no error
    logged = [r for r in caplog.records if r.name == "kundenportal.mail"]
    assert [r.levelno for r in logged if "signal" in r.getMessage()] == [logging.WARNING]
    assert [r.getMessage() for r in logged if r.levelno >= logging.ERROR] == []


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # pid (comm) state ppid …: comm may hold spaces, so split after its ')'
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_worker_process_ends_when_its_app_is_killed(real_server, database_url):
    if not is_postgres(database_url):
        pytest.skip("the app starts its worker as a process on PostgreSQL only (SQLite: in-loop)")
    with real_server(MAIL_WORKER_SUBPROCESS="true") as server:
        # given: the served app and the worker it started
        await _until(lambda: bool(_children(server.process.pid)), timeout=30)
        [child] = _children(server.process.pid)

        # when: the app dies without a chance to stop it
        server.stop(signal.SIGKILL)

    # then: the worker notices and ends by itself (it looks once a second)
    await _until(lambda: not _alive(child), timeout=15)


async def test_app_on_sqlite_keeps_its_worker_in_its_event_loop(settings, mailbox):
    if is_postgres(settings.database_url):
        pytest.skip("SQLite's case")
    before = set(_children(os.getpid()))
    # given: an app on SQLite, asked for a worker process
    app = create_app(settings.model_copy(update={"mail_worker_subprocess": True}))
    async with app.router.lifespan_context(app):
        try:
            # when: a mail is queued
            await queue(settings, 1)

            # then: it is delivered, and no process was started for it (two processes
            # would take turns on the one file's write lock)
            await mailbox.wait_for("kunde@example.org", 1, timeout=30)
            assert set(_children(os.getpid())) == before
        finally:
            await empty_all_tables(settings.database_url)
