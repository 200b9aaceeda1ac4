"""Fixtures: a migrated database (SQLite, or PostgreSQL from TEST_DATABASE_URL),
the app with its real lifespan, an HTTP client, and a real SMTP server on loopback.

The database is created and migrated once per run and emptied after each test;
on PostgreSQL it is a database of its own, created and dropped by the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import os
import re
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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
from tests.customer_builders import NOW

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


async def empty_all_tables(url: str) -> None:
    conn = connections.get("default")
    tables = [m._meta.db_table for m in Tortoise.apps["models"].values()]
    if is_postgres(url):
        quoted = ", ".join(f'"{t}"' for t in tables)
        await conn.execute_script(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
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
    reply: str | None = None  # e.g. "451 try later": the server answers every DATA so

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply:
            return self.reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        self.envelopes.append(envelope)
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
        storage_dir=tmp_path / "storage",
        bcrypt_rounds=4,
        portal_url="https://portal.wasser.example",
        cookie_secure=True,
        purge_interval_seconds=0,  # tests run purges themselves; no scheduled race
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
    return Result(body.get("data"), body.get("errors"), response)


@pytest.fixture
def clock() -> Iterator[Any]:
    """Time starts at `tests.customer_builders.NOW` and runs on; move it with `clock.shift`."""
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
