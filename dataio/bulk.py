"""Set-based SQL for the import: batched look-ups and batched upserts.

One statement handles thousands of rows: on PostgreSQL the values travel as one
array per column and are spread by `unnest`, so the statement text (and its
prepared plan) is the same for every batch; on SQLite as a multi-row `VALUES`.
Both databases understand `INSERT … ON CONFLICT (key) DO UPDATE … WHERE changed`,
which makes a re-import of unchanged data write nothing.

Statements are put together from table and column names written in the code,
never from a file's content; every value travels as a parameter.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import OperationalError

from settings import ConfigurationError

T = TypeVar("T")

POSTGRES_BATCH = 5_000
SQLITE_VARIABLES = 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def quote(name: str) -> str:
    return f'"{name}"'


class UnsupportedDatabase(ConfigurationError):
    """The import speaks SQLite and PostgreSQL through asyncpg (`postgres://`)."""


class BatchRefused(Exception):
    """The database refused a batch: a rule the checks before writing did not foresee."""

    def __init__(self, lines: Sequence[int], error: Exception) -> None:
        super().__init__(str(error))
        self.first_line = min(lines)
        self.last_line = max(lines)
        self.error = error


@dataclass(frozen=True)
class Upsert:
    """`INSERT … ON CONFLICT (conflict) [WHERE index predicate] DO UPDATE` for one table.

    `columns` come from each row, `constants` are the same for every row of a call
    (time stamps, defaults the DDL does not have) and are written on insert only,
    except those named in `touch`, which an update sets too (`updated_at`). An
    update happens only when one of the `update` columns differs.
    """

    table: str
    columns: tuple[tuple[str, str], ...]  # (column, PostgreSQL type)
    conflict: tuple[str, ...]
    update: tuple[str, ...]
    where: str = ""
    constants: tuple[tuple[str, str], ...] = ()
    touch: tuple[str, ...] = ()

    def _tail(self, excluded: str, distinct: str) -> str:
        target = ", ".join(quote(c) for c in self.conflict)
        where = f" WHERE {self.where}" if self.where else ""
        sets = ", ".join(f"{quote(c)} = {excluded}.{quote(c)}" for c in (*self.update, *self.touch))
        old = ", ".join(f"{quote(self.table)}.{quote(c)}" for c in self.update)
        new = ", ".join(f"{excluded}.{quote(c)}" for c in self.update)
        return (
            f" ON CONFLICT ({target}){where} DO UPDATE SET {sets} WHERE ({old}) {distinct} ({new})"
        )

    def _names(self) -> str:
        return ", ".join(quote(c) for c, _ in (*self.columns, *self.constants))

    def postgres_sql(self) -> str:
        arrays = ", ".join(f"${i}::{t}[]" for i, (_, t) in enumerate(self.columns, start=1))
        first = len(self.columns) + 1
        constants = "".join(f", ${i}::{t}" for i, (_, t) in enumerate(self.constants, start=first))
        # The count of written rows comes back as one row: the command tag of an
        # INSERT, which Tortoise reads for a row count, names an OID there.
        return (
            f"WITH written AS (INSERT INTO {quote(self.table)} ({self._names()})"  # noqa: S608
            f" SELECT u.*{constants} FROM unnest({arrays}) AS u"
            + self._tail("EXCLUDED", "IS DISTINCT FROM")
            + " RETURNING 1) SELECT count(*) AS written FROM written"
        )

    def sqlite_sql(self, rows: int) -> str:
        one = "(" + ", ".join("?" * (len(self.columns) + len(self.constants))) + ")"
        return (
            f"INSERT INTO {quote(self.table)} ({self._names()}) VALUES "  # noqa: S608
            + ", ".join([one] * rows)
            + self._tail("excluded", "IS NOT")
        )


class Bulk:
    """Look-ups and upserts of many rows on one (transaction's) connection."""

    def __init__(self, connection: BaseDBAsyncClient) -> None:
        self.connection = connection
        module = type(connection).__module__
        if connection.capabilities.dialect == "sqlite":
            self.postgres = False
        elif module.startswith("tortoise.backends.asyncpg"):
            self.postgres = True
        else:
            raise UnsupportedDatabase(
                "the import needs SQLite or PostgreSQL through asyncpg (postgres://)"
            )

    async def select_in(
        self, sql: str, keys: Iterable[Any], *extra: Any, batch: int = 5_000
    ) -> list[dict[str, Any]]:
        """Rows of `sql` (a SELECT, or an UPDATE for its effect) for all `keys`, in batches.

        `sql` contains `{keys}` where the key column's match goes (`= ANY($1)` or
        `IN (?, …)`) and `{p1}`, `{p2}`, … for the `extra` parameters.
        """
        found: list[dict[str, Any]] = []
        unique = list(dict.fromkeys(keys))
        for chunk in chunks(unique, batch):
            if self.postgres:
                marks = {f"p{i}": f"${i + 1}" for i in range(1, len(extra) + 1)}
                query = sql.format(keys="= ANY($1)", **marks)
                values: list[Any] = [list(chunk), *extra]
            else:
                marks = {f"p{i}": "?" for i in range(1, len(extra) + 1)}
                query = sql.format(keys="IN (" + ", ".join("?" * len(chunk)) + ")", **marks)
                values = [*chunk, *extra]
            found.extend(await self.connection.execute_query_dict(query, values))
        return found

    async def upsert(
        self,
        upsert: Upsert,
        rows: Sequence[tuple],
        lines: Sequence[int],
        constants: tuple = (),
        *,
        advance: Any = None,
    ) -> int:
        """Write all rows in batches; returns how many were inserted or changed."""
        written = 0
        if self.postgres:
            size = POSTGRES_BATCH
            sql = upsert.postgres_sql()
        else:
            size = max(1, min(2_000, SQLITE_VARIABLES // (len(upsert.columns) + len(constants))))
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            if self.postgres:
                values: list[Any] = [list(column) for column in zip(*batch, strict=True)] + list(
                    constants
                )
            else:
                sql = upsert.sqlite_sql(len(batch))
                values = [value for row in batch for value in (*row, *constants)]
            try:
                if self.postgres:
                    result = await self.connection.execute_query_dict(sql, values)
                    count = result[0]["written"]
                else:
                    count, _ = await self.connection.execute_query(sql, values)
            except OperationalError as error:
                raise BatchRefused(lines[start : start + size], error) from error
            written += count
            if advance:
                advance(len(batch))
        return written
