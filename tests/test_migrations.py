"""Migrations build the whole schema from empty, and running them again changes nothing."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from tortoise.connection import connections

import db
from tests.conftest import _postgres, is_postgres


@pytest.fixture
def empty_database(database_url, tmp_path):
    if not is_postgres(database_url):
        yield f"sqlite://{tmp_path / 'empty.sqlite3'}"
        return
    name = f"kp_empty_{uuid.uuid4().hex[:10]}"
    parts = urlsplit(database_url)
    url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    asyncio.run(_postgres(url, f'CREATE DATABASE "{name}"'))
    yield url
    asyncio.run(_postgres(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _tables(url: str) -> set[str]:
    async with db.database(url):
        conn = connections.get("default")
        if is_postgres(url):
            _, rows = await conn.execute_query(
                "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
            )
        else:
            _, rows = await conn.execute_query(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        return {row["name"] for row in rows}


def test_migrations_create_every_table_from_empty_and_are_idempotent(empty_database):
    asyncio.run(db.migrate(empty_database))
    tables = asyncio.run(_tables(empty_database))
    for table in (
        "customer",
        "invoice",
        "meter",
        "reading_period",
        "meter_reading",
        "login",
        "login_customer",
        "session",
        "one_time_secret",
        "outbox_mail",
        "contact_message",
        "audit_event",
        "base_data_change",
        "partner",
        "partner_operation",
        "passkey",
        "authenticator_app",
        "recovery_code",
        "auth_challenge",
        "remembered_device",
    ):
        assert table in tables
    asyncio.run(db.migrate(empty_database))  # again: nothing to do, no error
    assert asyncio.run(_tables(empty_database)) == tables
