"""The GraphQL schema: Query and Mutation assembled from each area's resolvers."""

from __future__ import annotations

import strawberry

from resolvers.meta import MetaQuery
from resolvers.privacy import PrivacyQuery


@strawberry.type(description="Entry point for reading data.")
class Query(MetaQuery, PrivacyQuery):
    pass


@strawberry.type(description="Entry point for changing data.")
class Mutation:
    @strawberry.field(description="Always true; lets tools check that mutations are reachable.")
    def ping(self) -> bool:
        return True


def build_schema(extensions: list | None = None) -> strawberry.Schema:
    return strawberry.Schema(query=Query, mutation=Mutation, extensions=extensions or [])
