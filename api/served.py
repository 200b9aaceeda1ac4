"""The schema as served: `schema.build_schema` with the HTTP layer's guards around it."""

from __future__ import annotations

import strawberry

from api.errors import ApiSchema, MaskUnexpectedErrors
from api.limits import document_limits
from api.persisted import CachedDocuments, DocumentCache, PersistedDocuments, PersistedQueries
from ops.graphql_metrics import OperationMetrics
from schema import Query, build_schema
from settings import Settings


def served_schema(
    settings: Settings, queries: PersistedQueries | None = None, *, query: type = Query
) -> strawberry.Schema:
    """Persisted documents, the document cache with the limits, masking and metrics, in this
    order. Each extension costs its hooks on every operation: none wraps a field's resolver."""
    cache = DocumentCache(settings.document_cache_size)
    limits = document_limits(settings)
    extensions = [
        *([lambda: PersistedDocuments(queries)] if queries is not None else []),
        lambda: CachedDocuments(cache, limits),
        MaskUnexpectedErrors,
        OperationMetrics,
    ]
    return build_schema(query=query, extensions=extensions, schema_class=ApiSchema)
