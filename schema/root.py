"""Query and Mutation assembled from each area's resolvers, and the served schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from resolvers.accounts import AccountMutation, AccountQuery
from resolvers.meta import MetaQuery
from resolvers.privacy import PrivacyQuery
from schema.customers import CustomerMutation, CustomerQuery

if TYPE_CHECKING:
    from api.persisted import PersistedQueries
    from settings import Settings


@strawberry.type(description="Entry point for reading data.")
class Query(MetaQuery, AccountQuery, CustomerQuery, PrivacyQuery):
    pass


@strawberry.type(description="Entry point for changing data.")
class Mutation(AccountMutation, CustomerMutation):
    @strawberry.field(description="Always true; lets tools check that mutations are reachable.")
    def ping(self) -> bool:
        return True


def build_schema(
    settings: Settings | None = None,
    queries: PersistedQueries | None = None,
    *,
    query: type = Query,
) -> strawberry.Schema:
    """The schema; with `settings`, guarded as served (persisted documents, limits, masking).

    Without settings it is the bare schema, for its SDL and its descriptions.
    `query` lets tests add fields to the real Query type.
    """
    # Imported here: these modules import `schema.errors`, which imports this package.
    from api.errors import ApiErrorCode, ApiSchema, MaskUnexpectedErrors
    from api.limits import operation_guards, validation_budget
    from api.persisted import CachedDocuments, DocumentCache, PersistedDocuments
    from ops.graphql_metrics import OperationMetrics
    from resolvers.auth import RequestErrorCode

    extensions: list = []
    if settings is not None:
        cache = DocumentCache(settings.document_cache_size)
        extensions = [
            *([lambda: PersistedDocuments(queries)] if queries is not None else []),
            *operation_guards(settings),
            lambda: CachedDocuments(cache),
            *validation_budget(settings),
            MaskUnexpectedErrors,
            OperationMetrics,
        ]
    # The codes of `errors[].extensions.code` are returned by no field: listed here, they are
    # part of the schema, so of GraphiQL's documentation and of schema.graphql.
    error_codes = [ApiErrorCode, RequestErrorCode]
    return ApiSchema(query=query, mutation=Mutation, types=error_codes, extensions=extensions)
