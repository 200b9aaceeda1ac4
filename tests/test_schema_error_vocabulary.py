"""One error vocabulary: every code a client can meet is in the schema's `ErrorCode`
enum with its description, one name has one meaning in every area, and a payload's
`field` names an input of its mutation.

Field paths are checked on every answer a test gets through `tests.conftest.gql`
(`tests.error_paths`, built from the schema); here the checker itself and the paths
written out in the services' code."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from graphql import GraphQLEnumType, GraphQLList, GraphQLNonNull, GraphQLObjectType

from models.codes import AREAS, by_name, conflicts
from models.errors import Declared, ErrorCode
from schema.errors import error_code_enum
from tests.error_paths import graphql_schema, path_problem

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("models", "resolvers", "schema", "api", "security", "ops", "mailers", "dataio")
"""Where codes are declared and raised (the HTTP layer included)."""


def _import_everything() -> None:
    for package in PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            importlib.import_module(info.name)
    importlib.import_module("app")


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def _error_code_type() -> GraphQLEnumType:
    enum = graphql_schema().type_map["ErrorCode"]
    assert isinstance(enum, GraphQLEnumType)
    return enum


def test_every_code_enum_is_part_of_the_vocabulary():
    # given every module that may declare codes
    _import_everything()

    # then each code enum of the project is one the GraphQL enum is derived from
    declared = {c for c in _subclasses(ErrorCode) if c.__module__.split(".")[0] in PACKAGES}
    assert declared == set(AREAS)


def test_every_declared_code_is_in_the_schema_with_its_description():
    enum = _error_code_type()
    for area in AREAS:
        for code in area:
            assert code.name in enum.values, f"{area.__name__}.{code.name}"
            assert code.description.strip(), f"{area.__name__}.{code.name} has no description"
            assert enum.values[code.name].description == code.description
    assert set(enum.values) == set(by_name())


def test_every_code_named_in_the_code_is_in_the_schema():
    """Codes written out in the source (`extensions={"code": ...}`, `SomeCode.NAME`), the
    HTTP layer's included, are codes of the enum: nothing emits a code it does not list."""
    enum = _error_code_type()
    names = set()
    for package in (*PACKAGES, "app.py"):
        for path in (ROOT / package).rglob("*.py") if package != "app.py" else [ROOT / package]:
            text = path.read_text(encoding="utf-8")
            names |= set(re.findall(r"""["']code["']\s*:\s*["']([A-Z_]+)["']""", text))
            names |= set(re.findall(r"\b\w*ErrorCode\.([A-Z][A-Z_]+)\b", text))
    assert names, "the scan found nothing: the patterns are out of date"
    assert names <= set(enum.values), sorted(names - set(enum.values))


def test_the_schema_has_one_error_code_enum():
    others = [
        name
        for name, kind in graphql_schema().type_map.items()
        if isinstance(kind, GraphQLEnumType) and name.endswith("ErrorCode") and name != "ErrorCode"
    ]
    assert others == []


def test_one_name_has_one_meaning_and_one_meaning_one_name():
    assert conflicts() == []
    names_by_description: dict[str, list[str]] = {}
    for name, codes in by_name().items():
        names_by_description.setdefault(codes[0].description, []).append(name)
    synonyms = [names for names in names_by_description.values() if len(names) > 1]
    assert synonyms == []


def test_building_the_enum_refuses_one_name_with_two_meanings():
    class First(ErrorCode):
        """One area."""

        CLASH = Declared("One meaning.")

    class Second(ErrorCode):
        """Another area."""

        CLASH = Declared("Another meaning.")

    with pytest.raises(TypeError, match="CLASH"):
        error_code_enum((First, Second))


def test_every_error_type_is_a_user_error_with_an_error_code():
    schema = graphql_schema()
    user_error = schema.type_map["UserError"]
    for name, kind in schema.type_map.items():
        if not isinstance(kind, GraphQLObjectType) or name.startswith("__"):
            continue
        errors = kind.fields.get("errors")
        if name.endswith("Payload") and errors is not None:
            item = errors.type
            while isinstance(item, GraphQLNonNull | GraphQLList):
                item = item.of_type
            assert user_error in item.interfaces, f"{name}.errors: {item}"
        if user_error in kind.interfaces:
            code = kind.fields["code"].type
            assert isinstance(code, GraphQLNonNull), name
            assert code.of_type.name == "ErrorCode", name


def test_path_check_follows_the_arguments_and_input_types():
    assert path_problem("submitReading", ["input", "meterNumber"]) is None
    assert path_problem("submitReading", ["input", "meterId"]) is None
    assert path_problem("submitReading", ["input", "meter"]) is not None
    assert path_problem("submitReading", ["meterNumber"]) is not None
    assert path_problem("registerPasskey", ["input", "credential", "response", "x"]) is None
    assert path_problem("requestMoveIn", ["input", "email"]) is None


def _literal_paths() -> list[tuple[Path, int, tuple[str, ...]]]:
    """Field paths the services write out whole: `problem(code, "input", "x")`,
    `Outcome.failed(code, "input", "x")`, `Problem(code, ("input", "x"))`."""
    found = []
    for path in (ROOT / "resolvers").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            rest = node.args[1:]
            if name == "Problem" and isinstance(rest[0], ast.Tuple):
                rest = list(rest[0].elts)
            elif name not in ("problem", "failed"):
                continue
            if rest and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in rest):
                found.append((path, node.lineno, tuple(a.value for a in rest)))  # type: ignore[attr-defined]
    return found


def test_every_whole_path_in_the_services_names_an_input_of_some_mutation():
    """A path the code writes out whole must exist for at least one mutation (which one
    the answers checked through `gql` tell); rules that answer paths relative to the input
    (`resolvers/money.py`, prefixed by `_in_input`) are the exception."""
    mutations = graphql_schema().mutation_type.fields  # type: ignore[union-attr]
    written = _literal_paths()
    assert len(written) > 20, "the scan found little: its patterns are out of date"
    wrong = [
        f"{path.relative_to(ROOT)}:{line} {list(field)}"
        for path, line, field in written
        if path.name != "money.py" and all(path_problem(m, field) for m in mutations)
    ]
    assert wrong == []
