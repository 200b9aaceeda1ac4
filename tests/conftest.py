"""Fixtures: a migrated database (SQLite, or PostgreSQL from TEST_DATABASE_URL),
the app with its real lifespan, a real SMTP server on loopback, the real server process,
and one fixture per role: `client` (anonymous), `customer` (a logged-in customer),
`staff` (the command line). Test data comes from `tests.factories`.

The database is created and migrated once per run and emptied after each test;
on PostgreSQL it is a database of its own, created and dropped by the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import functools
import logging
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import pytest_asyncio
import time_machine
from aiosmtpd.controller import Controller
from tortoise import Tortoise
from tortoise.connection import connections

import db
from app import create_app
from settings import Settings
from tests.error_paths import answered_path_problems

ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------- database


def _postgres_admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))


async def _postgres(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_postgres_admin_url(url).replace("postgres://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, migrated database for this run; never an existing one."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    if base.startswith(("postgres://", "psycopg://")):
        name = f"kp_test_{uuid.uuid4().hex[:12]}"
        parts = urlsplit(base)
        url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
        asyncio.run(_postgres(url, f'CREATE DATABASE "{name}"'))
        try:
            asyncio.run(db.migrate(url))
            yield url
        finally:
            asyncio.run(_postgres(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        url = f"sqlite://{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        asyncio.run(db.migrate(url))
        yield url


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "psycopg://"))


_RESTART_SEQUENCES = """
SELECT setval(seq.oid, 1, false)
  FROM pg_class seq
  JOIN pg_depend dep ON dep.objid = seq.oid AND dep.deptype IN ('a', 'i')
  JOIN pg_class tab ON tab.oid = dep.refobjid
 WHERE seq.relkind = 'S' AND tab.relname = ANY($1::text[])
"""


async def empty_all_tables(url: str) -> None:
    """Every table empty and every ID counting from 1 again, as after `TRUNCATE … RESTART
    IDENTITY`. On PostgreSQL by DELETE with the foreign keys' triggers off for the one
    transaction: a millisecond, where TRUNCATE (new files for each of the tables) took
    a quarter of a second after every test. The app's mail worker may still be writing
    a row; should PostgreSQL end this transaction to break a deadlock with it, the
    emptying is done again."""
    conn = connections.get("default")
    tables = [m._meta.db_table for m in Tortoise.apps["models"].values()]
    if is_postgres(url):
        deletes = "".join(f'DELETE FROM "{t}";' for t in tables)
        for attempt in range(5):
            try:
                await conn.execute_script(
                    f"BEGIN; SET LOCAL session_replication_role = replica; {deletes} COMMIT;"
                )
                break
            except asyncpg.exceptions.DeadlockDetectedError:  # SQLSTATE 40P01
                if attempt == 4:
                    raise
                await asyncio.sleep(0.1)
        await conn.execute_query(_RESTART_SEQUENCES, [tables])
    else:
        await conn.execute_script(
            "PRAGMA foreign_keys = OFF;"
            + "".join(f'DELETE FROM "{t}";' for t in tables)
            + "PRAGMA foreign_keys = ON;"
        )


# ------------------------------------------------------------------------- mail


@dataclass
class Mailbox:
    """Mails a real SMTP server on loopback received, parsed as a mail client would."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)
    peers: list[Any] = field(default_factory=list)  # the client end of each mail's connection
    reply: str | None = None  # e.g. "451 try later": the server answers every DATA so

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply:
            return self.reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        self.envelopes.append(envelope)
        self.peers.append(session.peer)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    async def wait_for(
        self, address: str, count: int = 1, timeout: float = 15.0
    ) -> list[EmailMessage]:
        """Wait until `count` mails to `address` arrived; the outbox worker sends them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"expected {count} mail(s) to {address}, got {len(self.to(address))}")

    async def last_text(self, address: str, count: int = 1) -> str:
        message = (await self.wait_for(address, count))[-1]
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return part.get_content()  # type: ignore[attr-defined]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    box.controller = controller  # type: ignore[attr-defined]
    yield box
    with contextlib.suppress(Exception):
        controller.stop()


def pin_from(text: str) -> str:
    match = re.search(r"\b(\d{6})\b", text)
    assert match, text
    return match.group(1)


def link_from(text: str) -> str:
    match = re.search(r"https?://\S+", text)
    assert match, text
    return match.group(0)


# -------------------------------------------------------------------------- app


@pytest.fixture
def settings(database_url: str, mailbox: Mailbox, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        redis_url=None,
        mail_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_timeout_seconds=5,
        mail_poll_seconds=0.05,
        mail_backoff_base_seconds=0.2,
        mail_dir=tmp_path / "mail",
        document_dir=tmp_path / "documents",
        bcrypt_rounds=4,
        portal_url="https://portal.wasser.example",
        cookie_secure=True,
        purge_interval_seconds=0,  # tests run purges themselves; no scheduled race
        gc_freeze_after_start=False,  # a full collection per app start; tested on its own
        mail_worker_subprocess=False,  # a process per app start; tested on its own
    )


@pytest_asyncio.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        try:
            yield application
        finally:
            await empty_all_tables(settings.database_url)


@pytest_asyncio.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
        yield c


@dataclass
class Result:
    data: Any
    errors: list[dict[str, Any]] | None
    response: httpx.Response


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> Result:
    """Post one operation the way a front end does and return data and errors."""
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
    )
    body = response.json()
    wrong_paths = answered_path_problems(query, body.get("data"))
    assert not wrong_paths, f"errors whose field names no input of the mutation: {wrong_paths}"
    return Result(body.get("data"), body.get("errors"), response)


class _Undeclared(logging.Handler):
    """Collects the warnings `schema.errors.payload` logs for an error a mutation answers
    but does not declare."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("undeclared error answered"):
            self.found.append(record.getMessage())


@pytest.fixture(autouse=True)
def undeclared_errors() -> Iterator[list[str]]:
    """Every error a mutation answers during a test must be one it declares
    (`schema.errors.declare_errors`), so the descriptions stay complete as the code changes.
    A test that provokes one on purpose empties the list it gets from this fixture."""
    handler = _Undeclared()
    logger = logging.getLogger("kundenportal.schema")
    logger.addHandler(handler)
    try:
        yield handler.found
    finally:
        logger.removeHandler(handler)
    assert not handler.found, f"errors answered but not declared: {sorted(set(handler.found))}"


@pytest.fixture
def clock() -> Iterator[Any]:
    """Time starts at `tests.factories.NOW` and runs on; move it with `clock.shift`."""
    from tests.factories import NOW  # factories build on this module

    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest_asyncio.fixture
async def outbox(settings: Settings) -> AsyncIterator[Settings]:
    """The database without the app (no mail worker of its own); emptied afterwards."""
    async with db.database(settings.database_url):
        try:
            yield settings
        finally:
            await empty_all_tables(settings.database_url)


# ------------------------------------------------------------------------ roles


@dataclass
class LoggedInCustomer:
    """A login holding one household (`tests.factories.make_household`), with a session."""

    client: httpx.AsyncClient
    login: Any
    token: str
    household: Any

    async def gql(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Result:
        """Post one operation with this customer's session."""
        return await gql(self.client, query, variables, token=self.token, **kw)


@pytest_asyncio.fixture
async def customer(client: httpx.AsyncClient, settings: Settings, clock: Any) -> LoggedInCustomer:
    """Customer 100001 (erika@example.org) with a household as of `TODAY`, logged in."""
    from tests.factories import TODAY, logged_in, make_household

    household = await make_household(TODAY, "100001")
    login, token = await logged_in(settings, household.customer, email="erika@example.org")
    return LoggedInCustomer(client, login, token, household)


@dataclass
class Run:
    """What a command printed and how it ended."""

    code: int
    stdout: str
    stderr: str


def command_environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment an operator's shell would have for the deployment under test."""
    return {
        **os.environ,
        "ENV": "test",
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": settings.smtp_host,
        "SMTP_PORT": str(settings.smtp_port),
        "SMTP_TIMEOUT_SECONDS": "5",
        "MAIL_FROM": settings.mail_from,
        "MAIL_DIR": str(settings.mail_dir),
        "BCRYPT_ROUNDS": str(settings.bcrypt_rounds),
        **extra,
    }


@pytest.fixture
def staff(settings: Settings) -> Callable[..., Awaitable[Run]]:
    """The `kundenportal` command line as staff run it, in its own process, on the test
    database: `run = await staff("contact", "list")`."""

    async def run(*args: str, **env: str) -> Run:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cli",
            *args,
            cwd=ROOT,
            env=command_environment(settings, **env),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode is not None
        return Run(process.returncode, stdout.decode(), stderr.decode())

    return run


# ----------------------------------------------------------- the server process


@dataclass
class Server:
    """A real `kundenportal serve` (uvicorn) process, ready; its stderr goes to `log`."""

    process: subprocess.Popen[str]
    url: str
    log: Path
    ended: tuple[int, str] | None = None

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def output(self) -> str:
        """What the server has written to stderr so far."""
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> tuple[int, str]:
        """Signal the process and wait for it to end (once); its exit code and stderr."""
        if self.ended is None:
            if self.process.poll() is None:
                self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.ended = (self.process.returncode, self.output())
        return self.ended


@contextlib.contextmanager
def server_process(
    database_url: str,
    mail_dir: Path,
    *args: str,
    migrate: bool = False,
    verify: ssl.SSLContext | None = None,
    **env: str,
) -> Iterator[Server]:
    """Start `kundenportal serve [args]` on a free port and wait until /readyz answers
    (over HTTPS, checked with `verify`, when `--certfile` is among the args); stop it
    (SIGINT) afterwards unless the test did. In-process ASGI tests miss start-up and
    context bugs that only the real server shows; so do the event loop, the headers and
    the timeouts, which live in the server process."""
    port = free_port()
    mail_dir.mkdir(parents=True, exist_ok=True)
    log = mail_dir.parent / f"server-{port}.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--port", str(port), *args]
            + ([] if migrate else ["--no-migrate"]),
            cwd=ROOT,
            env={
                **os.environ,
                "ENV": "test",
                "DATABASE_URL": database_url,
                "MAIL_DIR": str(mail_dir),
                "BCRYPT_ROUNDS": "4",
                "LOG_LEVEL": "WARNING",
                "MAIL_WORKER_SUBPROCESS": "false",  # tested on its own
                **env,
            },
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )
    scheme = "https" if "--certfile" in args else "http"
    server = Server(process, f"{scheme}://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                ready = httpx.get(server.url + "/readyz", verify=verify or True, timeout=5)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, f"the server exited: {server.stop()[1][-3000:]}"
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.1)
        yield server
    finally:
        server.stop()


@pytest.fixture
def real_server(
    database_url: str, tmp_path: Path
) -> Callable[..., contextlib.AbstractContextManager[Server]]:
    """`with real_server(BCRYPT_ROUNDS="14") as server:` the real server process on the
    test database, configured by environment variables as in production."""
    return functools.partial(server_process, database_url, tmp_path / "mail")
