"""Checks that every `field` a mutation's payload answers names an input the client can
send to that mutation: a path from one of its arguments through the input types.

Built from the schema, so it holds for whatever arguments a mutation takes. Every test
that posts through `tests.conftest.gql` runs the check on its answers; `table_problems`
runs it on every error each mutation declares (`schema.errors.declare_errors`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
)
from graphql.error import GraphQLSyntaxError

from schema.errors import DeclaredError
from schema.root import build_schema

OPAQUE_SCALARS = {"JSON"}
"""Scalars whose members a path may go on into (a passkey's `credential` JSON)."""


@cache
def graphql_schema() -> GraphQLSchema:
    return build_schema()._schema


def path_problem(
    mutation: str,
    path: list[str] | tuple[str, ...],
    schema: GraphQLSchema | None = None,
    *,
    into_opaque: bool = False,
) -> str | None:
    """Why `path` names no input of `mutation`, or None when it does. `into_opaque`: the
    path must end at an opaque scalar (`JSON`), whose members it may go on into."""
    schema = schema or graphql_schema()
    field = _root_fields(schema).get(mutation)
    if field is None:
        return f"no mutation {mutation}"
    if not path:
        return f"{mutation}: an empty path (null is the answer for no single input)"
    argument = field.args.get(path[0])
    if argument is None:
        return f"{mutation} has no argument {path[0]!r} (path {list(path)})"
    kind: GraphQLInputType = argument.type
    for step in path[1:]:
        while isinstance(kind, GraphQLNonNull | GraphQLList):
            if isinstance(kind, GraphQLList) and step.isdigit():
                break
            kind = kind.of_type
        if isinstance(kind, GraphQLList):
            kind = kind.of_type
            continue
        if isinstance(kind, GraphQLScalarType) and kind.name in OPAQUE_SCALARS:
            return None
        if not isinstance(kind, GraphQLInputObjectType) or step not in kind.fields:
            return f"{mutation}: {step!r} is not an input field at {list(path)}"
        kind = kind.fields[step].type
    if into_opaque:
        while isinstance(kind, GraphQLNonNull | GraphQLList):
            kind = kind.of_type
        if not (isinstance(kind, GraphQLScalarType) and kind.name in OPAQUE_SCALARS):
            return f"{mutation}: {list(path)} is no opaque value a path may go on into"
    return None


def _root_fields(schema: GraphQLSchema) -> dict[str, Any]:
    """The mutations, and the query fields that answer errors as data (`ibanDetails`)."""
    fields = dict(schema.mutation_type.fields)  # type: ignore[union-attr]
    for name, field in schema.query_type.fields.items():  # type: ignore[union-attr]
        if name not in fields and _has_errors(field.type):
            fields[name] = field
    return fields


def _has_errors(field_type: Any) -> bool:
    while isinstance(field_type, GraphQLNonNull | GraphQLList):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLObjectType) and "errors" in field_type.fields


def table_problems(
    declared: dict[str, tuple[DeclaredError, ...]], schema: GraphQLSchema | None = None
) -> list[str]:
    """What is wrong with the mutations' declared errors: a mutation whose payload has
    `errors` but declares none, a declaration of no mutation, a code that is not in
    `ErrorCode`, a path that names no input of its mutation. A query field that answers
    `errors` as data counts as a mutation here."""
    schema = schema or graphql_schema()
    mutations = _root_fields(schema)
    codes = schema.type_map.get("ErrorCode")
    known = set(codes.values) if isinstance(codes, GraphQLEnumType) else set()
    found = [
        f"{name}: answers errors but declares none"
        for name, field in mutations.items()
        if _has_errors(field.type) and name not in declared
    ]
    for name, errors in declared.items():
        if name not in mutations:
            found.append(f"{name}: declared, but no such mutation")
            continue
        for error in errors:
            if error.code not in known:
                found.append(f"{name}: {error.code} is not in ErrorCode")
            if error.field is not None and (
                problem := path_problem(name, error.field, schema, into_opaque=error.below)
            ):
                found.append(f"{error.code}: {problem}")
    return found


def _mutation_fields(document: str) -> list[FieldNode]:
    try:
        parsed = parse(document)
    except GraphQLSyntaxError:
        return []
    return [
        selection
        for definition in parsed.definitions
        if isinstance(definition, OperationDefinitionNode)
        and definition.operation == OperationType.MUTATION
        for selection in definition.selection_set.selections
        if isinstance(selection, FieldNode)
    ]


def answered_path_problems(document: str, data: Any) -> list[str]:
    """The `field` paths in a mutation's answer that name no input of it."""
    if not isinstance(data, dict):
        return []
    found = []
    for node in _mutation_fields(document):
        answer = data.get((node.alias or node.name).value)
        errors = answer.get("errors") if isinstance(answer, dict) else None
        for error in errors or []:
            path = error.get("field") if isinstance(error, dict) else None
            if path is not None and (problem := path_problem(node.name.value, path)):
                found.append(f"{error.get('code')}: {problem}")
    return found
