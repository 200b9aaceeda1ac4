"""No single request can hurt the service: malformed bodies are 4xx with a GraphQL error,
validation has a budget, a field error stays a field error beside shared loaders, an
unexpected failure is a masked 500 with the request id and the security headers,
and a throttled client stays throttled when Redis forgets."""

from __future__ import annotations

import asyncio
from uuid import RFC_4122, UUID

import httpx
import pytest
from starlette.requests import Request
from starlette.routing import Route
from tortoise.connection import connections

from app import create_app
from ops.middleware import new_request_id
from schema.ids import encode_id
from security.ratelimit import Limit
from tests.conftest import gql
from tests.factories import TODAY, logged_in, make_customer_with_proofs, make_household, register
from tests.test_accounts_ratelimit import _redis_limiter, prefix  # noqa: F401 (fixture)

SPEC = {"Accept": "application/graphql-response+json"}
JSON_BODY = {"Content-Type": "application/json"}


def fanout(levels: int) -> str:
    """Fragments that each spread the next one twice: 2^levels walks for a naive guard."""
    spreads = "".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }} " for i in range(levels)
    )
    return "query { ...F0 } " + spreads + f"fragment F{levels} on Query {{ apiVersion }}"


def refusal(response: httpx.Response) -> str:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    body = response.json()
    assert "data" not in body
    return body["errors"][0]["extensions"]["code"]


# ------------------------------------------------------------- malformed bodies


@pytest.mark.parametrize("accept", [{}, SPEC])
async def test_json_nested_a_thousand_levels_deep_is_a_400(client, accept):
    deep = "[" * 1000 + "]" * 1000
    body = '{"query": "{ apiVersion }", "variables": {"x": ' + deep + "}}"
    by_post = await client.post("/graphql", content=body, headers={**JSON_BODY, **accept})
    by_get = await client.get(
        "/graphql", params={"query": "{ apiVersion }", "variables": '{"x": ' + deep + "}"}
    )
    whole_body = await client.post("/graphql", content=deep, headers={**JSON_BODY, **accept})
    for response in (by_post, by_get, whole_body):
        assert refusal(response) == "BAD_REQUEST"
        assert response.status_code == 400


async def test_json_nested_moderately_deeper_than_variables_need_is_refused_too(client):
    # below Python's recursion limit, but deeper than any input of this API
    deep = '{"a":' * 40 + "1" + "}" * 40
    body = '{"query": "{ apiVersion }", "variables": ' + deep + "}"
    response = await client.post("/graphql", content=body, headers=JSON_BODY)
    assert refusal(response) == "BAD_REQUEST"
    assert "32 levels" in response.json()["errors"][0]["extensions"]["reason"]


async def test_invalid_utf8_inside_a_json_string_is_a_400(client):
    body = b'{"query": "{ apiVersion }", "operationName": "\xff\xfe"}'
    response = await client.post("/graphql", content=body, headers=JSON_BODY)
    assert refusal(response) == "BAD_REQUEST"


@pytest.mark.parametrize("where", ["query", "variables", "key"])
async def test_a_lone_surrogate_escape_is_a_400(client, where):
    bodies = {
        "query": r'{"query": "{ apiVersion } # \ud800"}',
        "variables": r'{"query": "{ apiVersion }", "variables": {"x": "a\udfffb"}}',
        "key": r'{"query": "{ apiVersion }", "variables": {"\ud800": 1}}',
    }
    response = await client.post("/graphql", content=bodies[where], headers=JSON_BODY)
    assert refusal(response) == "BAD_REQUEST"
    assert "surrogate" in response.json()["errors"][0]["extensions"]["reason"]


async def test_a_nul_character_is_refused_before_it_reaches_the_database(client):
    document = "mutation C($input: ConfirmPinInput!) { confirmPin(input: $input) { confirmed } }"
    in_variables = await client.post(
        "/graphql",
        json={"query": document, "variables": {"input": {"email": "a\x00@b.de", "pin": "1"}}},
        headers=SPEC,
    )
    literal = 'mutation { confirmPin(input: {email: "a\\u0000@b.de", pin: "1"}) { confirmed } }'
    in_the_document = await client.post("/graphql", json={"query": literal}, headers=SPEC)

    assert refusal(in_variables) == "BAD_REQUEST"
    assert "NUL" in in_variables.json()["errors"][0]["extensions"]["reason"]
    assert refusal(in_the_document) == "BAD_USER_INPUT"
    assert in_the_document.json()["errors"][0]["extensions"]["reason"].startswith("a string")


async def test_huge_numbers_and_wrong_types_in_variables_are_4xx(client):
    document = "query Page($n: Int!) { customer { invoices(first: $n) { totalCount } } }"
    digits = '{"query": "' + document + '", "variables": {"n": 1' + "0" * 5000 + "}}"
    many_digits = await client.post("/graphql", content=digits, headers={**JSON_BODY, **SPEC})
    assert refusal(many_digits) == "BAD_REQUEST"
    for value in (1e300, 2**40, "zwölf", [1], {"a": 1}, 1.5):
        response = await client.post(
            "/graphql", json={"query": document, "variables": {"n": value}}, headers=SPEC
        )
        assert refusal(response) == "BAD_USER_INPUT", value
    infinite = '{"query": "' + document + '", "variables": {"n": 1e999}}'
    response = await client.post("/graphql", content=infinite, headers={**JSON_BODY, **SPEC})
    assert refusal(response) == "BAD_USER_INPUT"


# ----------------------------------------------------------- validation budget


async def test_fragment_fan_out_is_refused_with_a_clear_error(client):
    for levels in (21, 40):
        response = await client.post("/graphql", json={"query": fanout(levels)}, headers=SPEC)
        assert refusal(response) == "OPERATION_TOO_COSTLY"


async def test_documents_that_would_take_long_to_validate_are_refused_before_validation(client):
    # 300 copies of one field with a sub-selection: graphql-core compares 45,000 pairs
    repeated = "{ " + " ".join(["me { email }"] * 300) + " }"
    for _ in range(2):  # the second time from the document cache
        response = await client.post("/graphql", json={"query": repeated}, headers=SPEC)
        assert refusal(response) == "OPERATION_TOO_COSTLY"
        error = response.json()["errors"][0]
        assert error["extensions"]["validationWork"] > error["extensions"]["maxValidationWork"]


async def test_ordinary_repetition_and_fragments_stay_within_the_budget(client):
    fragments = " ".join(f"fragment F{i} on Query {{ apiVersion }}" for i in range(20))
    spreads = " ".join(f"...F{i}" for i in range(20))
    document = "query { apiVersion apiVersion " + spreads + " } " + fragments
    response = await client.post("/graphql", json={"query": document}, headers=SPEC)
    assert response.status_code == 200
    assert response.json() == {"data": {"apiVersion": "1"}}


# ------------------------------------------------------- field errors and loaders

SHARED_LOADER = """
query Dashboard($id: ID!) {
  customer {
    meters { number lastReading { value } readings(first: -5) { totalCount } }
    meter(ref: {id: $id}) { number lastReading { value } }
  }
}
"""


async def test_a_field_error_beside_a_shared_loader_is_a_field_error_not_a_500(
    clock, client, settings
):
    # given a meter whose last reading two fields load through the same loader
    household = await make_household(TODAY, "100001")
    _, token = await logged_in(settings, household.customer)

    # when one of the fields next to them is invalid
    result = await gql(
        client,
        SHARED_LOADER,
        {"id": encode_id("Meter", household.main.id)},
        token=token,
        headers=SPEC,
    )

    # then the answer is data plus that field's error (null up to the nullable customer)
    assert result.response.status_code == 200
    assert result.data == {"customer": None}
    assert [e["path"][-1] for e in result.errors] == ["readings"]
    assert result.errors[0]["extensions"]["code"] != "INTERNAL_SERVER_ERROR"


# ------------------------------------------------------------------ 5xx answers


async def test_an_unexpected_failure_is_a_masked_500_with_request_id_and_headers(settings):
    # given a route that fails unexpectedly
    async def broken(request: Request) -> None:
        raise RuntimeError("secret detail")

    application = create_app(settings)
    application.router.routes.append(Route("/broken", broken))
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=transport, base_url="https://testserver") as client,
    ):
        response = await client.get("/broken", headers={"Accept-Language": "en"})

    # then the client gets a GraphQL error naming the request id, with every header
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "errorId": request_id}
    assert request_id in error["message"]
    assert "secret" not in response.text
    for header in ("content-security-policy", "x-content-type-options", "cache-control"):
        assert header in response.headers


async def test_service_unavailable_carries_the_request_id_and_headers(client, mailbox, settings):
    # given a session, and a database that fails every statement as if it were away
    await register(client, mailbox, await make_customer_with_proofs())
    conn = connections.get("default")
    original = type(conn).execute_query

    async def away(self, *args, **kwargs):
        raise ConnectionRefusedError("database away")

    type(conn).execute_query = away  # type: ignore[method-assign]
    try:
        response = await client.get("/readyz", headers={"X-Request-ID": "probe-12345678"})
    finally:
        type(conn).execute_query = original  # type: ignore[method-assign]
    assert response.status_code == 503
    assert response.headers["x-request-id"] == "probe-12345678"
    assert response.headers["x-frame-options"] == "DENY"


# ------------------------------------------------------------ Redis forgetting


async def test_a_throttled_client_stays_throttled_when_redis_comes_back_empty(prefix):  # noqa: F811
    # given a key that reached its limit in Redis
    limiter = await _redis_limiter(prefix)
    limit = Limit("test-guesses", 2, 600)
    try:
        for _ in range(2):
            assert (await limiter.hit(limit, "guesser")).allowed
        assert not (await limiter.hit(limit, "guesser")).allowed

        # when Redis loses every key (a restart without persistence, a failover)
        keys = [key async for key in limiter._redis.scan_iter(f"{prefix}:*")]
        await limiter._redis.delete(*keys)

        # then this process still refuses the key, and counts others afresh
        refused = await limiter.hit(limit, "guesser")
        assert not refused.allowed
        assert refused.retry_after > 500
        assert (await limiter.hit(limit, "someone else")).allowed
    finally:
        await limiter.aclose()


# ------------------------------------------------------ constant-work reset mail


async def test_password_reset_answers_known_and_unknown_addresses_after_the_same_work(
    app, client, mailbox
):
    # given a login, and every SQL statement counted by the task that sent it
    await register(client, mailbox, await make_customer_with_proofs())
    sent: list[tuple[str, str]] = []
    conn_class = type(connections.get("default"))
    originals = {}
    for name in ("execute_query", "execute_query_dict", "execute_insert", "execute_script"):
        originals[name] = original = getattr(conn_class, name)

        def wrapper(self, query, *args, _original=original, **kwargs):
            task = asyncio.current_task()
            sent.append((task.get_name() if task else "", query))
            return _original(self, query, *args, **kwargs)

        setattr(conn_class, name, wrapper)
    reset = "mutation($e: String!) { requestPasswordReset(input: { email: $e }) { mailedTo } }"
    this_request = asyncio.current_task().get_name()  # type: ignore[union-attr]
    try:
        # when a reset is asked for the known and an unknown address
        answers = []
        for address in ("erika@example.org", "ernst@example.org"):
            sent.clear()
            result = await gql(client, reset, {"e": address})
            answers.append([q for task, q in sent if task == this_request])
            assert result.data["requestPasswordReset"]["mailedTo"]
    finally:
        for name, original in originals.items():
            setattr(conn_class, name, original)

    # then the request did the same statements before answering; the mail still goes out
    assert answers[0] == answers[1]
    await mailbox.wait_for("erika@example.org", 2)


def test_a_new_request_id_is_a_random_uuid_in_hex():
    ids = {new_request_id() for _ in range(100)}
    assert len(ids) == 100
    for rid in ids:
        parsed = UUID(hex=rid)
        assert (parsed.hex, parsed.version, parsed.variant) == (rid, 4, RFC_4122)
