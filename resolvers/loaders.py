"""Per-request DataLoaders of the customer area.

Each loader is built lazily on `ctx.loaders` the first time a request
needs it, so nothing is cached across requests or users. Each batch runs one
`filter(<key>__in=keys)` and returns results in key order: a dashboard with
twenty customer numbers costs the same number of SQL statements as one.

The lists loaded per parent (a customer's invoices, a meter's readings and
periods) are whole lists, newest first. They grow by a few rows a year, so one
query for a batch's whole lists, cut into pages in Python, is cheaper than a
query per page and parent; the same list serves the page, the last reading, the
yearly consumption and the checks of a new reading.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.expressions import Q

from models import Customer, Invoice, LoginCustomer, Meter, MeterReading, ReadingPeriod
from resolvers.context import Context

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

PeriodKey = tuple[int, str | None]


def _loader(
    ctx: Context,
    name: str,
    load_fn: Callable[[list[K]], Awaitable[Sequence[V]]],
) -> DataLoader[K, V]:
    loaders: dict[str, Any] = ctx.loaders
    found = loaders.get(name)
    if found is None:
        found = loaders[name] = DataLoader(load_fn=load_fn)
    return found


def forget(loader: DataLoader[K, V], key: K) -> None:
    """After a write: drop what a loader holds for `key`, so the rest of the
    response reads it anew (strawberry's `clear` fails for a key not loaded)."""
    with contextlib.suppress(KeyError):
        loader.clear(key)


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


async def _invoices_by_customer(customer_ids: list[int]) -> list[list[Invoice]]:
    rows = await Invoice.filter(customer_id__in=customer_ids).order_by("-date", "-id")
    return _grouped(rows, lambda i: i.customer_id, customer_ids)


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


def customers_by_login(ctx: Context) -> DataLoader[int, list[Customer]]:
    return _loader(ctx, "customers.by_login", _customers_by_login)


def meters_by_customer(ctx: Context) -> DataLoader[int, list[Meter]]:
    return _loader(ctx, "customers.meters_by_customer", _meters_by_customer)


def invoices_by_customer(ctx: Context) -> DataLoader[int, list[Invoice]]:
    return _loader(ctx, "customers.invoices_by_customer", _invoices_by_customer)


def readings_by_meter(ctx: Context) -> DataLoader[int, list[MeterReading]]:
    return _loader(ctx, "customers.readings_by_meter", _readings_by_meter)


def periods_by_meter(
    ctx: Context,
) -> DataLoader[PeriodKey, list[ReadingPeriod]]:
    return _loader(ctx, "customers.periods_by_meter", _periods_by_meter)


def period_key(meter: Meter) -> PeriodKey:
    return (meter.id, meter.group)
