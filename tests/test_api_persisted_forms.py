"""Persisted documents as client libraries send them: hashes with or without their
`sha256:` prefix wherever a hash is taken, and allow-listed documents recognised by
their normalised form (parsed and printed, as Apollo Client and urql send them)."""

from __future__ import annotations

import json

import pytest
from graphql import parse, print_ast

from tests.test_api_partners import (
    GRAPHQL_RESPONSE,
    api,  # noqa: F401 (fixture)
    apollo_manifest,
    partner_with,
    sha256,
)

# As a developer wrote it in the manifest: one line, odd spacing, a comment.
WRITTEN = "query Dashboard($n:Boolean=false){apiVersion@skip(if:$n) # mine\n __typename}"
PRINTED = print_ast(parse(WRITTEN))  # what Apollo Client and urql send and hash
OTHER = "query Other { apiVersion __typename }"


def apq(digest: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


@pytest.mark.parametrize("form", ["bare", "prefixed", "upper-case"])
async def test_apq_takes_the_hash_bare_or_with_its_prefix(api, form):  # noqa: F811
    document = "query About { apiVersion }"
    digest = {
        "bare": sha256(document),
        "prefixed": "sha256:" + sha256(document),
        "upper-case": sha256(document).upper(),
    }[form]

    # when the client registers the document under the hash, then sends the hash alone
    registered = await api.post("/graphql", json={"query": document, "extensions": apq(digest)})
    by_hash = await api.get("/graphql", params={"extensions": json.dumps(apq(digest))})

    # then both run
    assert registered.json() == {"data": {"apiVersion": "1"}}
    assert by_hash.json() == {"data": {"apiVersion": "1"}}


async def test_a_prefixed_hash_of_another_document_is_still_a_mismatch(api):  # noqa: F811
    body = {"query": "query About { apiVersion }", "extensions": apq("sha256:" + sha256(OTHER))}
    response = await api.post("/graphql", json=body)
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"


async def test_a_partner_document_sent_as_printed_text_is_recognised(api, settings):  # noqa: F811
    # given a partner whose manifest holds the document as its developer wrote it
    settings.allow_free_documents = False
    key = await partner_with("stadt-app", settings, apollo_manifest(WRITTEN))
    headers = {"X-Api-Key": key, **GRAPHQL_RESPONSE}

    # when its app sends the document as the client library prints it
    printed = await api.post("/graphql", json={"query": PRINTED}, headers=headers)
    # or only the hash of that printed form (Apollo's persisted-query link), prefixed or not
    by_hash = [
        await api.post("/graphql", json={"extensions": apq(digest)}, headers=headers)
        for digest in (sha256(PRINTED), "sha256:" + sha256(PRINTED))
    ]
    by_id = await api.post(
        "/graphql", json={"documentId": "sha256:" + sha256(PRINTED)}, headers=headers
    )

    # then each runs the registered operation
    for response in (printed, *by_hash, by_id):
        assert response.status_code == 200, response.text
        assert response.json()["data"]["apiVersion"] == "1"


async def test_a_partner_document_that_differs_beyond_layout_is_refused(api, settings):  # noqa: F811
    settings.allow_free_documents = False
    key = await partner_with("stadt-app", settings, apollo_manifest(WRITTEN))
    headers = {"X-Api-Key": key, **GRAPHQL_RESPONSE}
    for document in (
        PRINTED.replace("__typename", "__typename\n  a: apiVersion"),
        OTHER,
        "query {",
    ):
        response = await api.post("/graphql", json={"query": document}, headers=headers)
        assert response.status_code == 403, document
        assert response.json()["errors"][0]["extensions"]["code"] == "OPERATION_NOT_ALLOWED"


async def test_a_code_generator_manifest_with_prefixed_sha256_keys_is_accepted(api, settings):  # noqa: F811
    # given GraphQL Code Generator's persisted documents hashed with sha256 (prefixed ids)
    manifest = json.dumps({"sha256:" + sha256(PRINTED): PRINTED})
    key = await partner_with("stadt-app", settings, manifest)

    # then the app runs it by documentId, with or without the prefix
    for document_id in ("sha256:" + sha256(PRINTED), sha256(PRINTED)):
        response = await api.post(
            "/graphql", json={"documentId": document_id}, headers={"X-Api-Key": key}
        )
        assert response.json()["data"]["apiVersion"] == "1"
