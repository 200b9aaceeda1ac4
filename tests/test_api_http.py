"""GraphQL over HTTP as the specification describes it: media types, status codes, masking."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route

from api.http import GraphQLView, negotiate_media_type
from schema import Query
from tests.conftest import free_port

GRAPHQL_RESPONSE = "application/graphql-response+json"
ASK_GRAPHQL_RESPONSE = {"accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"}
ASK_JSON = {"accept": "application/json"}

API_VERSION = "query About { apiVersion }"
PING = "mutation Ping { ping }"
SYNTAX_ERROR = "query About { apiVersion"
UNKNOWN_FIELD = "query About { noSuchField }"
SKIP_IF = "query About($skip: Boolean!) { apiVersion @skip(if: $skip) }"
FAILING = "query Failing { apiVersion failing }"


def post(client: httpx.AsyncClient, body: Any, headers: dict[str, str] | None = None):
    return client.post("/graphql", json=body, headers=headers or {})


# ------------------------------------------------------------- media types


async def test_json_is_the_default_media_type(client):
    response = await post(client, {"query": API_VERSION})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {"data": {"apiVersion": "1"}}


async def test_graphql_response_json_when_the_client_asks_for_it(client):
    response = await post(client, {"query": API_VERSION}, ASK_GRAPHQL_RESPONSE)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert response.json() == {"data": {"apiVersion": "1"}}


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        ("text/html, */*;q=0.8", "application/json"),
        ("text/plain", None),
    ],
)
def test_accept_header_negotiation(accept, chosen):
    assert negotiate_media_type(accept) == chosen


async def test_an_unacceptable_accept_header_gets_406(client):
    response = await post(client, {"query": API_VERSION}, {"accept": "text/plain"})
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"


# ---------------------------------------------- status codes of the spec


@pytest.mark.parametrize(
    ("document", "variables", "code"),
    [
        (SYNTAX_ERROR, None, "GRAPHQL_PARSE_FAILED"),
        (UNKNOWN_FIELD, None, "GRAPHQL_VALIDATION_FAILED"),
        (SKIP_IF, {"skip": "not a boolean"}, "BAD_USER_INPUT"),
    ],
    ids=["parse", "validation", "variable-coercion"],
)
async def test_request_errors_are_400_without_data_in_graphql_response_json(
    client, document, variables, code
):
    response = await post(client, {"query": document, "variables": variables}, ASK_GRAPHQL_RESPONSE)

    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == code


@pytest.mark.parametrize(
    ("document", "variables"),
    [(SYNTAX_ERROR, None), (UNKNOWN_FIELD, None), (SKIP_IF, {"skip": "x"})],
    ids=["parse", "validation", "variable-coercion"],
)
async def test_request_errors_are_200_in_json(client, document, variables):
    response = await post(client, {"query": document, "variables": variables}, ASK_JSON)

    assert response.status_code == 200
    assert response.json()["errors"]


@pytest.mark.parametrize("accept", [ASK_JSON, ASK_GRAPHQL_RESPONSE])
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "Unable to parse request body as JSON"),
        (b"", "the body is empty"),
        (b'"a string"', "the body must be a JSON object"),
        (b'[{"query": "{ apiVersion }"}]', "batching is not supported"),
        (b'{"query": 1}', "`query` must be a string"),
        (b'{"query": "{ apiVersion }", "variables": "x"}', "`variables` must be an object"),
        (b'{"query": "{ apiVersion }", "operationName": 3}', "`operationName` must be a string"),
        (b'{"query": "{ apiVersion }", "extensions": []}', "`extensions` must be an object"),
        (b'{"variables": {}}', "No GraphQL query found"),
    ],
    ids=[
        "bad-json",
        "empty",
        "not-an-object",
        "batch",
        "query-number",
        "variables-string",
        "operation-name-number",
        "extensions-list",
        "no-document",
    ],
)
async def test_malformed_requests_get_a_clear_400(client, accept, body, reason):
    response = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json", **accept}
    )

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert reason in error["extensions"]["reason"]


async def test_a_body_that_is_not_json_gets_415(client):
    response = await client.post(
        "/graphql", content=API_VERSION, headers={"content-type": "application/graphql"}
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_a_body_over_the_limit_gets_413(client, settings):
    padding = "#" * settings.max_body_bytes
    response = await post(client, {"query": f"{padding}\n{API_VERSION}"})
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "REQUEST_TOO_LARGE", "maxBytes": settings.max_body_bytes}


async def test_a_chunked_body_over_the_limit_gets_413_too(client, settings):
    """No Content-Length to trust: the limit counts what arrives."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "'
        for _ in range(settings.max_body_bytes // 1000 + 1):
            yield b" " * 1000
        yield b'{ apiVersion }"}'

    response = await client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_queries_are_served_by_get(client):
    response = await client.get("/graphql", params={"query": API_VERSION})
    assert response.status_code == 200
    assert response.json() == {"data": {"apiVersion": "1"}}


async def test_a_mutation_by_get_is_refused_with_405(client):
    response = await client.get("/graphql", params={"query": PING})

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_a_mutation_by_post_is_served(client):
    response = await post(client, {"query": PING})
    assert response.json() == {"data": {"ping": True}}


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_other_methods_get_405(client, method):
    response = await client.request(method, "/graphql", json={"query": API_VERSION})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


async def test_request_errors_speak_english_on_request(client):
    response = await client.put("/graphql", headers={"accept-language": "en"})
    assert response.json()["errors"][0]["message"].startswith("This HTTP method is not allowed")


@pytest.mark.parametrize(
    ("send", "german", "english"),
    [
        (
            lambda c, h: c.put("/graphql", headers=h),
            "Diese HTTP-Methode ist hier nicht erlaubt: Anfragen nur per GET oder POST, "
            "Mutationen nur per POST.",
            "This HTTP method is not allowed here: requests only by GET or POST, mutations "
            "only by POST.",
        ),
        (
            lambda c, h: c.get("/graphql", params={"query": PING}, headers=h),
            "Diese HTTP-Methode ist hier nicht erlaubt: Anfragen nur per GET oder POST, "
            "Mutationen nur per POST.",
            "This HTTP method is not allowed here: requests only by GET or POST, mutations "
            "only by POST.",
        ),
        (
            lambda c, h: c.post(
                "/graphql", content="{", headers={"content-type": "application/json", **h}
            ),
            "Die Anfrage ist ungültig (JSON, Parameter oder Dokument; Einzelheiten in "
            "extensions.reason).",
            "The request is malformed: ",
        ),
    ],
    ids=["other-method", "mutation-by-get", "bad-json"],
)
async def test_request_error_messages_keep_to_one_language(client, send, german, english):
    in_german = await send(client, {})
    in_english = await send(client, {"accept-language": "en"})

    assert in_german.json()["errors"][0]["message"] == german
    assert in_english.json()["errors"][0]["message"].startswith(english)


# ------------------------------------------------------------------ masking


@strawberry.type(description="Entry point for reading data, with a field that fails.")
class FailingQuery(Query):
    @strawberry.field(description="Fails the way a bug would.")
    def failing(self) -> str | None:
        raise RuntimeError("connection to 10.0.0.5 refused; password=hunter2")


@pytest_asyncio.fixture
async def failing_client(app) -> AsyncIterator[httpx.AsyncClient]:
    """The real view and settings, on a Query that has a field failing unexpectedly."""
    view = GraphQLView(app.state.settings, query=FailingQuery)
    failing_app = Starlette(routes=[Route("/graphql", view)])
    failing_app.state.hasher = app.state.hasher
    transport = httpx.ASGITransport(app=failing_app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
        yield c
    await view.close()


async def test_an_unexpected_error_is_masked_with_an_id_that_is_in_the_log(failing_client, caplog):
    caplog.set_level(logging.ERROR, logger="kundenportal.api")

    response = await post(failing_client, {"query": FAILING})

    body = response.json()
    assert response.status_code == 200
    assert body["data"] == {"apiVersion": "1", "failing": None}
    (error,) = body["errors"]
    assert error["path"] == ["failing"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    error_id = error["extensions"]["errorId"]
    assert error_id in error["message"]
    assert "hunter2" not in response.text
    assert "10.0.0.5" not in response.text
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged
    assert logged[0].exc_info
    assert "hunter2" in str(logged[0].exc_info[1])


async def test_validation_errors_stay_readable_next_to_masking(failing_client):
    response = await post(failing_client, {"query": UNKNOWN_FIELD})
    error = response.json()["errors"][0]
    assert error["message"] == "Cannot query field 'noSuchField' on type 'FailingQuery'."
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_redis_away_degrades_persisted_queries_to_not_found(app, caplog):
    """Redis away: a hash-only request is answered PersistedQueryNotFound (so Apollo
    clients send the document again), never an internal error or the Redis address."""
    settings = app.state.settings.model_copy(
        update={"redis_url": f"redis://127.0.0.1:{free_port()}/15"}
    )
    view = GraphQLView(settings)
    outage_app = Starlette(routes=[Route("/graphql", view)])
    outage_app.state.hasher = app.state.hasher
    transport = httpx.ASGITransport(app=outage_app)
    hashed = {"persistedQuery": {"version": 1, "sha256Hash": "a" * 64}}
    caplog.set_level(logging.WARNING, logger="kundenportal.api")
    try:
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
            response = await c.get(
                "/graphql",
                params={"extensions": json.dumps(hashed)},
                headers=ASK_GRAPHQL_RESPONSE,
            )
    finally:
        await view.close()

    assert response.status_code == 200
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert "127.0.0.1" not in response.text
    assert any("store unavailable" in r.getMessage() for r in caplog.records)


async def test_a_client_leaving_mid_body_is_not_an_error(app, caplog):
    """wrk and browsers hang up mid-request; that is no server error worth a traceback."""
    messages = iter(
        [
            {"type": "http.request", "body": b'{"query": "{ apiV', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict] = []

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
        "query_string": b"",
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 443),
        "scheme": "https",
        "root_path": "",
        "app": app,
        "state": {},
    }
    caplog.set_level(logging.ERROR)
    await GraphQLView(app.state.settings)(scope, receive, send)
    assert sent == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
