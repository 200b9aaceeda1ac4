"""Per-request DataLoaders of the customer area.

Each loader is built lazily on `ctx.loaders` the first time a request
needs it, so nothing is cached across requests or users. Each batch runs one
`filter(<key>__in=keys)` and returns results in key order: a dashboard with
twenty customer numbers costs the same number of SQL statements as one.

The pages of the lists clients page through (a customer's invoices, a meter's
readings) are cut and counted by the database, one statement per batch of parents
asking for the same page (`resolvers.pages`). A meter's whole reading history is
loaded only where a rule needs all of it (the yearly consumption, the checks of a
new reading); its last reading and its reading periods come one statement per
batch, the last reading picked by the database.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.expressions import Q

from models import (
    BankAccount,
    BankChangeStatus,
    BankDetailsChange,
    BudgetChangeRequest,
    BudgetPlan,
    Customer,
    Invoice,
    InvoiceDocument,
    LoginCustomer,
    Meter,
    MeterReading,
    ReadingPeriod,
    RequestStatus,
)
from resolvers.context import Context
from resolvers.dashboard import customer_tree, tree_wanted
from resolvers.pages import Keyset, Slice, newest_first_pages

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

PeriodKey = tuple[int, str | None]
PageKey = tuple[int, int, Keyset | None]
"""A parent's id, `first` and the position to start after."""


class SharedLoader(DataLoader[K, V]):
    """A DataLoader whose loads survive the cancellation of one waiter.

    Every field that loads the same key awaits the same future. When graphql-core
    cancels one of them (a sibling in a non-null list failed), awaiting the bare
    future would cancel it for all, and the others' CancelledError would turn a
    field error into a 500. Each waiter gets its own shield instead.
    """

    def load(self, key: K) -> Awaitable[V]:
        return asyncio.shield(super().load(key))


def _loader(
    ctx: Context,
    name: str,
    load_fn: Callable[[list[K]], Awaitable[Sequence[V]]],
) -> DataLoader[K, V]:
    loaders: dict[str, Any] = ctx.loaders
    found = loaders.get(name)
    if found is None:
        found = loaders[name] = SharedLoader(load_fn=load_fn)
    return found


def forget(loader: DataLoader[K, V], key: K) -> None:
    """After a write: drop what a loader holds for `key`, so the rest of the
    response reads it anew (strawberry's `clear` fails for a key not loaded)."""
    with contextlib.suppress(KeyError):
        loader.clear(key)


@dataclass(frozen=True, slots=True)
class Loaded(Generic[V]):
    """A value a loader already holds (which may itself be None)."""

    value: V


def peek(loader: DataLoader[K, V], key: K) -> Loaded[V] | None:
    """What `loader` already holds for `key` in this request (loaded earlier, or primed by
    the dashboard read), without awaiting; None when it would have to load (or its load
    failed: then `load` raises as usual).

    A resolver that finds its data here can answer synchronously: no coroutine, no task,
    no turn of the event loop, which is most of what an awaiting field costs.
    """
    future = loader.cache_map.get(key)
    if future is None or not future.done() or future.cancelled() or future.exception():
        return None
    return Loaded(future.result())


def _grouped(rows: Sequence[V], key: Callable[[V], K], keys: Sequence[K]) -> list[list[V]]:
    groups: dict[K, list[V]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return [groups.get(k, []) for k in keys]


async def _customers_by_login(login_ids: list[int]) -> list[list[Customer]]:
    """Customer numbers held by each login, in the order they were added (first = default)."""
    links = (
        await LoginCustomer.filter(login_id__in=login_ids)
        .select_related("customer")
        .order_by("added_at", "id")
    )
    grouped = _grouped(links, lambda link: link.login_id, login_ids)
    return [[link.customer for link in group] for group in grouped]


async def _meters_by_customer(customer_ids: list[int]) -> list[list[Meter]]:
    rows = await Meter.filter(customer_id__in=customer_ids).order_by("-is_main", "number")
    return _grouped(rows, lambda m: m.customer_id, customer_ids)


async def _readings_by_meter(meter_ids: list[int]) -> list[list[MeterReading]]:
    rows = await MeterReading.filter(meter_id__in=meter_ids).order_by("-read_on", "-id")
    return _grouped(rows, lambda r: r.meter_id, meter_ids)


async def _periods_by_meter(keys: list[PeriodKey]) -> list[list[ReadingPeriod]]:
    """Periods of each meter: its own and those of its group."""
    meter_ids = [meter_id for meter_id, _ in keys]
    groups = sorted({group for _, group in keys if group})
    rows = await ReadingPeriod.filter(
        Q(meter_id__in=meter_ids) | Q(meter_group__in=groups)
    ).order_by("starts_on", "id")
    return [
        [p for p in rows if p.meter_id == meter_id or (group and p.meter_group == group)]
        for meter_id, group in keys
    ]


async def _invoice_pages(keys: list[PageKey]) -> list[Slice[Invoice]]:
    return await _pages(Invoice, "customer_id", "date", keys)


async def _reading_pages(keys: list[PageKey]) -> list[Slice[MeterReading]]:
    return await _pages(MeterReading, "meter_id", "read_on", keys)


async def _pages(model: Any, parent: str, sort: str, keys: list[PageKey]) -> list[Slice[Any]]:
    """One statement per distinct page asked for (`first`, `after`), for all its parents."""
    found: dict[PageKey, Slice[Any]] = {}
    wanted: dict[tuple[int, Keyset | None], list[int]] = defaultdict(list)
    for parent_id, first, after in keys:
        wanted[(first, after)].append(parent_id)
    for (first, after), parent_ids in wanted.items():
        slices = await newest_first_pages(model, parent, sort, parent_ids, first, after)
        for parent_id, one in zip(parent_ids, slices, strict=True):
            found[(parent_id, first, after)] = one
    return [found[key] for key in keys]


async def _last_readings_by_meter(meter_ids: list[int]) -> list[MeterReading | None]:
    """Each meter's newest reading that stands (not replaced by a correction)."""
    pages = await newest_first_pages(
        MeterReading, "meter_id", "read_on", meter_ids, 1, None, standing_only=True
    )
    return [page.rows[0] if page.rows else None for page in pages]


def customers_by_login(ctx: Context) -> DataLoader[int, list[Customer]]:
    """The login's customers; with the whole dashboard tree in one statement when the request
    asked for it (`resolvers.dashboard.want_tree`) and the database is PostgreSQL."""

    async def load(login_ids: list[int]) -> list[list[Customer]]:
        first = tree_wanted(ctx)
        if first is not None and len(login_ids) == 1 and _dialect() == "postgres":
            return [await customer_tree(ctx, login_ids[0], first)]
        return await _customers_by_login(login_ids)

    return _loader(ctx, "customers.by_login", load)


def _dialect() -> str:
    dialect: str = Customer._meta.db.capabilities.dialect
    return dialect


def meters_by_customer(ctx: Context) -> DataLoader[int, list[Meter]]:
    return _loader(ctx, "customers.meters_by_customer", _meters_by_customer)


def readings_by_meter(ctx: Context) -> DataLoader[int, list[MeterReading]]:
    return _loader(ctx, "customers.readings_by_meter", _readings_by_meter)


def invoice_pages(ctx: Context) -> DataLoader[PageKey, Slice[Invoice]]:
    return _loader(ctx, "customers.invoice_pages", _invoice_pages)


def reading_pages(ctx: Context) -> DataLoader[PageKey, Slice[MeterReading]]:
    return _loader(ctx, "customers.reading_pages", _reading_pages)


def last_readings_by_meter(ctx: Context) -> DataLoader[int, MeterReading | None]:
    return _loader(ctx, "customers.last_readings_by_meter", _last_readings_by_meter)


def periods_by_meter(
    ctx: Context,
) -> DataLoader[PeriodKey, list[ReadingPeriod]]:
    return _loader(ctx, "customers.periods_by_meter", _periods_by_meter)


def period_key(meter: Meter) -> PeriodKey:
    return (meter.id, meter.group)


# ------------------------------------------------------------------------ money


def _one_each(rows: Sequence[V], key: Callable[[V], K], keys: Sequence[K]) -> list[V | None]:
    found = {key(row): row for row in rows}
    return [found.get(k) for k in keys]


async def _documents_by_invoice(invoice_ids: list[int]) -> list[InvoiceDocument | None]:
    rows = await InvoiceDocument.filter(invoice_id__in=invoice_ids)
    return _one_each(rows, lambda d: d.invoice_id, invoice_ids)


async def _plans_by_customer(customer_ids: list[int]) -> list[BudgetPlan | None]:
    rows = await BudgetPlan.filter(customer_id__in=customer_ids)
    return _one_each(rows, lambda p: p.customer_id, customer_ids)


async def _accounts_by_customer(customer_ids: list[int]) -> list[BankAccount | None]:
    rows = await BankAccount.filter(customer_id__in=customer_ids)
    return _one_each(rows, lambda a: a.customer_id, customer_ids)


async def _open_bank_changes_by_customer(
    customer_ids: list[int],
) -> list[BankDetailsChange | None]:
    """The newest change per customer not yet decided by billing (cooling off or exported)."""
    rows = await BankDetailsChange.filter(
        customer_id__in=customer_ids,
        status__in=(BankChangeStatus.COOLING_OFF, BankChangeStatus.EXPORTED),
    ).order_by("created_at", "id")
    return _one_each(rows, lambda c: c.customer_id, customer_ids)  # the last one wins


async def _pending_requests_by_customer(
    customer_ids: list[int],
) -> list[BudgetChangeRequest | None]:
    rows = await BudgetChangeRequest.filter(
        customer_id__in=customer_ids, status=RequestStatus.PENDING
    )
    return _one_each(rows, lambda r: r.customer_id, customer_ids)


def pending_requests_by_customer(ctx: Context) -> DataLoader[int, BudgetChangeRequest | None]:
    return _loader(ctx, "money.pending_requests_by_customer", _pending_requests_by_customer)


def documents_by_invoice(ctx: Context) -> DataLoader[int, InvoiceDocument | None]:
    return _loader(ctx, "money.documents_by_invoice", _documents_by_invoice)


def plans_by_customer(ctx: Context) -> DataLoader[int, BudgetPlan | None]:
    return _loader(ctx, "money.plans_by_customer", _plans_by_customer)


def accounts_by_customer(ctx: Context) -> DataLoader[int, BankAccount | None]:
    return _loader(ctx, "money.accounts_by_customer", _accounts_by_customer)


def open_bank_changes_by_customer(ctx: Context) -> DataLoader[int, BankDetailsChange | None]:
    return _loader(ctx, "money.open_bank_changes_by_customer", _open_bank_changes_by_customer)
