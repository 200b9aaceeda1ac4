"""Trusted documents: a partner app runs only the operations of its uploaded manifest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from gql import Client, GraphQLRequest
from graphql import parse, print_ast
from starlette.applications import Starlette
from starlette.routing import Route

from api import partners
from api.http import GraphQLView
from models import Partner, PartnerOperation
from schema import build_schema
from settings import Settings
from tests.test_api_persisted import ApolloPersistedQueries

ABOUT = "query About { apiVersion }"
PING = "mutation Ping { ping }"
UNLISTED = "query Unlisted { apiVersion __typename }"
GRAPHQL_RESPONSE = {"accept": "application/graphql-response+json"}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def hashed(document: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(document)}}


def apollo_manifest(*documents: str) -> str:
    """What Apollo's generate-persisted-query-manifest writes."""
    operations = []
    for document in documents:
        kind, name = document.split()[:2]
        operations.append({"id": sha256(document), "name": name, "type": kind, "body": document})
    return json.dumps(
        {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
    )


def codegen_manifest(*documents: str, digest=sha1) -> str:
    """What GraphQL Code Generator's client preset writes (persisted-documents.json)."""
    return json.dumps({digest(document): document for document in documents})


async def partner_with(name: str, settings: Settings, manifest: str) -> str:
    """A registered partner with the manifest's operations; returns its API key."""
    _, key = await partners.add_partner(name, settings)
    await partners.upload(name, partners.parse_manifest(manifest, build_schema()._schema))
    return key


@pytest_asyncio.fixture
async def api(app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://testserver"
    ) as client:
        yield client


# --------------------------------------------------------------- end to end


async def test_partner_workflow_register_upload_call_by_hash(app, api, staff, tmp_path):
    """The README's workflow, with the real command line."""
    added = await staff("partner", "add", "stadt-app")
    assert added.code == 0, added.stderr
    key = next(line for line in added.stdout.splitlines() if line.startswith("kp_"))
    manifest = tmp_path / "persisted-query-manifest.json"
    manifest.write_text(apollo_manifest(ABOUT, PING))
    uploaded = await staff("partner", "upload", "stadt-app", str(manifest))
    assert uploaded.code == 0, uploaded.stderr
    assert "2 operations added" in uploaded.stdout

    listed = await api.post(
        "/graphql", json={"extensions": hashed(ABOUT)}, headers={"X-Api-Key": key}
    )
    unlisted = await api.post(
        "/graphql",
        json={"extensions": hashed(UNLISTED)},
        headers={"X-Api-Key": key, **GRAPHQL_RESPONSE},
    )

    assert listed.json() == {"data": {"apiVersion": "1"}}
    assert unlisted.status_code == 403
    assert unlisted.json()["errors"][0]["extensions"]["code"] == "OPERATION_NOT_ALLOWED"
    listing = await staff("partner", "list")
    assert "stadt-app" in listing.stdout
    assert "2 operations" in listing.stdout
    assert key not in listing.stdout


async def test_partner_is_served_a_listed_operation_by_a_real_apq_client(app, settings):
    """The manifest holds the documents as the client prints them, as Apollo's generator does."""
    as_sent = print_ast(parse(ABOUT))
    key = await partner_with("mobile-app", settings, apollo_manifest(as_sent))
    transport = ApolloPersistedQueries(
        url="https://testserver/graphql",
        transport=httpx.ASGITransport(app=app),
        headers={"X-Api-Key": key},
        get_for_hashed=True,
    )

    async with Client(transport=transport) as session:
        result = await session.execute(GraphQLRequest(ABOUT))

    assert result == {"apiVersion": "1"}
    assert [(s.method, s.with_document) for s in transport.sent] == [("GET", False)]


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"query": UNLISTED}, 403, "OPERATION_NOT_ALLOWED"),
        ({"extensions": hashed(UNLISTED)}, 403, "OPERATION_NOT_ALLOWED"),
        ({"query": UNLISTED, "extensions": hashed(UNLISTED)}, 403, "OPERATION_NOT_ALLOWED"),
        ({"documentId": f"sha256:{sha256(UNLISTED)}"}, 404, "PERSISTED_DOCUMENT_NOT_FOUND"),
        ({"documentId": "not-an-id"}, 404, "PERSISTED_DOCUMENT_NOT_FOUND"),
    ],
    ids=["document", "apq-hash", "apq-registration", "document-id", "malformed-id"],
)
async def test_partner_is_refused_an_unlisted_operation(app, api, settings, body, status, code):
    key = await partner_with("mobile-app", settings, apollo_manifest(ABOUT))

    response = await api.post("/graphql", json=body, headers={"X-Api-Key": key, **GRAPHQL_RESPONSE})

    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] == code


async def test_a_partner_registration_does_not_reach_the_apq_store(app, api, settings):
    key = await partner_with("mobile-app", settings, apollo_manifest(ABOUT))
    await api.post(
        "/graphql",
        json={"query": UNLISTED, "extensions": hashed(UNLISTED)},
        headers={"X-Api-Key": key},
    )

    anonymous = await api.post("/graphql", json={"extensions": hashed(UNLISTED)})

    assert anonymous.json()["errors"][0]["message"] == "PersistedQueryNotFound"


@pytest.mark.parametrize(
    "request_body",
    [
        {"extensions": hashed(ABOUT)},
        {"documentId": f"sha256:{sha256(ABOUT)}"},
        {"documentId": sha256(ABOUT)},
        {"query": ABOUT},
    ],
    ids=["apq-hash", "document-id", "bare-sha256-id", "the-document-itself"],
)
async def test_partner_is_served_a_listed_operation(app, api, settings, request_body):
    key = await partner_with("mobile-app", settings, apollo_manifest(ABOUT))

    response = await api.post("/graphql", json=request_body, headers={"X-Api-Key": key})

    assert response.json() == {"data": {"apiVersion": "1"}}


async def test_code_generator_manifests_are_served_by_their_sha1_ids(app, api, settings):
    key = await partner_with("web-shop", settings, codegen_manifest(ABOUT, PING))

    by_get = await api.get(
        "/graphql", params={"documentId": sha1(ABOUT)}, headers={"X-Api-Key": key}
    )
    by_post = await api.post(
        "/graphql", json={"documentId": f"sha1:{sha1(PING)}"}, headers={"X-Api-Key": key}
    )
    by_apq_hash = await api.post(
        "/graphql", json={"extensions": hashed(ABOUT)}, headers={"X-Api-Key": key}
    )

    assert by_get.json() == {"data": {"apiVersion": "1"}}
    assert by_post.json() == {"data": {"ping": True}}
    assert by_apq_hash.json() == {"data": {"apiVersion": "1"}}


async def test_a_listed_mutation_by_get_is_still_refused(app, api, settings):
    key = await partner_with("web-shop", settings, codegen_manifest(PING, digest=sha256))

    response = await api.get(
        "/graphql", params={"documentId": sha256(PING)}, headers={"X-Api-Key": key}
    )

    assert response.status_code == 405


async def test_partners_run_their_operations_where_free_documents_are_off(app, settings):
    key = await partner_with("mobile-app", settings, apollo_manifest(ABOUT))
    strict = settings.model_copy(update={"allow_free_documents": False})
    view = GraphQLView(strict)
    server = Starlette(routes=[Route("/graphql", view)])
    server.state.hasher = app.state.hasher
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=server), base_url="https://testserver"
        ) as client:
            partner = await client.post(
                "/graphql", json={"extensions": hashed(ABOUT)}, headers={"X-Api-Key": key}
            )
            anonymous = await client.post("/graphql", json={"query": ABOUT})
    finally:
        await view.close()

    assert partner.json() == {"data": {"apiVersion": "1"}}
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "FREE_DOCUMENTS_DISABLED"


# ---------------------------------------------------------------------- keys


async def test_an_unknown_api_key_is_refused_with_401(app, api):
    response = await api.post(
        "/graphql",
        json={"query": ABOUT},
        headers={"X-Api-Key": "kp_not-a-key", **GRAPHQL_RESPONSE},
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_API_KEY"


async def test_api_keys_are_stored_only_hashed(app, settings):
    partner, key = await partners.add_partner("mobile-app", settings)

    stored = await Partner.get(id=partner.id)

    assert key not in (stored.key_hash, stored.key_prefix)
    assert stored.key_hash == partners.api_key_hash(key, settings)
    assert key.startswith(stored.key_prefix)


async def test_a_rotated_key_replaces_the_old_one_at_once(app, api, settings):
    old = await partner_with("mobile-app", settings, apollo_manifest(ABOUT))

    new = await partners.rotate_key("mobile-app", settings)

    body = {"extensions": hashed(ABOUT)}
    refused = await api.post("/graphql", json=body, headers={"X-Api-Key": old})
    served = await api.post("/graphql", json=body, headers={"X-Api-Key": new})
    assert refused.json()["errors"][0]["extensions"]["code"] == "INVALID_API_KEY"
    assert served.json() == {"data": {"apiVersion": "1"}}


async def test_a_revoked_partner_is_refused(app, api, settings):
    key = await partner_with("mobile-app", settings, apollo_manifest(ABOUT))

    await partners.revoke("mobile-app")

    response = await api.post(
        "/graphql", json={"extensions": hashed(ABOUT)}, headers={"X-Api-Key": key}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_API_KEY"
    with pytest.raises(partners.PartnerError, match="revoked"):
        await partners.rotate_key("mobile-app", settings)


async def test_partner_names_are_unique(app, settings):
    await partners.add_partner("mobile-app", settings)
    with pytest.raises(partners.PartnerError, match="exists already"):
        await partners.add_partner("mobile-app", settings)


# ----------------------------------------------------------------- manifests


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        (
            json.dumps(
                {
                    "format": "apollo-persisted-query-manifest",
                    "version": 1,
                    "operations": [{"id": sha256(PING), "name": "About", "body": ABOUT}],
                }
            ),
            "is not the SHA-256 of its document",
        ),
        (json.dumps({sha1(PING): ABOUT}), "is not the SHA-1 of its document"),
        (json.dumps({"my-own-id": ABOUT}), "neither a SHA-256 nor a SHA-1"),
        (codegen_manifest("query Nope { noSuchField }"), "Cannot query field 'noSuchField'"),
        (codegen_manifest("query Nope {"), "Syntax Error"),
        ("[]", "Unknown manifest format"),
        ("{not json", "not JSON"),
        (json.dumps({"format": "apollo-persisted-query-manifest", "version": 2}), "version 1"),
    ],
    ids=[
        "apollo-hash",
        "codegen-hash",
        "codegen-key",
        "invalid-document",
        "syntax",
        "format",
        "json",
        "apollo-version",
    ],
)
async def test_a_manifest_with_a_wrong_hash_or_document_is_refused_whole(
    app, settings, manifest, problem
):
    await partners.add_partner("mobile-app", settings)

    async def parse_and_upload() -> None:
        operations = partners.parse_manifest(manifest, build_schema()._schema)
        await partners.upload("mobile-app", operations)

    with pytest.raises(partners.PartnerError, match=problem):
        await parse_and_upload()

    assert await PartnerOperation.all().count() == 0


async def test_uploads_add_operations_and_replace_removes_the_rest(app, settings):
    await partner_with("mobile-app", settings, apollo_manifest(ABOUT))
    schema = build_schema()._schema

    added = await partners.upload(
        "mobile-app", partners.parse_manifest(apollo_manifest(PING), schema)
    )
    replaced = await partners.upload(
        "mobile-app", partners.parse_manifest(apollo_manifest(PING), schema), replace=True
    )

    assert added == (1, 0, 0)
    assert replaced == (0, 1, 1)
    remaining = await PartnerOperation.all().values_list("document", flat=True)
    assert remaining == [PING]


async def test_cli_refuses_a_bad_manifest_with_the_reason(app, staff, tmp_path: Path):
    assert (await staff("partner", "add", "mobile-app")).code == 0
    manifest = tmp_path / "persisted-documents.json"
    manifest.write_text(json.dumps({sha1(PING): ABOUT}))

    done = await staff("partner", "upload", "mobile-app", str(manifest))

    assert done.code == 1
    assert "is not the SHA-1 of its document" in done.stderr
