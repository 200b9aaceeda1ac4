"""The dashboard read: a login's customer numbers with everything a portal's first page
shows, in one statement on PostgreSQL.

Why hand-written: through the loaders the dashboard costs a statement per loader (the
login's customers, invoice pages, meters, reading periods, last readings), each about
a millisecond of Python in Tortoise (building the query) and asyncpg plus a round trip,
on every page view of every customer. PostgreSQL can return the whole tree at once:
one row per customer number with its newest invoices and their total, its meters with
their reading periods and last standing reading as JSON (`json_agg` of correlated
subqueries, each on an index). The rows become the same model instances the loaders
return, and the loaders are primed with them, so the GraphQL types resolve exactly as
they do without it (the generic path stays the reference, and a test compares the
two field by field).

It runs when a request wants it (`want_tree`, called by `Query.customers` and
`Query.customer` before they load) and the database is PostgreSQL; otherwise (SQLite,
or a request that asked for nothing under the customers) the loaders run as usual,
still a constant number of statements.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from tortoise import fields as orm
from tortoise.models import Model

from models import Customer, Invoice, Meter, MeterReading, ReadingPeriod
from resolvers.context import Context
from resolvers.pages import Slice

M = TypeVar("M", bound=Model)

WISH = "dashboard.invoices_first"

TREE_SQL = """
SELECT c.*,
  (SELECT count(*) FROM invoice i WHERE i.customer_id = c.id) AS tree_invoice_total,
  (SELECT coalesce(json_agg(row_to_json(i)), '[]') FROM (
     SELECT * FROM invoice WHERE customer_id = c.id ORDER BY date DESC, id DESC LIMIT $2
   ) i) AS tree_invoices,
  (SELECT coalesce(json_agg(json_build_object(
     'meter', row_to_json(m),
     'periods', (SELECT coalesce(json_agg(row_to_json(p) ORDER BY p.starts_on, p.id), '[]')
                 FROM reading_period p
                 WHERE p.meter_id = m.id OR (m."group" IS NOT NULL AND p.meter_group = m."group")),
     'last', (SELECT row_to_json(r) FROM meter_reading r
              WHERE r.meter_id = m.id AND r.replaced_by_id IS NULL
              ORDER BY r.read_on DESC, r.id DESC LIMIT 1)
   ) ORDER BY m.is_main DESC, m.number), '[]')
   FROM meter m WHERE m.customer_id = c.id) AS tree_meters
FROM login_customer lc JOIN customer c ON c.id = lc.customer_id
WHERE lc.login_id = $1
ORDER BY lc.added_at, lc.id
"""


def want_tree(ctx: Context, invoices_first: int) -> None:
    """Ask for the whole tree when the login's customers are loaded in this request, with
    (at least) the newest `invoices_first` invoices of each."""
    ctx.loaders[WISH] = max(ctx.loaders.get(WISH, 0), invoices_first)


def tree_wanted(ctx: Context) -> int | None:
    """How many invoices per customer the tree should hold, or None for no tree."""
    wanted: int | None = ctx.loaders.get(WISH)
    return wanted


def _converter(column: orm.Field[Any]) -> Any:
    if isinstance(column, orm.DatetimeField):
        return dt.datetime.fromisoformat
    if isinstance(column, orm.DateField):
        return dt.date.fromisoformat
    if isinstance(column, orm.DecimalField):
        return Decimal
    return None


_CONVERTERS: dict[type[Model], dict[str, Any]] = {}


def from_json(model: type[M], row: dict[str, Any]) -> M:
    """A model instance from `row_to_json` output: dates, times and decimals come as text
    and numbers there, and are turned into what asyncpg would have given."""
    converters = _CONVERTERS.get(model)
    if converters is None:
        converters = _CONVERTERS[model] = {
            column.source_field or name: convert
            for name, column in model._meta.fields_map.items()
            if (convert := _converter(column)) is not None
        }
    for column, convert in converters.items():
        value = row.get(column)
        if value is not None:
            row[column] = convert(value)
    return model._init_from_db(**row)


@dataclass
class Tree:
    """What the tree statement read: the login's customers (first added first), and per
    customer its invoice page, meters, and per meter its periods and last reading."""

    customers: list[Customer] = field(default_factory=list)
    invoices: dict[int, tuple[list[Invoice], int]] = field(default_factory=dict)  # rows, total
    meters: dict[int, list[Meter]] = field(default_factory=dict)
    periods: dict[int, list[ReadingPeriod]] = field(default_factory=dict)
    last: dict[int, MeterReading | None] = field(default_factory=dict)

    def invoice_page(self, customer_id: int, first: int) -> Slice[Invoice]:
        rows, total = self.invoices[customer_id]
        return Slice(rows=rows[:first], total=total, has_next=len(rows) > first)


async def read_tree(login_id: int, invoices_first: int) -> Tree:
    """One statement (PostgreSQL only): the login's customers and what a dashboard shows."""
    connection = Customer._meta.db
    _, records = await connection.execute_query(TREE_SQL, [login_id, invoices_first + 1])
    tree = Tree()
    for record in records:
        customer = Customer._init_from_db(**{k: record[k] for k in Customer._meta.db_fields})
        tree.customers.append(customer)
        invoices = [from_json(Invoice, i) for i in json.loads(record["tree_invoices"])]
        tree.invoices[customer.id] = (invoices, int(record["tree_invoice_total"]))
        meters = tree.meters[customer.id] = []
        for item in json.loads(record["tree_meters"], parse_float=Decimal):
            meter = from_json(Meter, item["meter"])
            meters.append(meter)
            tree.periods[meter.id] = [from_json(ReadingPeriod, p) for p in item["periods"]]
            found = item["last"]
            tree.last[meter.id] = from_json(MeterReading, found) if found else None
    return tree


async def customer_tree(ctx: Context, login_id: int, invoices_first: int) -> list[Customer]:
    """The login's customers in one statement, with the loaders of what a dashboard reads
    under them primed (see the module docstring)."""
    from resolvers import loaders  # the loaders build on this module's reader

    tree = await read_tree(login_id, invoices_first)
    pages, meters = loaders.invoice_pages(ctx), loaders.meters_by_customer(ctx)
    periods, last = loaders.periods_by_meter(ctx), loaders.last_readings_by_meter(ctx)
    for customer in tree.customers:
        for first in range(invoices_first + 1):
            pages.prime((customer.id, first, None), tree.invoice_page(customer.id, first))
        meters.prime(customer.id, tree.meters[customer.id])
        for meter in tree.meters[customer.id]:
            periods.prime(loaders.period_key(meter), tree.periods[meter.id])
            last.prime(meter.id, tree.last[meter.id])
    return tree.customers
