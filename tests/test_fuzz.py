"""End-to-end fuzz run: thousands of generated operations against the real server.

Documents are generated from the schema (hypothesis-graphql, what schemathesis uses
for GraphQL): valid ones with random arguments, and invalid ones. Whatever comes,
the server answers without a 5xx and without an unmasked or internal error.
FUZZ_EXAMPLES sets how many of each kind (default 1500 valid, 500 invalid).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import bcrypt
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import strategies as gql_st

import db
from models import Customer, Login, LoginCustomer, Meter
from security.sessions import start_session
from settings import Settings
from tests.conftest import free_port

SDL = (Path(__file__).resolve().parent.parent / "schema.graphql").read_text()
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1500"))


def _scalars() -> dict:
    from hypothesis_graphql import nodes

    return {
        "Date": st.dates(dt.date(2000, 1, 1), dt.date(2040, 1, 1)).map(
            lambda d: nodes.String(d.isoformat())
        ),
        "DateTime": st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2040, 1, 1)).map(
            lambda d: nodes.String(d.replace(tzinfo=dt.UTC).isoformat())
        ),
        "Decimal": st.decimals(-10, 100000, places=3, allow_nan=False).map(
            lambda d: nodes.String(str(d))
        ),
        "JSON": st.just(nodes.String("{}")),
    }


async def _logged_in_user(database_url: str) -> str:
    async with db.database(database_url):
        customer = await Customer.create(number="900001", name="Fuzz Kunde")
        await Meter.create(
            customer=customer,
            number="Z-900001",
            is_main=True,
            kind="manual",
            installed_on=dt.date(2020, 1, 1),
        )
        login = await Login.create(
            email="fuzz@example.org",
            email_key="fuzz@example.org",
            state="active",
            confirmed_at=dt.datetime.now(dt.UTC),
            password_hash=bcrypt.hashpw(b"Fuzz#Passwort1", bcrypt.gensalt(4)).decode(),
        )
        await LoginCustomer.create(login=login, customer=customer)
        _, token = await start_session(login, Settings(), client="fuzz", address="127.0.0.1")
        return token


async def _clean(database_url: str) -> None:
    from tests.conftest import empty_all_tables

    async with db.database(database_url):
        await empty_all_tables(database_url)


@pytest.fixture(scope="module")
def server(database_url, tmp_path_factory):
    token = asyncio.run(_logged_in_user(database_url))
    port = free_port()
    env = {
        **os.environ,
        "ENV": "test",
        "DATABASE_URL": database_url,
        "MAIL_DIR": str(tmp_path_factory.mktemp("fuzzmail")),
        "BCRYPT_ROUNDS": "4",
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--no-migrate", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base + "/readyz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None, "server exited"
        assert time.monotonic() < deadline, "server did not start in time"
        time.sleep(0.1)
    with httpx.Client(base_url=base, timeout=30) as client:
        yield client, token
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    asyncio.run(_clean(database_url))
    # Unexpected errors are logged with their id; a fuzz run must have caused none.
    assert "unexpected error" not in stderr, stderr[-3000:]


def _check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:2000]
    body = response.json()
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code != "INTERNAL_SERVER_ERROR", (error, response.request.content[:2000])
        assert "Traceback" not in error.get("message", "")


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


@FUZZ
@given(document=gql_st.from_schema(SDL, custom_scalars=_scalars()), logged_in=st.booleans())
def test_generated_operations_never_cause_a_server_error(server, document, logged_in):
    client, token = server
    headers = {"Authorization": f"Bearer {token}"} if logged_in else {}
    _check(client.post("/graphql", json={"query": document}, headers=headers))


@settings(FUZZ, max_examples=max(EXAMPLES // 3, 10))
@given(
    document=gql_st.from_schema(SDL, custom_scalars=_scalars(), mode=gql_st.Mode.NEGATIVE),
)
def test_invalid_operations_get_readable_errors(server, document):
    client, _ = server
    _check(client.post("/graphql", json={"query": document}))
