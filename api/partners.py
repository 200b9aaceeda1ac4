"""Partner apps and their trusted documents: keys, manifests, look-ups.

A partner is registered from the command line and gets an API key, shown once
and stored only as a keyed hash. It uploads its operations as a manifest, in
either of the two formats client tool chains write:

- Apollo's persisted-query manifest
  (`{"format": "apollo-persisted-query-manifest", "version": 1,
  "operations": [{"id", "name", "type", "body"}]}`), where `id` is the
  SHA-256 of `body`;
- GraphQL Code Generator's persisted documents (`{"<hash>": "<document>"}`),
  where the hash is the SHA-256 or SHA-1 (its default) of the document.

Every hash is checked against its document and every document against the
schema before anything is stored. Requests carrying the partner's key may
run only these operations.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from graphql import GraphQLError, GraphQLSchema, parse, validate
from tortoise.functions import Count
from tortoise.transactions import in_transaction

import clock
from models import Partner, PartnerOperation
from security.tokens import hash_secret, new_token
from settings import Settings

API_KEY_HEADER = "x-api-key"
KEY_PREFIX = "kp_"
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
SHA1_HEX = re.compile(r"^[0-9a-f]{40}$")
APOLLO_FORMAT = "apollo-persisted-query-manifest"


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def new_api_key() -> str:
    """`kp_` and 256 random bits; the first 12 characters are kept to tell keys apart."""
    return KEY_PREFIX + new_token()


def api_key_hash(key: str, settings: Settings) -> str:
    return hash_secret(key, settings.secret_key, scope="partner")


class PartnerError(Exception):
    """A partner command cannot be done; the message says why."""


# ----------------------------------------------------------------------- keys


async def add_partner(name: str, settings: Settings) -> tuple[Partner, str]:
    name = name.strip()
    if not name:
        raise PartnerError("A partner needs a name.")
    if await Partner.filter(name=name).exists():
        raise PartnerError(f"A partner named {name!r} exists already.")
    key = new_api_key()
    partner = await Partner.create(
        name=name, key_hash=api_key_hash(key, settings), key_prefix=key[:12]
    )
    return partner, key


async def _partner(name: str) -> Partner:
    partner = await Partner.filter(name=name).first()
    if partner is None:
        raise PartnerError(f"No partner named {name!r}.")
    return partner


async def rotate_key(name: str, settings: Settings) -> str:
    """A new key for the partner; the old one stops working at once."""
    partner = await _partner(name)
    if partner.revoked_at is not None:
        raise PartnerError(f"Partner {name!r} is revoked; add it anew under another name.")
    key = new_api_key()
    partner.key_hash = api_key_hash(key, settings)
    partner.key_prefix = key[:12]
    await partner.save(update_fields=["key_hash", "key_prefix"])
    return key


async def revoke(name: str) -> Partner:
    partner = await _partner(name)
    if partner.revoked_at is None:
        partner.revoked_at = clock.now()
        await partner.save(update_fields=["revoked_at"])
    return partner


async def partner_for_key(key: str, settings: Settings) -> Partner | None:
    """The active partner whose key this is, or None."""
    if not key.startswith(KEY_PREFIX) or len(key) > 100:
        return None
    return await Partner.filter(
        key_hash=api_key_hash(key, settings), revoked_at__isnull=True
    ).first()


# ------------------------------------------------------------------ documents


async def operation_by_hash(partner: Partner, sha256: str) -> str | None:
    row = await PartnerOperation.filter(partner_id=partner.id, sha256=sha256).first()
    return row.document if row else None


async def operation_by_id(partner: Partner, document_id: str) -> str | None:
    """By `documentId`: `sha256:<hex>` or `sha1:<hex>` (the hash prefix may be left out)."""
    algorithm, _, digest = document_id.rpartition(":")
    if algorithm in ("", "sha256") and SHA256_HEX.match(digest):
        return await operation_by_hash(partner, digest)
    if algorithm in ("", "sha1") and SHA1_HEX.match(digest):
        row = await PartnerOperation.filter(partner_id=partner.id, operation_id=digest).first()
        return row.document if row else None
    return None


@dataclass(frozen=True)
class ManifestOperation:
    sha256: str
    document: str
    operation_id: str | None  # the manifest's key when it is not the SHA-256 (Code Generator SHA-1)


def _checked(key: str, document: object, problems: list[str]) -> ManifestOperation | None:
    if not isinstance(document, str) or not document.strip():
        problems.append(f"{key}: the document is missing or not a string")
        return None
    digest = key.removeprefix("sha256:").removeprefix("sha1:")
    sha256 = sha256_hex(document)
    if SHA256_HEX.match(digest) and not key.startswith("sha1:"):
        if digest != sha256:
            problems.append(f"{key}: is not the SHA-256 of its document ({sha256})")
            return None
        return ManifestOperation(sha256, document, None)
    if SHA1_HEX.match(digest) and not key.startswith("sha256:"):
        sha1 = hashlib.sha1(document.encode()).hexdigest()  # noqa: S324 - Code Generator's id
        if digest != sha1:
            problems.append(f"{key}: is not the SHA-1 of its document ({sha1})")
            return None
        return ManifestOperation(sha256, document, digest)
    problems.append(f"{key}: is neither a SHA-256 nor a SHA-1 in lower-case hex")
    return None


def parse_manifest(text: str, schema: GraphQLSchema) -> list[ManifestOperation]:
    """The operations of a manifest, each hash and document checked; PartnerError lists problems."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise PartnerError(f"The manifest is not JSON: {error}") from error
    problems: list[str] = []
    entries: list[tuple[str, object]] = []
    if isinstance(data, dict) and data.get("format") == APOLLO_FORMAT:
        if data.get("version") != 1:
            raise PartnerError("Only version 1 of Apollo's manifest format is known.")
        operations = data.get("operations")
        if not isinstance(operations, list):
            raise PartnerError("An Apollo manifest needs an `operations` list.")
        for index, op in enumerate(operations):
            if not isinstance(op, dict) or not isinstance(op.get("id"), str):
                problems.append(f"operations[{index}]: needs an `id` and a `body`")
                continue
            entries.append((op["id"], op.get("body")))
    elif isinstance(data, dict) and all(isinstance(k, str) for k in data):
        entries = list(data.items())
    else:
        raise PartnerError(
            "Unknown manifest format: expected Apollo's persisted-query manifest or "
            "GraphQL Code Generator's {hash: document} map."
        )
    operations_found: dict[str, ManifestOperation] = {}
    for key, document in entries:
        op = _checked(key, document, problems)
        if op is None:
            continue
        try:
            errors = validate(schema, parse(op.document))
        except GraphQLError as error:
            errors = [error]
        problems.extend(f"{key}: {error.message}" for error in errors)
        if not errors:
            operations_found[op.sha256] = op
    if problems:
        raise PartnerError("The manifest was refused:\n  " + "\n  ".join(problems))
    if not operations_found:
        raise PartnerError("The manifest holds no operations.")
    return list(operations_found.values())


async def upload(
    name: str, operations: list[ManifestOperation], *, replace: bool = False
) -> tuple[int, int, int]:
    """Register operations for a partner: (added, already there, removed).

    Without `replace`, operations from earlier manifests stay, since app
    versions in the field still send them.
    """
    partner = await _partner(name)
    if partner.revoked_at is not None:
        raise PartnerError(f"Partner {name!r} is revoked.")
    async with in_transaction() as connection:
        existing = set(
            await PartnerOperation.filter(partner_id=partner.id)
            .using_db(connection)
            .values_list("sha256", flat=True)
        )
        new = [op for op in operations if op.sha256 not in existing]
        await PartnerOperation.bulk_create(
            [
                PartnerOperation(
                    partner_id=partner.id,
                    sha256=op.sha256,
                    operation_id=op.operation_id,
                    document=op.document,
                )
                for op in new
            ],
            using_db=connection,
        )
        removed = 0
        if replace:
            keep = [op.sha256 for op in operations]
            removed = (
                await PartnerOperation.filter(partner_id=partner.id)
                .exclude(sha256__in=keep)
                .using_db(connection)
                .delete()
            )
    return len(new), len(operations) - len(new), removed


async def listing() -> list[tuple[Partner, int]]:
    """Every partner with the number of its operations."""
    partners = await Partner.all().annotate(count=Count("operations")).order_by("name")
    # `count` is the annotation added above; Tortoise's model type does not know it.
    return [(p, p.count) for p in partners]  # type: ignore[attr-defined]
