"""Persisted documents: Apollo's automatic persisted queries, partners' trusted documents,
and a cache that spares known documents parsing and validation.

A request names its document in one of four ways:

- `query`: a free document. Allowed for clients without a partner key only
  while `allow_free_documents` is on; a partner may send it only when it is
  one of the partner's operations, byte for byte or once normalised (parsed
  and printed, as Apollo Client and urql send it).
- `extensions.persistedQuery = {version: 1, sha256Hash}` (bare hex or
  `sha256:<hex>`, as Code Generator's ids are) without `query`
  (Apollo APQ, by POST or GET): the document registered under that hash, or
  `PersistedQueryNotFound`. For a partner: its operation with that hash.
- the same with `query`: registers the document under the hash after checking
  the hash and validating the document (rate-limited per client address by
  the app's one rate limiter, `security/ratelimit.py`).
- `documentId` (top level, or GET parameter; `sha256:<hex>`, `sha1:<hex>` or
  the bare hex): a partner's operation from its uploaded manifest.

`PersistedDocuments.on_operation` settles which, and fills
`execution_context.query` before strawberry parses it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from graphql import DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from api.errors import (
    ApiErrorCode,
    locale_of,
    mask,
    persisted_query_not_found,
    request_error,
)
from api.limits import DocumentLimits
from api.partners import (
    API_KEY_HEADER,
    operation_by_hash,
    operation_by_id,
    operation_by_text,
    partner_for_key,
    sha256_hex,
    sha256_of_hash,
)
from models import Partner
from models.request_codes import RequestErrorCode
from security.ratelimit import Limits, rate_limiter
from settings import Settings

log = logging.getLogger("kundenportal.api")

DOCUMENT_ID = "documentId"


class _LRU:
    """A bounded mapping that forgets the least recently used entry first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[str, Any] = OrderedDict()

    def get(self, key: str) -> Any:
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key: str, value: Any) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


# ---------------------------------------------------------------- APQ store


class DocumentStore(Protocol):
    async def get(self, sha256: str) -> str | None: ...
    async def put(self, sha256: str, document: str) -> None: ...
    async def close(self) -> None: ...


class MemoryStore:
    """Registered APQ documents of this process, bounded (least recently used go first)."""

    def __init__(self, size: int) -> None:
        self.lru = _LRU(size)

    async def get(self, sha256: str) -> str | None:
        return self.lru.get(sha256)

    async def put(self, sha256: str, document: str) -> None:
        self.lru.put(sha256, document)

    async def close(self) -> None:
        pass


class RedisStore:
    """Registered APQ documents in Redis, so every app process sees a registration.

    Entries expire when unused for `ttl` seconds; each hit renews them. A hash
    names its document for good, so each process also keeps the documents it
    has seen (fewer round trips). Redis away: the store answers "not found",
    and Apollo clients send the document again, which then runs — the API
    stays up, only slower.
    """

    def __init__(self, client: Any, prefix: str, ttl: int, near_size: int = 1000) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl = ttl
        self.near = _LRU(near_size)

    async def get(self, sha256: str) -> str | None:
        if (document := self.near.get(sha256)) is not None:
            return document
        try:
            value = await self.client.getex(self.prefix + sha256, ex=self.ttl)
        except Exception as error:
            log.warning("persisted-query store unavailable: %s", type(error).__name__)
            return None
        if value is None:
            return None
        self.near.put(sha256, value.decode())
        return value.decode()

    async def put(self, sha256: str, document: str) -> None:
        self.near.put(sha256, document)
        try:
            await self.client.set(self.prefix + sha256, document.encode(), ex=self.ttl)
        except Exception as error:
            log.warning("persisted-query store unavailable: %s", type(error).__name__)

    async def close(self) -> None:
        await self.client.aclose()


@dataclass
class PersistedQueries:
    """What the persisted-document extensions share across requests of one app."""

    settings: Settings
    store: DocumentStore

    @classmethod
    def from_settings(cls, settings: Settings) -> PersistedQueries:
        store: DocumentStore
        if settings.redis_url:
            from redis.asyncio import Redis

            timeout = settings.redis_timeout_seconds
            client = Redis.from_url(
                settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
            store = RedisStore(client, settings.apq_redis_prefix, settings.apq_ttl_seconds)
        else:
            store = MemoryStore(settings.apq_cache_size)
        return cls(settings, store)

    async def close(self) -> None:
        await self.store.close()


# ---------------------------------------------------------------- extension


# Why `extensions.persistedQuery` is refused, in German and English: the message (and
# `extensions.reason`) speak the request's language throughout.
_NOT_AN_OBJECT = ("muss ein Objekt sein", "must be an object")
_WRONG_VERSION = ("version muss 1 sein", "version must be 1")
_BAD_HASH = (
    "sha256Hash muss aus 64 Hexadezimalziffern bestehen, allein oder als sha256:<hex>",
    "sha256Hash must be 64 hex digits, bare or as sha256:<hex>",
)


def _invalid(reason: tuple[str, str], locale: str) -> GraphQLError:
    german, english = reason
    return request_error(
        ApiErrorCode.PERSISTED_QUERY_INVALID,
        locale,
        reason=english if locale == "en" else german,
    )


def _persisted_query(extensions: dict[str, Any], locale: str) -> str | None:
    """The APQ hash the request names, checked for form; None when it names none."""
    pq = extensions.get("persistedQuery")
    if pq is None:
        return None
    if not isinstance(pq, dict):
        raise _invalid(_NOT_AN_OBJECT, locale)
    if pq.get("version") != 1:
        raise _invalid(_WRONG_VERSION, locale)
    sha = pq.get("sha256Hash")
    digest = sha256_of_hash(sha) if isinstance(sha, str) else None
    if digest is None:
        raise _invalid(_BAD_HASH, locale)
    return digest


class PersistedDocuments(SchemaExtension):
    """Settles the document of a request (see the module's docstring); first in the list."""

    def __init__(self, queries: PersistedQueries) -> None:
        self.queries = queries
        self.register: tuple[str, str] | None = None

    async def on_operation(self) -> AsyncIterator[None]:
        ec = self.execution_context
        try:
            ec.query = await self._document(ec)
        except GraphQLError:
            raise
        except Exception as error:  # an outage (database, Redis) must not leak its text
            raise mask(GraphQLError(str(error), original_error=error), locale_of(ec)) from error
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        yield
        ec = self.execution_context
        if self.register and not ec.pre_execution_errors:
            sha, document = self.register
            try:
                await self.queries.store.put(sha, document)
            except Exception:  # the operation can still run; the client will resend
                log.warning("could not store persisted query %s", sha, exc_info=True)

    async def _document(self, ec: ExecutionContext) -> str | None:
        context = ec.context
        locale = locale_of(ec)
        settings = self.queries.settings
        extensions = ec.operation_extensions or {}
        sha = _persisted_query(extensions, locale)
        document_id = extensions.get(DOCUMENT_ID)
        query = ec.query
        if query is not None and sha is not None and sha256_hex(query) != sha:
            raise request_error(ApiErrorCode.PERSISTED_QUERY_HASH_MISMATCH, locale)

        key = context.request.headers.get(API_KEY_HEADER)
        if key is not None:
            partner = await partner_for_key(key, settings)
            if partner is None:
                raise request_error(ApiErrorCode.INVALID_API_KEY, locale)
            context.request.state.partner = partner.name
            return await self._partner_document(partner, query, sha, document_id, locale)

        if document_id is not None:
            raise request_error(ApiErrorCode.PERSISTED_DOCUMENT_NOT_FOUND, locale)
        if query is not None:
            if not settings.free_documents_allowed:
                raise request_error(ApiErrorCode.FREE_DOCUMENTS_DISABLED, locale)
            if sha is not None and await self.queries.store.get(sha) is None:
                decision = await rate_limiter(context.request.app.state, settings).hit(
                    Limits.persisted_query_registrations_per_address(settings),
                    context.client_address,
                )
                if not decision.allowed:
                    raise request_error(
                        RequestErrorCode.RATE_LIMITED,
                        locale,
                        retryAfter=decision.retry_after_seconds,
                    )
                self.register = (sha, query)
            return query
        if sha is not None:
            stored = await self.queries.store.get(sha)
            if stored is None:
                raise persisted_query_not_found()
            return stored
        return None

    async def _partner_document(
        self,
        partner: Partner,
        query: str | None,
        sha: str | None,
        document_id: Any,
        locale: str,
    ) -> str | None:
        """A partner runs only its own operations: by hash, by documentId or as the document."""
        if query is not None:
            document = await operation_by_text(partner, query)
            if document is None:
                raise request_error(ApiErrorCode.OPERATION_NOT_ALLOWED, locale)
            return document
        if sha is not None:
            document = await operation_by_hash(partner, sha)
            if document is None:
                raise request_error(ApiErrorCode.OPERATION_NOT_ALLOWED, locale)
            return document
        if document_id is not None:
            document = (
                await operation_by_id(partner, document_id)
                if isinstance(document_id, str)
                else None
            )
            if document is None:
                raise request_error(ApiErrorCode.PERSISTED_DOCUMENT_NOT_FOUND, locale)
            return document
        return None


# ------------------------------------------------------------ document cache


@dataclass
class _Entry:
    document: DocumentNode
    errors: tuple[GraphQLError, ...] | None = None


class DocumentCache:
    """Parsed documents and their validation outcome, keyed by the document's SHA-256.

    One per schema: validation depends on the schema and its rules (limits,
    introspection), which are fixed when the schema is built.
    """

    def __init__(self, size: int) -> None:
        self.lru = _LRU(size)

    def get(self, sha: str) -> _Entry | None:
        return self.lru.get(sha)

    def put(self, sha: str, entry: _Entry) -> None:
        self.lru.put(sha, entry)


def _mark(ec: ExecutionContext, stage: str) -> None:
    """Tell the HTTP view how far the request got, for its status codes and error codes."""
    request = getattr(ec.context, "request", None)
    if request is not None:
        request.state.graphql_stage = stage


class CachedDocuments(SchemaExtension):
    """Persisted and repeated documents skip parsing and validation after the first time;
    the first time, `limits` bound them (tokens, rules, validation budget)."""

    def __init__(self, cache: DocumentCache, limits: DocumentLimits) -> None:
        self.cache = cache
        self.limits = limits
        self.sha: str | None = None
        self.entry: _Entry | None = None

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        self.limits.prepare(ec)
        if ec.query is not None:
            self.sha = sha256_hex(ec.query)
            self.entry = self.cache.get(self.sha)
            if self.entry is not None:
                ec.graphql_document = self.entry.document
        yield
        if ec.graphql_document is not None:
            _mark(ec, "parsed")
            if self.entry is None and self.sha is not None:
                self.entry = _Entry(ec.graphql_document)
                self.cache.put(self.sha, self.entry)

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        cached = self.entry.errors if self.entry is not None else None
        if cached is not None:
            ec.pre_execution_errors = list(cached)
        elif ec.pre_execution_errors is None and ec.graphql_document is not None:
            refusal = self.limits.over_budget(ec.graphql_document)
            if refusal is not None:
                ec.pre_execution_errors = [refusal]
        yield
        if self.entry is not None and cached is None:
            self.entry.errors = tuple(ec.pre_execution_errors or ())
        if not ec.pre_execution_errors:
            _mark(ec, "validated")
