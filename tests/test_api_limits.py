"""Operation limits against abusive documents: depth, aliases, tokens, cost, introspection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route

from api.http import GraphQLView
from schema import Query


@strawberry.type(name="TreeNode", description="A node of a tree as deep and wide as a client asks.")
class Node:
    @strawberry.field(description="The node's name.")
    def name(self) -> str:
        return "node"

    @strawberry.field(description="The node's one child.")
    def child(self) -> Node:
        return Node()

    @strawberry.field(description="A page of the node's children.")
    def children(
        self, first: Annotated[int, strawberry.argument(description="Page size.")] = 10
    ) -> list[Node]:
        return [Node() for _ in range(min(first, 3))]


@strawberry.type(description="Entry point for reading data, with a tree to nest in.")
class TreeQuery(Query):
    @strawberry.field(description="The tree's root.")
    def root(self) -> Node:
        return Node()


def nested(depth: int) -> str:
    """A query whose selections nest `depth` levels below `root`."""
    return "query Deep { root { " + "child { " * depth + "name" + " }" * depth + " } }"


@pytest.fixture
def api(app) -> Callable[..., Any]:
    """A client of the real view over the tree schema, with settings changed as asked."""

    @asynccontextmanager
    async def client(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        view = GraphQLView(app.state.settings.model_copy(update=overrides), query=TreeQuery)
        server = Starlette(routes=[Route("/graphql", view)])
        server.state.hasher = app.state.hasher
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=server),
                base_url="https://testserver",
                headers={"accept": "application/graphql-response+json"},
            ) as c:
                yield c
        finally:
            await view.close()

    return client


async def ask(client: httpx.AsyncClient, document: str, **variables: Any) -> httpx.Response:
    return await client.post("/graphql", json={"query": document, "variables": variables})


async def test_depth_is_limited(api):
    async with api(max_depth=5) as client:
        allowed = await ask(client, nested(4))
        refused = await ask(client, nested(5))

    assert allowed.status_code == 200
    assert refused.status_code == 400
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "exceeds maximum operation depth of 5" in error["message"]


async def test_aliases_are_limited(api):
    def aliased(count: int) -> str:
        return "query Many { " + " ".join(f"a{i}: apiVersion" for i in range(count)) + " }"

    async with api(max_aliases=3) as client:
        allowed = await ask(client, aliased(3))
        refused = await ask(client, aliased(4))

    assert allowed.json()["data"] == {"a0": "1", "a1": "1", "a2": "1"}
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["message"] == "4 aliases found. Allowed: 3"


async def test_tokens_are_limited(api):
    document = "query Long { " + "apiVersion " * 60 + "}"  # 60 fields + 4 tokens

    async with api(max_tokens=50) as client:
        refused = await ask(client, document)
    async with api(max_tokens=100) as client:
        allowed = await ask(client, document)

    assert allowed.json()["data"] == {"apiVersion": "1"}
    assert refused.status_code == 400
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert "more than 50 tokens" in error["message"]


async def test_a_refused_document_is_refused_again_when_sent_again(api):
    """The limits run when a document is first parsed and validated; the document cache
    keeps the outcome, so a document sent again is refused (or answered) the same way."""
    long_document = "query Long { " + "apiVersion " * 60 + "}"

    async with api(max_depth=5, max_tokens=60) as client:
        too_deep = [await ask(client, nested(5)) for _ in range(3)]
        too_long = [await ask(client, long_document) for _ in range(3)]
        allowed = [await ask(client, nested(4)) for _ in range(3)]

    for refused in too_deep:
        assert refused.status_code == 400
        error = refused.json()["errors"][0]
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "exceeds maximum operation depth of 5" in error["message"]
    for refused in too_long:
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert all(a.status_code == 200 and "errors" not in a.json() for a in allowed)


PAGES = "query Pages { root { children(first: 40) { children(first: 40) { name } } } }"
PAGES_BY_VARIABLE = "query Pages($n: Int!) { root { children(first: $n) { name } } }"
PAGES_BY_DEFAULT = "query Pages($n: Int! = 5) { root { children(first: $n) { name } } }"


async def test_cost_counts_fields_times_requested_page_sizes(api):
    """root 1 + children 1 + 40 children + 40x40 names = 1642."""
    async with api(max_cost=1642) as client:
        allowed = await ask(client, PAGES)
    async with api(max_cost=1641) as client:
        refused = await ask(client, PAGES)

    assert allowed.status_code == 200
    assert refused.status_code == 400
    error = refused.json()["errors"][0]
    assert error["extensions"] == {
        "code": "OPERATION_TOO_COSTLY",
        "cost": 1642,
        "maxCost": 1641,
    }


async def test_cost_assumes_the_largest_page_for_a_variable_page_size(api):
    """root 1 + children 1 + n names: n counts as 100 unless the variable has a default."""
    async with api(max_cost=50, cost_assumed_page_size=100) as client:
        by_variable = await ask(client, PAGES_BY_VARIABLE, n=2)
        by_default = await ask(client, PAGES_BY_DEFAULT)

    assert by_variable.json()["errors"][0]["extensions"]["code"] == "OPERATION_TOO_COSTLY"
    assert by_default.json()["data"]["root"]["children"][0] == {"name": "node"}


async def test_cost_follows_fragments(api):
    document = (
        "query Pages { root { ...Kids } } "
        "fragment Kids on Node { children(first: 40) { children(first: 40) { name } } }"
    )
    async with api(max_cost=1000) as client:
        refused = await ask(client, document)
    assert refused.json()["errors"][0]["extensions"]["code"] == "OPERATION_TOO_COSTLY"


INTROSPECTION = "query Types { __schema { types { name } } }"


async def test_introspection_can_be_switched_off(api):
    async with api(introspection=False) as client:
        refused = await ask(client, INTROSPECTION)
        typename = await ask(client, "query T { __typename }")
    async with api(introspection=True) as client:
        allowed = await ask(client, INTROSPECTION)

    assert refused.status_code == 400
    assert "introspection" in refused.json()["errors"][0]["message"]
    assert typename.json() == {"data": {"__typename": "TreeQuery"}}
    assert allowed.status_code == 200


def test_introspection_and_graphiql_are_off_by_default_in_prod_only():
    from settings import Settings

    assert Settings(env="dev").introspection_enabled
    assert Settings(env="dev").graphiql_enabled
    prod = Settings(env="prod")
    assert not prod.introspection_enabled
    assert not prod.graphiql_enabled
    assert Settings(env="prod", introspection=True).introspection_enabled


async def test_graphiqls_own_introspection_query_fits_the_limits(client):
    """GraphiQL asks for the whole schema on start; the default limits must let it."""
    from graphql import get_introspection_query

    response = await client.post(
        "/graphql", json={"query": get_introspection_query(descriptions=True)}
    )

    assert response.status_code == 200
    assert "errors" not in response.json()


async def test_batches_are_refused(client):
    response = await client.post(
        "/graphql", json=[{"query": "{ apiVersion }"}, {"query": "{ apiVersion }"}]
    )
    assert response.status_code == 400
    assert "batching is not supported" in response.json()["errors"][0]["extensions"]["reason"]
