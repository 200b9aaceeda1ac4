"""Relay's Global Object Identification: `node(id:)` and `nodes(ids:)` find any object with
an ID again, through the logged-in login only. An ID that is malformed, names nothing, or
names another login's object gives null alike, so nothing is revealed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import strawberry

from models.errors import PublicError
from models.request_codes import MAX_PAGE_SIZE, PageErrorCode
from resolvers import nodes
from resolvers.context import Context
from resolvers.customer_context import linked_customers
from schema.accounts import AccountType, SessionType
from schema.context import Info
from schema.customer_types import (
    BaseDataChangeType,
    CustomerType,
    InvoiceType,
    MeterType,
    MoveOutType,
    ReadingType,
)
from schema.ids import Node, decode_any_id
from schema.money_types import BudgetChangeRequestType
from schema.second_factor import PasskeyType


async def _customer_number(ctx: Context, row: Any) -> str:
    customers = await linked_customers(ctx)
    return next(c.number for c in customers if c.id == row.customer_id)


async def _base_data_change(ctx: Context, row: Any) -> BaseDataChangeType:
    return BaseDataChangeType.from_model(row, await _customer_number(ctx, row))


async def _session(ctx: Context, row: Any) -> SessionType:
    return SessionType.from_model(row, ctx.session.id if ctx.session else None)


def _plain(from_model: Callable[[Any], Node]) -> Callable[[Context, Any], Any]:
    async def convert(ctx: Context, row: Any) -> Node:
        return from_model(row)

    return convert


async def _move_out(ctx: Context, row: Any) -> MoveOutType:
    return MoveOutType.from_model(row, ctx.settings.final_reading_window_days)


async def _account(ctx: Context, row: Any) -> AccountType:
    customers = await linked_customers(ctx)
    return AccountType.from_model(row, [c.number for c in customers])


TYPES: dict[str, Callable[[Context, Any], Any]] = {
    "Customer": _plain(CustomerType.from_model),
    "Meter": _plain(MeterType.from_model),
    "Invoice": _plain(InvoiceType.from_model),
    "Reading": _plain(ReadingType.from_model),
    "BaseDataChange": _base_data_change,
    "BudgetChangeRequest": _plain(BudgetChangeRequestType.from_model),
    "Session": _session,
    "Account": _account,
    "MoveOut": _move_out,
    "Passkey": _plain(PasskeyType.from_model),
}


async def _node(ctx: Context, id: str) -> Node | None:
    decoded = decode_any_id(id)
    if decoded is None or decoded[0] not in TYPES:
        return None
    type_name, pk = decoded
    row = await nodes.find_node(ctx, type_name, pk)
    if row is None:
        return None
    node: Node = await TYPES[type_name](ctx, row)
    return node


NodeIds = Annotated[
    list[strawberry.ID],
    strawberry.argument(description=f"The IDs, at most {MAX_PAGE_SIZE}."),
]


@strawberry.type
class NodeQuery:
    @strawberry.field(
        description="The object with this ID, if it is the login's; null for an ID that is "
        "malformed, unknown or another login's."
    )
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="An object's opaque ID.")],
    ) -> Node | None:
        return await _node(info.context, id)

    @strawberry.field(
        description="The objects with these IDs, in the order given; null in place of each ID "
        "that `node` would answer null for. TOO_MANY_IDS error beyond the page-size maximum."
    )
    async def nodes(self, info: Info, ids: NodeIds) -> list[Node | None]:
        if len(ids) > MAX_PAGE_SIZE:
            raise PublicError(
                PageErrorCode.TOO_MANY_IDS, info.context.locale, maximum=MAX_PAGE_SIZE
            )
        found = []
        for id in ids:  # one after another: the loaders batch within the request anyway
            found.append(await _node(info.context, id))
        return found
