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
    with (
        server_process(database_url, tmp_path_factory.mktemp("fuzz") / "mail") as running,
        httpx.Client(base_url=running.url, timeout=30) as client,
    ):
        yield client, token
    asyncio.run(_clean(database_url))
    # Unexpected errors are logged with their id; a fuzz run must have caused none.
    output = running.stop()[1]
    assert "unexpected error" not in output, output[-3000:]


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


# ------------------------------------------------------------ malformed shapes

_DOCUMENT = "query Page($n: Int!) { customer { invoices(first: $n) { totalCount } } }"


def _nested(depth: int, kind: str) -> str:
    return ("[" * depth + "]" * depth) if kind == "list" else ('{"a":' * depth + "1" + "}" * depth)


_bodies = st.one_of(
    # JSON nested deeply, as the body, in variables, in extensions
    st.builds(
        lambda depth, kind, where: {
            "body": _nested(depth, kind),
            "variables": '{"query": "{ apiVersion }", "variables": {"x": '
            + _nested(depth, kind)
            + "}}",
            "extensions": '{"query": "{ apiVersion }", "extensions": '
            + _nested(depth, "object")
            + "}",
        }[where].encode(),
        st.integers(20, 3000),
        st.sampled_from(["list", "object"]),
        st.sampled_from(["body", "variables", "extensions"]),
    ),
    # a byte that is not UTF-8, anywhere in a valid body
    st.builds(
        lambda at, byte: (
            lambda body: body[: at % len(body)] + bytes([byte]) + body[at % len(body) :]
        )(b'{"query": "{ apiVersion }", "operationName": "A", "variables": {}}'),
        st.integers(0, 200),
        st.integers(0x80, 0xFF),
    ),
    # lone surrogate escapes in any string
    st.builds(
        lambda code, field: (
            '{"query": "{ apiVersion }", "' + field + '": "\\u' + f"{code:04x}" + '"}'
        ).encode(),
        st.integers(0xD800, 0xDFFF),
        st.sampled_from(["operationName", "query", "documentId"]),
    ),
    # numbers too large, too long or of the wrong type as variables
    st.builds(
        lambda value: (
            '{"query": "' + _DOCUMENT + '", "variables": {"n": ' + value + "}}"
        ).encode(),
        st.one_of(
            st.integers(5000, 20000).map(lambda n: "9" * n),
            st.sampled_from(["1e999", "-1e999", "1e-999", "2147483648", '"12"', "true", "null"]),
            st.floats(allow_nan=False, allow_infinity=False).map(repr),
        ),
    ),
    # documents whose validation would explode: fragment fan-out and repetition
    st.builds(
        lambda levels, field: (
            '{"query": "query { ...F0 } '
            + "".join(
                f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }} " for i in range(levels)
            )
            + f'fragment F{levels} on Query {{ {field} }}"}}'
        ).encode(),
        st.integers(1, 60),
        st.sampled_from(["apiVersion", "me { email }", "__typename"]),
    ),
    st.builds(
        lambda count, field: ('{"query": "{ ' + " ".join([field] * count) + ' }"}').encode(),
        st.integers(1, 1900),
        st.sampled_from(["apiVersion", "me { email }", "... on Query { apiVersion }"]),
    ),
)


@settings(FUZZ, max_examples=max(EXAMPLES // 3, 10))
@given(body=_bodies, spec=st.booleans())
def test_malformed_bodies_get_4xx_or_data_never_a_server_error(server, body, spec):
    client, _ = server
    accept = "application/graphql-response+json" if spec else "application/json"
    response = client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json", "Accept": accept}
    )
    _check(response)
    payload = response.json()
    assert "data" in payload or payload["errors"][0]["extensions"]["code"]
