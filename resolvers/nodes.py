"""Objects found by their ID alone (Relay's `node`), always through the logged-in login:
another login's object is not found, exactly as an ID that names nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from models import (
    BaseDataChange,
    BudgetChangeRequest,
    Customer,
    Invoice,
    Login,
    Meter,
    MeterReading,
    MoveOut,
    Passkey,
    Session,
)
from resolvers.accounts.sessions import live_sessions
from resolvers.auth import require_login
from resolvers.context import Context
from resolvers.customer_context import linked_customers
from resolvers.loaders import meters_by_customer

NodeRow = (
    Login
    | Customer
    | Meter
    | Invoice
    | MeterReading
    | BaseDataChange
    | BudgetChangeRequest
    | Session
    | MoveOut
    | Passkey
)


async def _customer(ctx: Context, pk: int) -> Customer | None:
    return next((c for c in await linked_customers(ctx) if c.id == pk), None)


async def _among_customers(
    ctx: Context, by_customer: Callable[[Context], Any], pk: int
) -> NodeRow | None:
    """The row with primary key `pk` among the per-customer rows of the login's customers."""
    for customer in await linked_customers(ctx):
        for row in await by_customer(ctx).load(customer.id):
            if row.id == pk:
                found: NodeRow = row
                return found
    return None


async def _meter(ctx: Context, pk: int) -> NodeRow | None:
    return await _among_customers(ctx, meters_by_customer, pk)


async def _invoice(ctx: Context, pk: int) -> NodeRow | None:
    ids = await _customer_ids(ctx)
    return await Invoice.filter(id=pk, customer_id__in=ids).first()


async def _customer_ids(ctx: Context) -> list[int]:
    return [c.id for c in await linked_customers(ctx)]


async def _reading(ctx: Context, pk: int) -> MeterReading | None:
    ids = await _customer_ids(ctx)
    return await MeterReading.filter(id=pk, meter__customer_id__in=ids).first()


async def _base_data_change(ctx: Context, pk: int) -> BaseDataChange | None:
    login = require_login(ctx)
    ids = await _customer_ids(ctx)
    return await BaseDataChange.filter(id=pk, login_id=login.id, customer_id__in=ids).first()


async def _budget_change_request(ctx: Context, pk: int) -> BudgetChangeRequest | None:
    ids = await _customer_ids(ctx)
    return await BudgetChangeRequest.filter(id=pk, customer_id__in=ids).first()


async def _session(ctx: Context, pk: int) -> Session | None:
    found = await live_sessions(ctx, pk)
    return found[0] if found else None


async def _move_out(ctx: Context, pk: int) -> MoveOut | None:
    ids = await _customer_ids(ctx)
    return await MoveOut.filter(id=pk, customer_id__in=ids).first()


async def _passkey(ctx: Context, pk: int) -> Passkey | None:
    login = require_login(ctx)
    return await Passkey.filter(id=pk, login_id=login.id).first()


async def _account(ctx: Context, pk: int) -> Login | None:
    login = require_login(ctx)
    return login if login.id == pk else None


FINDERS: dict[str, Callable[[Context, int], Awaitable[NodeRow | None]]] = {
    "Account": _account,
    "Customer": _customer,
    "Meter": _meter,
    "Invoice": _invoice,
    "Reading": _reading,
    "BaseDataChange": _base_data_change,
    "BudgetChangeRequest": _budget_change_request,
    "Session": _session,
    "MoveOut": _move_out,
    "Passkey": _passkey,
}


async def find_node(ctx: Context, type_name: str, pk: int) -> NodeRow | None:
    """The login's object of `type_name` with primary key `pk`, else None."""
    require_login(ctx)
    finder = FINDERS.get(type_name)
    return await finder(ctx, pk) if finder else None
