"""The schema as served: `schema.build_schema` with the HTTP layer's guards around it."""

from __future__ import annotations

import strawberry

from api.errors import ApiSchema, MaskUnexpectedErrors
from api.limits import operation_guards
from api.persisted import CachedDocuments, DocumentCache, PersistedDocuments, PersistedQueries
from ops.graphql_metrics import OperationMetrics
from schema import Query, build_schema
from settings import Settings


def served_schema(
    settings: Settings, queries: PersistedQueries | None = None, *, query: type = Query
) -> strawberry.Schema:
    """Persisted documents, limits, the document cache, masking and metrics, in this order."""
    cache = DocumentCache(settings.document_cache_size)
    extensions = [
        *([lambda: PersistedDocuments(queries)] if queries is not None else []),
        *operation_guards(settings),
        lambda: CachedDocuments(cache),
        MaskUnexpectedErrors,
        OperationMetrics,
    ]
    return build_schema(query=query, extensions=extensions, schema_class=ApiSchema)
