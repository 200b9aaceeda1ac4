"""Migrations build the schema the models describe, from empty, and running them again changes
nothing.

The schema the models describe is what Tortoise's schema generator creates in a second empty
database, plus the models' `Meta.constraints` (the generator leaves them out). The two
databases are compared by introspection — tables, columns with type and nullability, foreign
keys, unique keys and indexes by their columns (and predicate), check constraints — so that a
migration that drops or forgets any of them fails here, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import pkgutil
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from tortoise import Model, Tortoise
from tortoise.connection import connections
from tortoise.migrations.constraints import CheckConstraint, UniqueConstraint
from tortoise.migrations.operations import RunSQL

import db
import migrations
import models
from tests.conftest import _postgres, is_postgres

MODELS = [m for m in vars(models).values() if isinstance(m, type) and issubclass(m, Model)]

# Tables of the migration machinery itself, not of the models.
NOT_MODELS = {"tortoise_migrations", "sqlite_sequence"}


@pytest.fixture
def empty_databases(database_url: str, tmp_path: Any) -> Iterator[Any]:
    """Make empty databases of the run's kind (SQLite files, or PostgreSQL databases)."""
    made: list[str] = []

    def make() -> str:
        if not is_postgres(database_url):
            return f"sqlite://{tmp_path / f'empty_{uuid.uuid4().hex[:8]}.sqlite3'}"
        name = f"kp_empty_{uuid.uuid4().hex[:10]}"
        parts = urlsplit(database_url)
        url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
        asyncio.run(_postgres(url, f'CREATE DATABASE "{name}"'))
        made.append(name)
        return url

    yield make
    for name in made:
        asyncio.run(_postgres(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# ------------------------------------------------------------------ what a database holds


@dataclass
class Schema:
    """A database's structure, with the names that legitimately differ left out."""

    columns: dict[str, dict[str, tuple[str, bool]]] = field(default_factory=dict)
    foreign_keys: set[tuple[str, ...]] = field(default_factory=set)
    # (table, columns, unique, predicate) -> index name
    indexes: dict[tuple[str, tuple[str, ...], bool, str], str] = field(default_factory=dict)
    checks: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, name) -> expr


def _flat(sql: str | None) -> str:
    """An SQL fragment with quotes and spacing normalised, for comparing text."""
    return re.sub(r"\s+", " ", (sql or "").replace('"', "")).strip()


def _sqlite_checks(create_table: str) -> Iterator[tuple[str, str]]:
    for match in re.finditer(r'CONSTRAINT\s+"?(\w+)"?\s+CHECK\s*\(', create_table, re.I):
        depth, start = 1, match.end()
        end = start
        while depth:
            depth += {"(": 1, ")": -1}.get(create_table[end], 0)
            end += 1
        yield match.group(1), _flat(create_table[start : end - 1])


async def _sqlite_schema(conn: Any) -> Schema:
    schema = Schema()
    _, tables = await conn.execute_query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name"
    )
    for table in tables:
        name = table["name"]
        if name in NOT_MODELS:
            continue
        _, columns = await conn.execute_query(f'PRAGMA table_info("{name}")')
        schema.columns[name] = {
            c["name"]: (c["type"].upper(), not c["notnull"] and not c["pk"]) for c in columns
        }
        _, keys = await conn.execute_query(f'PRAGMA foreign_key_list("{name}")')
        for key in keys:
            schema.foreign_keys.add(
                (name, key["from"], key["table"], key["to"], key["on_delete"].upper())
            )
        _, indexes = await conn.execute_query(f'PRAGMA index_list("{name}")')
        for index in indexes:
            if index["origin"] == "pk":
                continue
            _, parts = await conn.execute_query(f'PRAGMA index_info("{index["name"]}")')
            _, found = await conn.execute_query(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
                [index["name"]],
            )
            sql = found[0]["sql"] if found else None
            predicate = _flat(sql.split(" WHERE ", 1)[1]) if sql and " WHERE " in sql else ""
            key = (name, tuple(p["name"] for p in parts), bool(index["unique"]), predicate)
            schema.indexes[key] = index["name"]
        for check_name, expr in _sqlite_checks(table["sql"]):
            schema.checks[(name, check_name)] = expr
    return schema


async def _postgres_schema(conn: Any) -> Schema:
    schema = Schema()
    _, columns = await conn.execute_query(
        """SELECT c.relname AS table_name, a.attname AS column_name,
                  format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0
             AND NOT a.attisdropped"""
    )
    for column in columns:
        if column["table_name"] in NOT_MODELS:
            continue
        table = schema.columns.setdefault(column["table_name"], {})
        table[column["column_name"]] = (column["type"].upper(), column["nullable"])
    _, constraints = await conn.execute_query(
        """SELECT c.relname AS table_name, k.conname AS name, k.contype::text AS kind,
                  pg_get_constraintdef(k.oid) AS definition
           FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND k.contype IN ('c', 'f')"""
    )
    for constraint in constraints:
        if constraint["table_name"] in NOT_MODELS:
            continue
        if constraint["kind"] == "c":
            key = (constraint["table_name"], constraint["name"])
            schema.checks[key] = _flat(constraint["definition"])
        else:
            schema.foreign_keys.add((constraint["table_name"], _flat(constraint["definition"])))
    _, indexes = await conn.execute_query(
        """SELECT t.relname AS table_name, i.relname AS name, x.indisunique AS is_unique,
                  coalesce(pg_get_expr(x.indpred, x.indrelid), '') AS predicate,
                  array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY AS k(num, pos)
                        JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.num
                        ORDER BY k.pos) AS columns
           FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
           JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
           WHERE n.nspname = 'public' AND NOT x.indisprimary"""
    )
    for index in indexes:
        if index["table_name"] in NOT_MODELS:
            continue
        key = (
            index["table_name"],
            tuple(index["columns"]),
            index["is_unique"],
            _flat(index["predicate"]),
        )
        schema.indexes[key] = index["name"]
    return schema


async def _read_schema(url: str) -> Schema:
    async with db.database(url):
        conn = connections.get("default")
        return await (_postgres_schema(conn) if is_postgres(url) else _sqlite_schema(conn))


# ------------------------------------------------------- the two ways to build a database


def _column(model: Any, name: str) -> str:
    projection = model._meta.fields_db_projection
    return projection.get(name) or projection[f"{name}_id"]


@contextlib.contextmanager
def enum_db_defaults_as_values() -> Iterator[None]:
    """Tortoise 1.1.9's schema generator finds the encoder of a column default by its exact
    type, so an enum member as `db_default` fails on SQLite; a migration writes its value.
    Give the generator the value for the time it runs."""
    changed = []
    for model in MODELS:
        for model_field in model._meta.fields_map.values():
            default = getattr(model_field, "db_default", None)
            if isinstance(default, Enum):
                changed.append((model_field, default))
                model_field.db_default = default.value
    try:
        yield
    finally:
        for model_field, default in changed:
            model_field.db_default = default


async def _create_from_models(url: str) -> list[tuple[str, CheckConstraint]]:
    """The schema generator's tables, with the models' `Meta.constraints` added where the
    database allows; returns the check constraints SQLite cannot add to an existing table."""
    unapplied: list[tuple[str, CheckConstraint]] = []
    async with db.database(url):
        with enum_db_defaults_as_values():
            await Tortoise.generate_schemas(safe=False)
        conn = connections.get("default")
        for model in MODELS:
            table = model._meta.db_table
            for constraint in model._meta.constraints:
                if isinstance(constraint, CheckConstraint) and not is_postgres(url):
                    unapplied.append((table, constraint))
                elif isinstance(constraint, CheckConstraint):
                    await conn.execute_script(
                        f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint.name}" '
                        f"CHECK ({constraint.check})"
                    )
                elif isinstance(constraint, UniqueConstraint):
                    columns = ", ".join(f'"{_column(model, f)}"' for f in constraint.fields)
                    where = f" WHERE {constraint.condition}" if constraint.condition else ""
                    await conn.execute_script(
                        f'CREATE UNIQUE INDEX "{constraint.name or uuid.uuid4().hex}" '
                        f'ON "{table}" ({columns}){where}'
                    )
    return unapplied


async def _models_schema(url: str) -> Schema:
    unapplied = await _create_from_models(url)
    schema = await _read_schema(url)
    for table, check in unapplied:
        schema.checks[(table, check.name)] = _flat(check.check)
    return schema


def indexes_written_as_sql() -> set[str]:
    """Names of the indexes the migrations create in raw SQL (and do not drop again): the
    models cannot describe them (partial unique indexes), so they are checked by name."""
    names: dict[str, None] = {}
    for module in sorted(m.name for m in pkgutil.iter_modules(migrations.__path__)):
        migration = importlib.import_module(f"migrations.{module}").Migration
        for operation in migration.operations:
            if not isinstance(operation, RunSQL):
                continue
            statements = (
                operation.sql if isinstance(operation.sql, list | tuple) else [operation.sql]
            )
            for statement in statements:
                sql = statement[0] if isinstance(statement, tuple) else statement
                for made in re.findall(
                    r'CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF NOT EXISTS\s+)?"?(\w+)', sql, re.I
                ):
                    names[made] = None
                for dropped in re.findall(r'DROP\s+INDEX\s+(?:IF EXISTS\s+)?"?(\w+)', sql, re.I):
                    names.pop(dropped, None)
    return set(names)


def differences(described: Schema, migrated: Schema, written_as_sql: set[str]) -> list[str]:
    """What the migrated database lacks or has beyond the models, one line each."""
    found: list[str] = []
    for table in sorted(described.columns.keys() | migrated.columns.keys()):
        wanted, got = described.columns.get(table), migrated.columns.get(table)
        if wanted is None or got is None:
            found.append(f"table {table}: {'not in the models' if wanted is None else 'missing'}")
            continue
        for column in sorted(wanted.keys() | got.keys()):
            if wanted.get(column) != got.get(column):
                found.append(
                    f"column {table}.{column}: models {wanted.get(column)}, "
                    f"migrated {got.get(column)}"
                )
    for key in sorted(described.foreign_keys ^ migrated.foreign_keys):
        where = "missing" if key in described.foreign_keys else "not in the models"
        found.append(f"foreign key {key}: {where}")
    for key in sorted(described.indexes.keys() - migrated.indexes.keys()):
        found.append(f"index {key}: missing")
    for key in sorted(migrated.indexes.keys() - described.indexes.keys()):
        if migrated.indexes[key] not in written_as_sql:
            found.append(f"index {key} ({migrated.indexes[key]}): not in the models")
    for name in sorted(written_as_sql - set(migrated.indexes.values())):
        found.append(f"index {name}: a migration creates it, the migrated database lacks it")
    for key in sorted(described.checks.keys() | migrated.checks.keys()):
        if described.checks.get(key) != migrated.checks.get(key):
            found.append(
                f"check {key}: models {described.checks.get(key)!r}, "
                f"migrated {migrated.checks.get(key)!r}"
            )
    return found


# ------------------------------------------------------------------------------- tests


def test_migrations_create_every_table_from_empty_and_are_idempotent(empty_databases):
    url = empty_databases()
    asyncio.run(db.migrate(url))
    tables = set(asyncio.run(_read_schema(url)).columns)
    assert {m._meta.db_table for m in MODELS} <= tables
    asyncio.run(db.migrate(url))  # again: nothing to do, no error
    assert set(asyncio.run(_read_schema(url)).columns) == tables


def test_migrated_database_matches_the_models(empty_databases):
    migrated_url, models_url = empty_databases(), empty_databases()
    asyncio.run(db.migrate(migrated_url))
    migrated = asyncio.run(_read_schema(migrated_url))
    described = asyncio.run(_models_schema(models_url))
    assert described.columns
    assert described.indexes
    assert described.checks
    found = differences(described, migrated, indexes_written_as_sql())
    assert not found, "the migrated database differs from the models:\n" + "\n".join(found)


def test_comparison_reports_a_dropped_column_index_and_check(empty_databases):
    """The comparison itself notices what a faulty migration would lose."""
    migrated_url, models_url = empty_databases(), empty_databases()
    asyncio.run(db.migrate(migrated_url))
    described = asyncio.run(_models_schema(models_url))
    before = asyncio.run(_read_schema(migrated_url))
    index = next(
        name for key, name in before.indexes.items() if key[:1] == ("invoice",) and not key[2]
    )

    async def break_schema() -> None:
        async with db.database(migrated_url):
            conn = connections.get("default")
            await conn.execute_script('ALTER TABLE "customer" DROP COLUMN "phone"')
            await conn.execute_script(f'DROP INDEX "{index}"')
            if is_postgres(migrated_url):
                await conn.execute_script('ALTER TABLE "meter" DROP CONSTRAINT "ck_meter_unit"')

    asyncio.run(break_schema())
    found = differences(
        described, asyncio.run(_read_schema(migrated_url)), indexes_written_as_sql()
    )
    assert any(line.startswith("column customer.phone:") for line in found), found
    assert any(line.startswith("index ('invoice'") for line in found), found
    if is_postgres(migrated_url):
        assert any(line.startswith("check ('meter', 'ck_meter_unit')") for line in found), found
