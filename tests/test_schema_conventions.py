"""The naming rules of the API (README "Clients", "Naming rules"), checked on the built schema.

Each check lists its offenders, so that a failure says what to rename. The
checks are tried on a small schema that breaks every rule, so that a check that
finds nothing is known to look.
"""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from typing import Annotated

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_specified_scalar_type,
)

from schema import build_schema
from tests.test_api_schema import undescribed

TOOLING_MUTATIONS = {"ping"}
"""Mutations that are no operation of the portal: `ping` answers a Boolean for health checks."""

PASSWORD_ALLOWED = {"LoginInput.password", "RegisterInput.password"}
"""Where a field may be called `password`: logging in, and the password chosen at
registration. Re-authentication is `currentPassword`, a new password `newPassword`."""

ACTION_NAMED_TYPES = {"Login", "Logout", "Register", "Registration", "Submit", "Change"}
"""Type names that name an action where a thing is meant (the account is `Account`)."""

CODE_SUFFIXES = ("Type", "Enum", "Model", "Row", "Obj")
"""Suffixes of Python class names that must not leak into the schema (`Passkey`, not
`PasskeyType`)."""

PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")
UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")


def _own_types(schema: GraphQLSchema) -> dict[str, GraphQLNamedType]:
    return {
        name: kind
        for name, kind in schema.type_map.items()
        if not name.startswith("__") and not is_specified_scalar_type(kind)
    }


def _with_fields(schema: GraphQLSchema) -> dict[str, GraphQLNamedType]:
    kinds = (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)
    return {n: k for n, k in _own_types(schema).items() if isinstance(k, kinds)}


def _mutations(schema: GraphQLSchema) -> dict[str, object]:
    if schema.mutation_type is None:
        return {}
    return {n: f for n, f in schema.mutation_type.fields.items() if n not in TOOLING_MUTATIONS}


def _pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def input_offenders(schema: GraphQLSchema) -> list[str]:
    """Every mutation with arguments has exactly one, `input: <Mutation>Input!`."""
    found = []
    for name, field in _mutations(schema).items():
        args = field.args  # type: ignore[attr-defined]
        if not args:
            continue
        expected = f"{_pascal(name)}Input!"
        given = {arg: str(value.type) for arg, value in args.items()}
        if given != {"input": expected}:
            shown = ", ".join(f"{arg}: {kind}" for arg, kind in given.items())
            found.append(f"Mutation.{name}({shown}): expected (input: {expected})")
    return found


def payload_offenders(schema: GraphQLSchema) -> list[str]:
    """Every mutation returns `<Mutation>Payload!`, used by no other field, with `errors` first."""
    found = []
    users: dict[str, list[str]] = defaultdict(list)
    for type_name, kind in _with_fields(schema).items():
        for field_name, field in kind.fields.items():  # type: ignore[attr-defined]
            users[get_named_type(field.type).name].append(f"{type_name}.{field_name}")
    for name, field in _mutations(schema).items():
        expected = f"{_pascal(name)}Payload"
        returned = str(field.type)  # type: ignore[attr-defined]
        if returned != f"{expected}!":
            found.append(f"Mutation.{name}: returns {returned}, expected {expected}!")
            continue
        root = schema.mutation_type.name  # type: ignore[union-attr]
        others = [user for user in users[expected] if user != f"{root}.{name}"]
        if others:
            found.append(f"{expected}: also used by {', '.join(sorted(others))}")
        payload = schema.type_map[expected]
        first = next(iter(payload.fields), None)  # type: ignore[attr-defined]
        if first != "errors":
            found.append(f"{expected}: first field is {first}, expected errors")
    return found


def password_offenders(schema: GraphQLSchema) -> list[str]:
    """No argument or input field is called `password` outside logging in and registering."""
    found = []
    for type_name, kind in _with_fields(schema).items():
        for field_name, field in kind.fields.items():  # type: ignore[attr-defined]
            if field_name == "password" and f"{type_name}.{field_name}" not in PASSWORD_ALLOWED:
                found.append(f"{type_name}.{field_name}: re-authentication is currentPassword")
            found.extend(
                f"{type_name}.{field_name}(password): re-authentication is currentPassword"
                for arg_name in getattr(field, "args", {})
                if arg_name == "password"
            )
    return found


def naming_offenders(schema: GraphQLSchema) -> list[str]:
    """PascalCase types, camelCase fields and arguments, UPPER_SNAKE enum values; no type
    named after an action where a thing is meant."""
    found = []
    for type_name, kind in _own_types(schema).items():
        if not PASCAL.match(type_name):
            found.append(f"type {type_name}: not PascalCase")
        if type_name in ACTION_NAMED_TYPES:
            found.append(f"type {type_name}: names an action, not a thing")
        if type_name.endswith(CODE_SUFFIXES):
            found.append(f"type {type_name}: a code suffix in a schema name")
        if isinstance(kind, GraphQLEnumType):
            found.extend(
                f"enum value {type_name}.{value}: not UPPER_SNAKE"
                for value in kind.values
                if not UPPER_SNAKE.match(value)
            )
    for type_name, kind in _with_fields(schema).items():
        for field_name, field in kind.fields.items():  # type: ignore[attr-defined]
            if not CAMEL.match(field_name):
                found.append(f"field {type_name}.{field_name}: not camelCase")
            found.extend(
                f"argument {type_name}.{field_name}({arg}): not camelCase"
                for arg in getattr(field, "args", {})
                if not CAMEL.match(arg)
            )
    return found


def node_offenders(schema: GraphQLSchema) -> list[str]:
    """Every object type with an `id` implements `Node`, so `node(id:)` refetches it and
    client caches normalise it."""
    return [
        f"type {type_name}: has an id but does not implement Node"
        for type_name, kind in _own_types(schema).items()
        if isinstance(kind, GraphQLObjectType)
        and "id" in kind.fields
        and "Node" not in {i.name for i in kind.interfaces}
    ]


def list_offenders(schema: GraphQLSchema) -> list[str]:
    """Lists that page are connections: `first`/`after` and a `…Connection` type; no
    `limit`/`offset` pages."""
    found = []
    for type_name, kind in _own_types(schema).items():
        if not isinstance(kind, GraphQLObjectType | GraphQLInterfaceType):
            continue
        for field_name, field in kind.fields.items():
            arguments = set(field.args)
            where = f"{type_name}.{field_name}"
            found.extend(
                f"{where}({name}): pages by {name}; use first/after"
                for name in sorted(arguments & {"limit", "offset", "page", "pageSize"})
            )
            returns = get_named_type(field.type).name
            if {"first", "after"} & arguments and not returns.endswith("Connection"):
                found.append(f"{where}: takes first/after but returns {returns}")
            if returns.endswith("Connection") and not {"first", "after"} <= arguments:
                found.append(f"{where}: returns {returns} without first and after")
    return found


def _listed(offenders: list[str]) -> str:
    return "\n  " + "\n  ".join(offenders)


SCHEMA = build_schema()._schema


def test_every_mutation_takes_one_input_named_after_it():
    offenders = input_offenders(SCHEMA)
    assert not offenders, _listed(offenders)


def test_every_mutation_has_its_own_payload_with_errors_first():
    offenders = payload_offenders(SCHEMA)
    assert not offenders, _listed(offenders)


def test_reauthentication_is_current_password_everywhere():
    offenders = password_offenders(SCHEMA)
    assert not offenders, _listed(offenders)


def test_types_fields_and_enum_values_follow_the_naming_rules():
    offenders = naming_offenders(SCHEMA)
    assert not offenders, _listed(offenders)


def test_everything_is_described():
    offenders = undescribed(SCHEMA)
    assert not offenders, _listed(offenders)


def test_every_object_with_an_id_is_a_node():
    offenders = node_offenders(SCHEMA)
    assert not offenders, _listed(offenders)


def test_lists_that_page_are_connections():
    offenders = list_offenders(SCHEMA)
    assert not offenders, _listed(offenders)


def test_the_account_type_is_account():
    assert "Login" not in SCHEMA.type_map
    assert str(SCHEMA.query_type.fields["me"].type) == "Account"  # type: ignore[union-attr]


# A schema that breaks every rule: the checks must find each break.


@strawberry.enum(description="Bad values.")
class Shade(enum.Enum):
    light_blue = strawberry.enum_value("x", description="Not UPPER_SNAKE.")


@strawberry.type(name="Login", description="Named after an action.")
class Bad:
    mode: Shade = strawberry.field(description="A shade.")


@strawberry.type(description="Has an ID but is no Node; its Python suffix leaked.")
class ItemType:
    id: strawberry.ID = strawberry.field(description="An ID.")


@strawberry.type(description="Shared.")
class SharedPayload:
    done: bool = strawberry.field(description="First, not errors.")


@strawberry.type(description="Root.")
class BadQuery:
    @strawberry.field(description="Uses the payload too.")
    def peek(self) -> SharedPayload:
        return SharedPayload(done=True)

    @strawberry.field(description="An action-named type.", name="bad_name")
    def bad(self) -> Bad:
        return Bad(mode=Shade.light_blue)

    @strawberry.field(description="A limit/offset page.")
    def items(
        self,
        limit: Annotated[int, strawberry.argument(description="Page size.")],
        offset: Annotated[int, strawberry.argument(description="Skipped.")],
    ) -> list[ItemType]:
        return []


@strawberry.type(description="Root.")
class BadMutation:
    @strawberry.mutation(description="Plain arguments.")
    def confirm(
        self,
        id: Annotated[strawberry.ID, strawberry.argument(description="An ID.")],
        password: Annotated[str, strawberry.argument(description="A password.")],
    ) -> SharedPayload:
        return SharedPayload(done=True)

    @strawberry.mutation(description="Returns another's payload.")
    def undo(self) -> SharedPayload:
        return SharedPayload(done=True)

    @strawberry.mutation(description="Its payload is shared and has no errors first.")
    def shared(self) -> SharedPayload:
        return SharedPayload(done=True)


def test_the_checks_find_what_breaks_the_rules():
    bad = strawberry.Schema(query=BadQuery, mutation=BadMutation)._schema

    assert input_offenders(bad) == [
        "Mutation.confirm(id: ID!, password: String!): expected (input: ConfirmInput!)"
    ]
    assert payload_offenders(bad) == [
        "Mutation.confirm: returns SharedPayload!, expected ConfirmPayload!",
        "Mutation.undo: returns SharedPayload!, expected UndoPayload!",
        "SharedPayload: also used by BadMutation.confirm, BadMutation.undo, BadQuery.peek",
        "SharedPayload: first field is done, expected errors",
    ]
    assert password_offenders(bad) == [
        "BadMutation.confirm(password): re-authentication is currentPassword"
    ]
    assert naming_offenders(bad) == [
        "type Login: names an action, not a thing",
        "enum value Shade.light_blue: not UPPER_SNAKE",
        "type ItemType: a code suffix in a schema name",
        "field BadQuery.bad_name: not camelCase",
    ]
    assert node_offenders(bad) == ["type ItemType: has an id but does not implement Node"]
    assert list_offenders(bad) == [
        "BadQuery.items(limit): pages by limit; use first/after",
        "BadQuery.items(offset): pages by offset; use first/after",
    ]
