"""Query and Mutation assembled from each area's types, and the schema built from them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry

from schema.accounts import AccountMutation, AccountQuery
from schema.context import MarkMutations
from schema.customers import CustomerMutation, CustomerQuery
from schema.meta import MetaQuery
from schema.money import MoneyMutation, MoneyQuery
from schema.moving import MovingMutation
from schema.nodes import NodeQuery
from schema.privacy import PrivacyQuery
from schema.scalars import SCALAR_OVERRIDES
from schema.second_factor import SecondFactorMutation, SecondFactorQuery


@strawberry.type(description="Entry point for reading data.")
class Query(
    MetaQuery,
    AccountQuery,
    CustomerQuery,
    PrivacyQuery,
    MoneyQuery,
    SecondFactorQuery,
    NodeQuery,
):
    pass


@strawberry.type(description="Entry point for changing data.")
class Mutation(
    AccountMutation, CustomerMutation, MoneyMutation, MovingMutation, SecondFactorMutation
):
    @strawberry.field(description="Always true; lets tools check that mutations are reachable.")
    def ping(self) -> bool:
        return True


def build_schema(
    *,
    query: type = Query,
    extensions: Sequence[Any] = (),
    schema_class: type[strawberry.Schema] = strawberry.Schema,
) -> strawberry.Schema:
    """The schema. Bare (no `extensions`) it serves its SDL and its descriptions; `api/`
    builds the served one with its guards (persisted documents, limits, masking).

    `query` lets tests add fields to the real Query type.
    """
    return schema_class(
        query=query,
        mutation=Mutation,
        scalar_overrides=SCALAR_OVERRIDES,
        extensions=[MarkMutations, *extensions],
    )
