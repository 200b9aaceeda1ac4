"""Automatic persisted queries in Apollo's protocol, spoken by a real client library (gql).

gql has no persisted-query link of its own; `ApolloPersistedQueries` below is
Apollo Client's link (createPersistedQueryLink) as a gql transport: send the
hash alone, and the document only when the server answers
PersistedQueryNotFound. Hash-only requests may go by GET, the registration
always goes by POST, as Apollo's `useGETForHashedQueries` does.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import httpx
import pytest
import pytest_asyncio
from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport
from graphql import ExecutionResult
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.routing import Route

from api.http import GraphQLView
from settings import Settings

REDIS_TEST_URL = "redis://127.0.0.1:6379/15"

ABOUT = "query About { apiVersion }"
PING = "mutation Ping { ping }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def hashed(document: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(document)}}


@dataclass
class Sent:
    method: str
    with_document: bool
    status: int


class ApolloPersistedQueries(HTTPXAsyncTransport):
    """gql transport speaking Apollo's automatic persisted queries."""

    def __init__(self, *args: Any, get_for_hashed: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.get_for_hashed = get_for_hashed
        self.sent: list[Sent] = []

    async def execute(self, request: GraphQLRequest, **kwargs: Any) -> ExecutionResult:  # type: ignore[override]
        assert self.client is not None
        payload = request.payload
        document = payload.pop("query")
        payload["extensions"] = {**payload.get("extensions", {}), **hashed(document)}
        if self.get_for_hashed and not document.lstrip().startswith("mutation"):
            params = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in payload.items()}
            response = await self.client.get(self.url, params=params)
            self.sent.append(Sent("GET", False, response.status_code))
        else:
            response = await self.client.post(self.url, json=payload)
            self.sent.append(Sent("POST", False, response.status_code))
        result = self._prepare_result(response)
        if any(
            (e.get("extensions") or {}).get("code") == "PERSISTED_QUERY_NOT_FOUND"
            or e.get("message") == "PersistedQueryNotFound"
            for e in result.errors or ()
        ):
            response = await self.client.post(self.url, json={**payload, "query": document})
            self.sent.append(Sent("POST", True, response.status_code))
            result = self._prepare_result(response)
        return result


@dataclass
class ApiServer:
    """One app process: the real view on the test database, with its own settings."""

    settings: Settings
    hasher: Any
    views: list[GraphQLView] = field(default_factory=list)
    apps: list[Starlette] = field(default_factory=list)

    def transport(self, **overrides: Any) -> httpx.ASGITransport:
        settings = self.settings.model_copy(update=overrides)
        view = GraphQLView(settings)
        self.views.append(view)
        server = Starlette(routes=[Route("/graphql", view)])
        server.state.hasher = self.hasher
        self.apps.append(server)
        return httpx.ASGITransport(app=server, client=("203.0.113.7", 50000))

    async def close(self) -> None:
        for view in self.views:
            await view.close()
        for server in self.apps:  # the rate limiter each made on first use
            limiter = getattr(server.state, "rate_limiter", None)
            if limiter is not None:
                await limiter.aclose()

    def gql_client(self, *, get_for_hashed: bool = False, **overrides: Any) -> Client:
        transport = ApolloPersistedQueries(
            url="https://testserver/graphql",
            transport=self.transport(**overrides),
            get_for_hashed=get_for_hashed,
        )
        return Client(transport=transport)


@pytest_asyncio.fixture
async def servers(app) -> AsyncIterator[ApiServer]:
    server = ApiServer(app.state.settings, app.state.hasher)
    yield server
    await server.close()


@pytest_asyncio.fixture
async def redis_prefix() -> AsyncIterator[str]:
    prefix = f"kp-test-{uuid.uuid4().hex}:"
    yield prefix
    redis = Redis.from_url(REDIS_TEST_URL)
    keys = [key async for key in redis.scan_iter(match=prefix + "*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


async def run(client: Client, document: str, **variables: Any) -> Any:
    async with client as session:
        return await session.execute(GraphQLRequest(document, variable_values=variables or None))


def transport_of(client: Client) -> ApolloPersistedQueries:
    assert isinstance(client.transport, ApolloPersistedQueries)
    return client.transport


# ------------------------------------------------------------------ round trips


async def test_apq_round_trip_by_post(servers):
    client = servers.gql_client()

    first = await run(client, ABOUT)
    second = await run(client, ABOUT)

    assert first == second == {"apiVersion": "1"}
    assert [(s.method, s.with_document, s.status) for s in transport_of(client).sent] == [
        ("POST", False, 200),  # hash only: PersistedQueryNotFound
        ("POST", True, 200),  # hash and document: registered and run
        ("POST", False, 200),  # hash only: served from the store
    ]


async def test_apq_round_trip_by_get_for_hashed_queries(servers):
    client = servers.gql_client(get_for_hashed=True)

    first = await run(client, ABOUT)
    second = await run(client, ABOUT)

    assert first == second == {"apiVersion": "1"}
    assert [(s.method, s.with_document) for s in transport_of(client).sent] == [
        ("GET", False),
        ("POST", True),
        ("GET", False),
    ]


async def test_apq_mutations_go_by_post(servers):
    client = servers.gql_client(get_for_hashed=True)

    assert await run(client, PING) == {"ping": True}
    assert await run(client, PING) == {"ping": True}
    assert {s.method for s in transport_of(client).sent} == {"POST"}


async def test_registrations_are_shared_through_redis(servers, redis_prefix):
    """Two app processes, one Redis: what one registered, the other serves by hash."""
    shared = {
        "redis_url": REDIS_TEST_URL,
        "apq_redis_prefix": redis_prefix,
        "rate_limit_prefix": redis_prefix + "rl",
    }
    registering = servers.gql_client(**shared)
    other_process = servers.gql_client(**shared)

    await run(registering, ABOUT)
    assert await run(other_process, ABOUT) == {"apiVersion": "1"}
    assert [s.with_document for s in transport_of(other_process).sent] == [False]


async def test_in_process_store_is_bounded(servers):
    client = httpx.AsyncClient(
        transport=servers.transport(apq_cache_size=1), base_url="https://testserver"
    )
    documents = ["query A { apiVersion }", "query B { apiVersion }"]
    async with client:
        for document in documents:
            await client.post("/graphql", json={"query": document, "extensions": hashed(document)})
        answers = [
            (await client.post("/graphql", json={"extensions": hashed(d)})).json()
            for d in documents
        ]

    assert answers[0]["errors"][0]["message"] == "PersistedQueryNotFound"
    assert answers[1] == {"data": {"apiVersion": "1"}}


# -------------------------------------------------------------- refusals


async def test_unknown_hash_is_persisted_query_not_found_and_uncacheable(servers):
    async with httpx.AsyncClient(
        transport=servers.transport(), base_url="https://testserver"
    ) as client:
        response = await client.get(
            "/graphql",
            params={"extensions": json.dumps(hashed(ABOUT))},
            headers={"accept": "application/graphql-response+json"},
        )

    assert response.status_code == 200  # as Apollo Server: "send the document", not a failure
    assert "no-cache" in response.headers["cache-control"]
    assert response.json() == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }


async def test_a_hash_that_does_not_match_the_document_is_refused(servers):
    async with httpx.AsyncClient(
        transport=servers.transport(), base_url="https://testserver"
    ) as client:
        wrong = await client.post("/graphql", json={"query": PING, "extensions": hashed(ABOUT)})
        afterwards = await client.post("/graphql", json={"extensions": hashed(ABOUT)})

    assert wrong.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    assert afterwards.json()["errors"][0]["message"] == "PersistedQueryNotFound"


@pytest.mark.parametrize(
    "persisted_query",
    [{"version": 2, "sha256Hash": sha256(ABOUT)}, {"version": 1, "sha256Hash": "ABC"}, "x"],
    ids=["version", "hash-form", "not-an-object"],
)
async def test_a_malformed_persisted_query_extension_is_refused(servers, persisted_query):
    async with httpx.AsyncClient(
        transport=servers.transport(), base_url="https://testserver"
    ) as client:
        response = await client.post(
            "/graphql", json={"query": ABOUT, "extensions": {"persistedQuery": persisted_query}}
        )
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_INVALID"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("de", "extensions.persistedQuery ist ungültig: version muss 1 sein"),
        ("en", "extensions.persistedQuery is invalid: version must be 1"),
    ],
)
async def test_a_malformed_persisted_query_is_explained_in_the_requests_language(
    servers, language, expected
):
    async with httpx.AsyncClient(
        transport=servers.transport(), base_url="https://testserver"
    ) as client:
        response = await client.post(
            "/graphql",
            json={
                "query": ABOUT,
                "extensions": {"persistedQuery": {"version": 2, "sha256Hash": sha256(ABOUT)}},
            },
            headers={"Accept-Language": language},
        )
    assert response.json()["errors"][0]["message"] == expected


async def test_an_invalid_document_is_not_registered(servers):
    document = "query Broken { noSuchField }"
    async with httpx.AsyncClient(
        transport=servers.transport(), base_url="https://testserver"
    ) as client:
        await client.post("/graphql", json={"query": document, "extensions": hashed(document)})
        later = await client.post("/graphql", json={"extensions": hashed(document)})
    assert later.json()["errors"][0]["message"] == "PersistedQueryNotFound"


async def test_registration_of_new_hashes_is_rate_limited_per_address(servers):
    async with httpx.AsyncClient(
        transport=servers.transport(apq_registrations_per_address=2),
        base_url="https://testserver",
    ) as client:
        answers = []
        for name in ("A", "B", "C"):
            document = f"query {name} {{ apiVersion }}"
            answers.append(
                await client.post(
                    "/graphql",
                    json={"query": document, "extensions": hashed(document)},
                    headers={"accept": "application/graphql-response+json"},
                )
            )
        known_again = await client.post(
            "/graphql",
            json={
                "query": "query A { apiVersion }",
                "extensions": hashed("query A { apiVersion }"),
            },
        )

    assert [a.status_code for a in answers] == [200, 200, 429]
    error = answers[2].json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert int(answers[2].headers["retry-after"]) == error["extensions"]["retryAfter"] > 0
    assert known_again.json() == {"data": {"apiVersion": "1"}}  # a known hash costs nothing


async def test_without_free_documents_only_persisted_operations_run(servers):
    async with httpx.AsyncClient(
        transport=servers.transport(allow_free_documents=False),
        base_url="https://testserver",
    ) as client:
        free = await client.post(
            "/graphql",
            json={"query": ABOUT},
            headers={"accept": "application/graphql-response+json"},
        )
        registration = await client.post(
            "/graphql", json={"query": ABOUT, "extensions": hashed(ABOUT)}
        )

    assert free.status_code == 400
    assert free.json()["errors"][0]["extensions"]["code"] == "FREE_DOCUMENTS_DISABLED"
    assert registration.json()["errors"][0]["extensions"]["code"] == "FREE_DOCUMENTS_DISABLED"


def test_free_documents_are_off_by_default_in_prod_only():
    assert Settings(env="dev").free_documents_allowed
    assert not Settings(env="prod").free_documents_allowed
    assert Settings(env="prod", allow_free_documents=True).free_documents_allowed


# ---------------------------------------------------------- document cache


async def test_persisted_documents_are_parsed_and_validated_once(servers):
    import strawberry.schema.schema as strawberry_schema

    parse = mock.Mock(wraps=strawberry_schema.parse)
    validate = mock.Mock(wraps=strawberry_schema.validate_document)
    client = servers.gql_client()
    with (
        mock.patch.object(strawberry_schema, "parse", parse),
        mock.patch.object(strawberry_schema, "validate_document", validate),
    ):
        for _ in range(3):
            assert await run(client, ABOUT) == {"apiVersion": "1"}

    assert parse.call_count == 1
    assert validate.call_count == 1
