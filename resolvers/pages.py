"""Keyset pages of the lists that grow (a customer's invoices, a meter's readings, a plan's
change requests), newest first, cut and counted by the database.

A page starts after a position (`Keyset`: the sort key and the id of the last row the
client saw), not after a number of rows: a reading that arrives between two pages goes
to the front of the list and shifts nothing behind the position, so the next page
neither repeats nor skips a row (what `limit`/`offset` did).

`newest_first_pages` serves many parents in one statement (a dashboard with twenty
customer numbers costs one statement for all their invoice pages): a window function
numbers each parent's rows after the position and counts each parent's whole list, and
only `first + 1` rows per parent come back (the extra one says whether a next page
exists). SQLite (3.25+) and PostgreSQL both run it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Keyset:
    """A position in a newest-first list: the sort key and id of the last row seen."""

    key: dt.date | dt.datetime
    id: int


@dataclass(frozen=True)
class Slice(Generic[M]):
    """One page of one parent's list: its rows, the whole list's length, whether more follow."""

    rows: list[M]
    total: int
    has_next: bool


def _placeholders(dialect: str, start: int, count: int) -> str:
    if dialect == "postgres":
        return ", ".join(f"${n}" for n in range(start, start + count))
    return ", ".join("?" for _ in range(count))


def _param(dialect: str, value: Any) -> Any:
    """Dates and times as Tortoise stores them in SQLite (ISO text, a space between date
    and time), so that they compare as text; PostgreSQL takes the value itself."""
    if dialect == "postgres":
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


async def newest_first_pages(
    model: type[M],
    parent: str,
    sort: str,
    parent_ids: Sequence[int],
    first: int,
    after: Keyset | None,
    *,
    standing_only: bool = False,
) -> list[Slice[M]]:
    """For each parent (in order) the page of `first` rows after `after` of its rows sorted by
    `sort` then id, both descending: one statement for all parents, plus one count only for a
    parent whose page after the cursor is empty (its total is unknown otherwise).
    `standing_only` leaves out readings replaced by a correction."""
    if not parent_ids:
        return []
    connection = model._meta.db
    dialect = connection.capabilities.dialect
    table = model._meta.db_table
    params: list[Any] = list(parent_ids)
    where_after = ""
    if after is not None:
        n = len(params) + 1
        if dialect == "postgres":
            where_after = f"WHERE t.{sort} < ${n} OR (t.{sort} = ${n} AND t.id < ${n + 1})"
            params += [after.key, after.id]
        else:
            where_after = f"WHERE t.{sort} < ? OR (t.{sort} = ? AND t.id < ?)"
            key = _param(dialect, after.key)
            params += [key, key, after.id]
    standing = " AND x.replaced_by_id IS NULL" if standing_only else ""
    limit = _placeholders(dialect, len(params) + 1, 1)
    params.append(first + 1)
    # Names come from the code (model, column), every value is a parameter.
    sql = (
        f"SELECT * FROM (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY t.{parent} "  # noqa: S608
        f"ORDER BY t.{sort} DESC, t.id DESC) AS page_row FROM (SELECT x.*, COUNT(*) OVER "
        f"(PARTITION BY x.{parent}) AS page_total FROM {table} x WHERE x.{parent} IN "
        f"({_placeholders(dialect, 1, len(parent_ids))}){standing}) t {where_after}) u "
        f"WHERE page_row <= {limit} ORDER BY {parent}, page_row"
    )
    _, found = await connection.execute_query(sql, params)
    grouped: dict[int, list[dict[str, Any]]] = {}
    for record in found:
        row = dict(record)
        grouped.setdefault(row[parent], []).append(row)
    slices: list[Slice[M]] = []
    for parent_id in parent_ids:
        rows = grouped.get(parent_id, [])
        if rows:
            total = int(rows[0]["page_total"])
        elif after is None:
            total = 0
        else:
            total = await model.filter(**{parent: parent_id}).count()
        shown = [_instance(model, row) for row in rows[:first]]
        slices.append(Slice(rows=shown, total=total, has_next=len(rows) > first))
    return slices


def _instance(model: type[M], row: dict[str, Any]) -> M:
    row.pop("page_row", None)
    row.pop("page_total", None)
    return model._init_from_db(**row)


async def newest_first_page(query: Any, sort: str, first: int, after: Keyset | None) -> Slice[Any]:
    """One parent's page through the ORM (`query` is a filtered QuerySet): a statement for
    the rows and one for the count. For lists read one parent at a time."""
    total = await query.count()
    if after is not None:
        before: dict[str, Any] = {f"{sort}__lt": after.key}
        tied: dict[str, Any] = {sort: after.key, "id__lt": after.id}
        query = query.filter(Q(**before) | Q(**tied))
    rows = await query.order_by(f"-{sort}", "-id").limit(first + 1)
    return Slice(rows=list(rows[:first]), total=total, has_next=len(rows) > first)
