"""The published schema: schema.graphql matches the code, and everything in it is described."""

from __future__ import annotations

import enum
import os
import subprocess
import sys

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    is_specified_scalar_type,
)

from schema import build_schema
from settings import ROOT
from tests.conftest import gql

SCHEMA_FILE = ROOT / "schema.graphql"
STANDARD_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


def test_schema_graphql_matches_the_code():
    """If this fails, run `python3 dev.py schema` (or `kundenportal export-schema`) and commit."""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == str(build_schema()) + "\n", (
        "schema.graphql is out of date: run `python3 dev.py schema` and commit it"
    )


def test_export_schema_check_agrees():
    done = subprocess.run(
        [sys.executable, "-m", "cli", "export-schema", "--check"],
        capture_output=True,
        text=True,
        env={**os.environ, "ENV": "test"},
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout


def undescribed(schema: GraphQLSchema) -> list[str]:
    """Every type, field, argument and enum value of the schema that has no description."""
    missing = []
    for name, kind in schema.type_map.items():
        if name.startswith("__") or is_specified_scalar_type(kind):
            continue
        if not (kind.description or "").strip():
            missing.append(f"type {name}")
        if isinstance(kind, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            for field_name, field in kind.fields.items():
                if not (field.description or "").strip():
                    missing.append(f"field {name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not (arg.description or "").strip():
                        missing.append(f"argument {name}.{field_name}({arg_name})")
        elif isinstance(kind, GraphQLEnumType):
            missing.extend(
                f"enum value {name}.{value_name}"
                for value_name, value in kind.values.items()
                if not (value.description or "").strip()
            )
    return missing


def test_every_type_field_argument_and_enum_value_is_described():
    """GraphiQL is the API's manual: nothing in it may be left unexplained."""
    assert undescribed(build_schema()._schema) == []


@strawberry.enum
class Colour(enum.Enum):
    BLUE = "BLUE"


@strawberry.input(description="Described.")
class Filter:
    colour: Colour


@strawberry.type
class Bare:
    @strawberry.field(description="Described.")
    def count(self, first: int, where: Filter | None = None) -> int:
        return first


def test_the_description_check_finds_what_is_missing():
    assert undescribed(strawberry.Schema(query=Bare)._schema) == [
        "type Bare",
        "argument Bare.count(first)",
        "argument Bare.count(where)",
        "field Filter.colour",
        "type Colour",
        "enum value Colour.BLUE",
    ]


def test_request_error_codes_are_part_of_the_schema():
    """No field returns them, yet GraphiQL must document them."""
    types = build_schema()._schema.type_map
    assert "PERSISTED_QUERY_NOT_FOUND" in types["ErrorCode"].values  # type: ignore[union-attr]
    assert "UNAUTHENTICATED" in types["ErrorCode"].values  # type: ignore[union-attr]


SCALARS = """
query { __schema { types { name kind specifiedByURL } } }
"""


async def test_every_custom_scalar_names_its_specification(client):
    result = await gql(client, SCALARS)

    scalars = {
        t["name"]: t["specifiedByURL"]
        for t in result.data["__schema"]["types"]
        if t["kind"] == "SCALAR" and not t["name"].startswith("__")
    }
    custom = {name: url for name, url in scalars.items() if name not in STANDARD_SCALARS}
    assert {"Date", "DateTime", "Decimal", "JSON"} <= set(custom)
    assert all(url and url.startswith("https://") for url in custom.values()), custom
    assert "rfc3339" in custom["Date"]
    assert "rfc3339" in custom["DateTime"]
    assert "decimal" in custom["Decimal"]
