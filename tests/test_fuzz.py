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
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import strategies as gql_st

import db
from models import Customer, Meter
from settings import Settings
from tests.conftest import server_process
from tests.factories import make_login, session_token

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
        login = await make_login(customer, email="fuzz@example.org")
        return await session_token(login, Settings())


async def _clean(database_url: str) -> None:
    from tests.conftest import empty_all_tables

    async with db.database(database_url):
        await empty_all_tables(database_url)


@pytest.fixture(scope="module")
def server(database_url, tmp_path_factory):
    token = asyncio.run(_logged_in_user(database_url))
    with server_process(database_url, tmp_path_factory.mktemp("fuzzmail")) as running:
        with httpx.Client(base_url=running.url, timeout=30) as client:
            yield client, token
        _, stderr = running.stop()
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
