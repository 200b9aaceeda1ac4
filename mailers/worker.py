"""The outbox worker: delivers queued mails, retries temporary failures with backoff.

Started and stopped by the app's lifespan (draining on shutdown): on PostgreSQL
as a child process (`WorkerProcess`, the `worker` command), on SQLite in the app's
event loop; or on its own (`kundenportal worker`, then `MAIL_WORKER_IN_APP=false`
for the app processes). Any number of workers may run against one database.

How workers stay apart: a claim with a lease, not a lock held while sending.
A worker claims a few due mails (`CLAIM_AT_ONCE`) in one statement:

    UPDATE … SET next_attempt_at = now + lease, attempts = attempts + 1
        WHERE id IN (SELECT id … WHERE status = 'queued' AND next_attempt_at <= now
                     ORDER BY priority, next_attempt_at, id LIMIT n FOR UPDATE SKIP LOCKED)
          AND status = 'queued' AND next_attempt_at <= now
        RETURNING *

and only then talks to the SMTP server. Pushing `next_attempt_at`
past the lease takes the mail out of every other worker's "due" set, so no
`sending` state (and no model change) is needed. The UPDATE is conditional
per row, so the claim is atomic even where `SKIP LOCKED` does not exist
(SQLite): a mail another worker took in between is neither updated nor
returned, and at most one worker wins a mail, on any database. `SKIP
LOCKED` only saves PostgreSQL workers from queueing behind each other's row
locks. Mails of a claim that a round does not get to (it stops, or the
server is down) are released at once, their attempt not counted. The
result (sent, retry at, failed) is written with `attempts = <claimed>` in the
condition, so a worker whose lease ran out cannot overwrite the newer
owner's outcome.

Why not the simpler "lock the row and send inside the transaction": on
SQLite, Tortoise serialises every transaction on the one connection, so the
whole app's database access would wait for each SMTP conversation (up to
several timeouts); on PostgreSQL every worker would hold a pooled
connection idle in a transaction for as long. A claim holds nothing while
sending.

What the lease costs: if a worker dies mid-delivery its mail is retried
after `MAIL_LEASE_SECONDS` (a lock would be released at once). A delivery is
cut off at half the lease, so in normal operation a lease never runs out
while its mail is still being sent: no mail is sent twice. Twice is still
possible when the server accepted a mail and the worker died (or lost the
database) before recording it; every outbox has that window, and the
retry carries the same Message-ID so receiving systems can tell.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Sequence

import asyncpg
from tortoise.expressions import F

import clock
from db import dedicated_connection, is_outage
from mailers.backends import PermanentFailure, SmtpSession, TemporaryFailure, deliver
from mailers.outbox import SHARDS, WAKE_CHANNEL, woken_in_process
from models import MailStatus, OutboxMail
from settings import Settings

log = logging.getLogger("kundenportal.mail")
BATCH = 20
KEEP_OPEN_SECONDS = 30.0
LISTEN_CHECK_SECONDS = 30.0
"""How often the wake-up connection is asked whether it still answers (a partition that
drops no packet is noticed so)."""
LISTEN_RETRY_SECONDS = 5.0
LISTENER_NAME = "kundenportal mail wake-up"
"""The wake-up connection's `application_name`, as `pg_stat_activity` shows it."""


def backoff(attempts: int, settings: Settings) -> dt.timedelta:
    """Wait after the `attempts`-th temporary failure: base, 2×base, 4×base, … up to the cap."""
    delay = settings.mail_backoff_base_seconds * 2 ** min(attempts - 1, 30)
    return dt.timedelta(seconds=min(delay, settings.mail_backoff_max_seconds))


CLAIM_AT_ONCE = 10
"""Mails a lane claims with one statement: more saves round trips, fewer lets a PIN that
arrives meanwhile go sooner (it waits for at most the rest of one lane's batch)."""


@functools.cache
def _claim_sql(dialect: str, shards: int, by_id: bool) -> str:
    """The claim as one statement, built once per shape.

    The inner SELECT picks the first due mails (skipping rows another PostgreSQL
    worker has locked); the UPDATE takes each of them only if it is still due, so a
    mail another worker claimed in between is neither updated nor returned: no two
    workers get the same mail, on either database. On PostgreSQL the pick is
    `= ANY(ARRAY(…))`, which runs once: as `IN (…)` the planner may run it again per
    updated row, and each run finds the next due mail, so the LIMIT would not hold.
    Parameters are numbered (`$n` on PostgreSQL, `?n` on SQLite): 1 the lease's end,
    2 now, then the shards, the id, the limit.
    """
    mark = "$" if dialect == "postgres" else "?"
    numbers = iter(range(3, 3 + shards + 2))
    due = f'"status" = \'queued\' AND "next_attempt_at" <= {mark}2'
    picked = due
    if shards:
        picked += f' AND "shard" IN ({", ".join(f"{mark}{next(numbers)}" for _ in range(shards))})'
    if by_id:
        picked += f' AND "id" = {mark}{next(numbers)}'
    postgres = dialect == "postgres"
    pick, lock = ("= ANY(ARRAY(", " FOR UPDATE SKIP LOCKED))") if postgres else ("IN (", ")")
    return (  # only numbered placeholders are formatted in; the values are parameters
        f'UPDATE "outbox_mail" SET "next_attempt_at" = {mark}1, "attempts" = "attempts" + 1'  # noqa: S608
        f' WHERE "id" {pick}SELECT "id" FROM "outbox_mail" WHERE {picked}'
        f' ORDER BY "priority", "next_attempt_at", "id" LIMIT {mark}{next(numbers)}{lock}'
        f" AND {due} RETURNING *"
    )


async def claim_due(
    settings: Settings,
    limit: int = CLAIM_AT_ONCE,
    *,
    mail_id: int | None = None,
    shards: Sequence[int] | None = None,
) -> list[OutboxMail]:
    """Take up to `limit` due mails (or mail `mail_id`, if due) for this worker, leased
    until now + `MAIL_LEASE_SECONDS`: by priority, then in queue order; only of `shards`
    when given (a lane's share). One statement, no transaction held."""
    connection = OutboxMail._meta.db
    now = clock.now()
    lease = now + dt.timedelta(seconds=settings.mail_lease_seconds)
    shard_list = list(shards) if shards is not None else []
    sql = _claim_sql(connection.capabilities.dialect, len(shard_list), mail_id is not None)
    values: list[object] = [lease, now, *shard_list]
    if mail_id is not None:
        values.append(mail_id)
    values.append(limit)
    rows = await connection.execute_query_dict(sql, values)
    mails = [OutboxMail._init_from_db(**row) for row in rows]
    # RETURNING keeps no order: back to the order they were picked in.
    return sorted(mails, key=lambda mail: (mail.priority, mail.id))


async def claim(settings: Settings, mail_id: int | None = None) -> OutboxMail | None:
    """Take the first due mail (or mail `mail_id`, if due) for this worker, or None."""
    mails = await claim_due(settings, 1, mail_id=mail_id)
    return mails[0] if mails else None


async def release(mail: OutboxMail) -> None:
    """Give back a claimed mail that was not tried: due again now, the attempt not counted."""
    await OutboxMail.filter(id=mail.id, status=MailStatus.QUEUED, attempts=mail.attempts).update(
        next_attempt_at=clock.now(), attempts=F("attempts") - 1
    )


async def _record(mail: OutboxMail, **outcome: object) -> None:
    owned = await OutboxMail.filter(
        id=mail.id, status=MailStatus.QUEUED, attempts=mail.attempts
    ).update(**outcome)
    if not owned:
        log.warning("mail %s: lease ran out before its outcome was recorded", mail.id)


_SENT_SQL = (
    'UPDATE "outbox_mail" SET "status" = \'sent\', "sent_at" = $1, "last_error" = \'\''
    ' WHERE "id" = $2 AND "status" = \'queued\' AND "attempts" = $3'
)


async def _record_sent(mail: OutboxMail) -> None:
    """`_record` of the outcome nearly every mail has, as a statement built once: at the
    peak it runs once per reading, and building it through the ORM cost as much as
    running it."""
    connection = OutboxMail._meta.db
    postgres = connection.capabilities.dialect == "postgres"
    sql = _SENT_SQL if postgres else _SENT_SQL.replace("$", "?")
    owned, _ = await connection.execute_query(sql, [clock.now(), mail.id, mail.attempts])
    if not owned:
        log.warning("mail %s: lease ran out before its outcome was recorded", mail.id)


async def deliver_claimed(
    mail: OutboxMail, settings: Settings, session: SmtpSession | None = None
) -> Exception | None:
    """Deliver a claimed mail and record the outcome; returns the failure, if any.

    Temporary failures are retried after `backoff()` until `MAIL_MAX_ATTEMPTS`,
    then failed; permanent ones fail at once. The server's answer is kept in
    `last_error`. An unexpected error counts as temporary, so a mail that
    cannot be built still ends as failed instead of being claimed forever.
    """
    failure: Exception
    try:
        async with asyncio.timeout(settings.mail_lease_seconds / 2):
            await deliver(mail, settings, session)
    except (TemporaryFailure, PermanentFailure) as error:
        failure = error
    except TimeoutError:
        failure = TemporaryFailure(
            f"delivery took longer than {settings.mail_lease_seconds / 2:g} s", server_down=True
        )
    except Exception as error:
        log.exception("mail %s could not be delivered", mail.id)
        failure = TemporaryFailure(f"{type(error).__name__}: {error}")
    else:
        await _record_sent(mail)
        log.info("mail %s (%s) sent on attempt %s", mail.id, mail.kind, mail.attempts)
        return None

    reason = str(failure)[:1000]
    if isinstance(failure, PermanentFailure) or mail.attempts >= settings.mail_max_attempts:
        await _record(
            mail, status=MailStatus.FAILED, next_attempt_at=clock.now(), last_error=reason
        )
        log.error("mail %s failed after %s attempt(s): %s", mail.id, mail.attempts, reason)
    else:
        await _record(
            mail, next_attempt_at=clock.now() + backoff(mail.attempts, settings), last_error=reason
        )
        log.warning("mail %s not delivered (attempt %s): %s", mail.id, mail.attempts, reason)
    return failure


async def deliver_due(
    settings: Settings,
    batch: int = BATCH,
    *,
    may_start: Callable[[], bool] = lambda: True,
    session: SmtpSession | None = None,
    shards: Sequence[int] | None = None,
) -> int:
    """Deliver up to `batch` due mails; returns how many were tried.

    Fewer than `batch` means nothing more is due now, the server is down (the
    round ends at the first server-level failure instead of knocking once
    per mail), or `may_start()` said stop. Mails are claimed `CLAIM_AT_ONCE` at a
    time and tried one after another; one is started only while at least half its
    lease is left (so its delivery, cut off at half the lease, ends inside it).
    What a round does not try is released at once, its attempt not counted.
    """
    tried = 0
    while tried < batch and may_start():
        wanted = min(CLAIM_AT_ONCE, batch - tried)
        latest_start = asyncio.get_running_loop().time() + settings.mail_lease_seconds / 2
        mails = await claim_due(settings, wanted, shards=shards)
        server_down = False
        for index, mail in enumerate(mails):
            if server_down or not may_start() or asyncio.get_running_loop().time() > latest_start:
                for untried in mails[index:]:
                    await release(untried)
                return tried
            tried += 1
            failure = await deliver_claimed(mail, settings, session)
            server_down = isinstance(failure, TemporaryFailure) and failure.server_down
        if server_down or len(mails) < wanted:
            break
    return tried


class MailWorker:
    """Delivery in rounds: `MAIL_CONCURRENCY` lanes at once, a pause when idle, a bounded drain.

    Each lane claims and delivers mails one after another over its own SMTP
    session, so a slow server answer holds up one lane, not the queue. Mails are
    sharded by recipient (`mailers.outbox.shard_of`) and each lane takes its share
    of the shards, so one address's mails go out in the order they were queued
    (within one worker process; mail clients sort by the Date header anyway). The
    sessions stay open across short pauses and are closed after
    `KEEP_OPEN_SECONDS` without a mail, before a server would drop them. A pause
    lasts `MAIL_POLL_SECONDS`, or until a mail a person waits for is queued
    (`_listen`).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.idle = asyncio.Event()  # set while waiting for work (tests wait on it)
        self.listening = asyncio.Event()  # set while wake-ups can be heard (tests wait on it)
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._deadline: float | None = None
        self.sessions = [SmtpSession(settings) for _ in range(settings.mail_concurrency)]

    def stop(self) -> None:
        """Finish: deliver what is due for at most `MAIL_DRAIN_SECONDS`, then end."""
        if self._deadline is None:
            loop = asyncio.get_running_loop()
            self._deadline = loop.time() + self.settings.mail_drain_seconds
        self._stopping.set()

    def _may_start(self) -> bool:
        return self._deadline is None or asyncio.get_running_loop().time() < self._deadline

    async def _lane(self, lane: int, session: SmtpSession) -> int:
        lanes = len(self.sessions)
        shards = [shard for shard in range(SHARDS) if shard % lanes == lane]
        try:
            return await deliver_due(
                self.settings, may_start=self._may_start, session=session, shards=shards
            )
        except Exception as error:
            if is_outage(error):  # the mails wait in the database; nothing to see but the outage
                log.warning("mail worker paused: database unavailable (%s)", type(error).__name__)
            else:
                log.exception("mail worker round failed")
            return 0

    async def _round(self) -> bool:
        """One round on every lane; whether every lane had a full batch (more may be due)."""
        tried = await asyncio.gather(
            *(self._lane(lane, session) for lane, session in enumerate(self.sessions))
        )
        return max(tried) == BATCH

    async def _close_sessions(self, idle_for: float = 0.0) -> None:
        await asyncio.gather(
            *(session.close() for session in self.sessions if session.idle_for() >= idle_for)
        )

    async def _pause(self) -> None:
        """Idle until the next poll, a stop, or a wake-up (a mail a person waits for)."""
        waits = [
            asyncio.ensure_future(self._stopping.wait()),
            asyncio.ensure_future(self._wake.wait()),
        ]
        try:
            await asyncio.wait(
                waits, timeout=self.settings.mail_poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for wait in waits:
                wait.cancel()

    def _woken(self, *_notification: object) -> None:
        self._wake.set()

    async def _listen(self) -> None:
        """Hear of a mail a person waits for, so that a PIN goes out when it is queued
        rather than at the next poll: on PostgreSQL `WAKE_CHANNEL` on a connection of its
        own, on SQLite `queue_mail` in this event loop. Polling goes on beside it: a lost
        connection only delays such mails to the next poll until it is back."""
        while True:
            try:
                connection = await dedicated_connection(LISTENER_NAME)
            except Exception as error:
                log.warning(
                    "mail worker: no wake-up connection (%s); polling", type(error).__name__
                )
            else:
                if connection is None:  # SQLite: `queue_mail` in this loop wakes the worker
                    await self._hear_in_process()
                    return
                try:
                    await self._hear(connection)
                    log.warning("mail worker: wake-up connection lost; polling until it is back")
                except Exception as error:
                    log.warning(
                        "mail worker: wake-up connection failed (%s); polling", type(error).__name__
                    )
                finally:
                    self.listening.clear()
                    connection.terminate()
            await asyncio.sleep(LISTEN_RETRY_SECONDS)

    async def _hear_in_process(self) -> None:
        with woken_in_process(self._wake):
            self.listening.set()
            try:
                await asyncio.Event().wait()  # until the worker stops and cancels this
            finally:
                self.listening.clear()

    async def _hear(self, connection: asyncpg.Connection) -> None:
        """Listen on `connection` until it is lost, checking now and then that it answers."""
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        await connection.add_listener(WAKE_CHANNEL, self._woken)
        self.listening.set()
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), LISTEN_CHECK_SECONDS)
            if not lost.is_set():
                await connection.fetchval("SELECT 1", timeout=LISTEN_RETRY_SECONDS)

    async def run(self) -> None:
        listener = asyncio.create_task(self._listen(), name="mail-worker-listen")
        try:
            while not self._stopping.is_set():
                self._wake.clear()  # a wake-up during the round starts the next one at once
                if not await self._round():
                    await self._close_sessions(idle_for=KEEP_OPEN_SECONDS)
                    self.idle.set()
                    await self._pause()
                    self.idle.clear()
            # Drain: what became due meanwhile goes out before the process ends.
            while self._may_start() and await self._round():
                pass
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await self._close_sessions()


@contextlib.asynccontextmanager
async def run_worker(settings: Settings) -> AsyncIterator[MailWorker]:
    """The worker as a task for the app's lifespan; on exit it drains, bounded in time.

    A delivery already under way when the drain time is up may finish (it
    is cut off at half the lease); only if it does not is the task
    cancelled, and its mail is retried after its lease by the next worker.
    """
    worker = MailWorker(settings)
    task = asyncio.create_task(worker.run(), name="mail-worker")
    try:
        yield worker
    finally:
        worker.stop()
        limit = settings.mail_drain_seconds + settings.mail_lease_seconds / 2 + 1
        try:
            await asyncio.wait_for(task, timeout=limit)
        except TimeoutError:
            log.error("mail worker did not stop within %s s", limit)


RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Pauses before a child worker that died is started again; back to the first after a
child has run for `STEADY_SECONDS`."""
STEADY_SECONDS = 60.0


def child_command(parent_pid: int) -> list[str]:
    """How the app starts its worker: the `worker` command of this installation, told
    whose child it is (it ends when that process is gone) and to read its settings from
    standard input (a pipe: no secret in its environment or command line)."""
    return [
        sys.executable,
        "-m",
        "cli",
        "worker",
        "--parent",
        str(parent_pid),
        "--settings-from-stdin",
    ]


class WorkerProcess:
    """The app's mail worker as a child process: started with the app, drained and
    stopped with it, started again should it die.

    In the app's event loop the lanes share one core with the requests, and at a
    saturated peak the requests win (the outbox grows); as a process of its own the
    worker gets its share of the cores from the operating system, as a
    `kundenportal worker` beside the app does. It gets the app's settings exactly
    (also those a test or an embedding set in code, not in the environment).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self._supervisor: asyncio.Task[None] | None = None

    async def _run_child(self) -> int:
        """Start a child, hand it the settings, and wait for it to end; its exit code."""
        self.process = process = await asyncio.create_subprocess_exec(
            *child_command(os.getpid()), stdin=asyncio.subprocess.PIPE
        )
        self.starts += 1
        assert process.stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # it died at once
            process.stdin.write(self.settings.model_dump_json().encode())
            await process.stdin.drain()
        process.stdin.close()
        return await process.wait()

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        while True:
            started = loop.time()
            code: int | None = None
            try:
                code = await self._run_child()
                ended = f"exit code {code}"
            except OSError as error:  # no process could be started (fork, limits)
                ended = f"not started: {type(error).__name__}: {error}"
            failures = 0 if loop.time() - started >= STEADY_SECONDS else failures + 1
            delay = RESTART_DELAYS[min(failures, len(RESTART_DELAYS) - 1)]
            if code == 0:
                # It drained and ended on a SIGTERM the app did not send: one sent to the
                # whole group, as a service manager stopping the app sends it to the app
                # as well (whose shutdown then stops the next child), or to the child alone.
                log.warning(
                    "mail worker process stopped on a signal not sent by the app; "
                    "starting it in %g s",
                    delay,
                )
            else:
                log.error("mail worker process ended (%s); starting it in %g s", ended, delay)
            await asyncio.sleep(delay)

    def start(self) -> None:
        self._supervisor = asyncio.create_task(self._supervise(), name="mail-worker-process")

    async def stop(self) -> None:
        """Ask the child to drain and end (SIGTERM), as the in-loop worker would; kill it
        only if it has not ended by then."""
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        limit = self.settings.mail_drain_seconds + self.settings.mail_lease_seconds / 2 + 5
        try:
            await asyncio.wait_for(process.wait(), timeout=limit)
        except TimeoutError:
            log.error("mail worker process did not stop within %s s; killed", limit)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


def runs_as_process(settings: Settings) -> bool:
    """Whether the app's worker runs as a child process: asked for, and on PostgreSQL."""
    return settings.mail_worker_subprocess and not settings.database_url.startswith("sqlite")


@contextlib.asynccontextmanager
async def run_worker_process(settings: Settings) -> AsyncIterator[WorkerProcess]:
    """`WorkerProcess` for the app's lifespan."""
    worker = WorkerProcess(settings)
    worker.start()
    try:
        yield worker
    finally:
        await worker.stop()
