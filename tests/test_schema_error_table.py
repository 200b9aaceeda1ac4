"""Every mutation declares the errors it can answer (`schema.errors.declare_errors`), and
its description ends with them, so GraphiQL and generated clients show what a front end
must handle. Here: every declared (code, path) of every mutation is a code of `ErrorCode`
and a path into that mutation's input; every mutation with `errors` declares. That every
error answered during the test suite is declared, the autouse fixture
`tests.conftest.undeclared_errors` checks on each test."""

from __future__ import annotations

import pytest
from graphql import GraphQLObjectType
from graphql import build_schema as build_sdl

from models.customer_codes import CustomerErrorCode
from models.errors import Outcome, Problem
from schema.customers import SubmitReadingPayload
from schema.errors import DECLARED_ERRORS, DeclaredError, errors_text, payload
from schema.errors import undeclared_errors as undeclared
from tests.error_paths import graphql_schema, table_problems

TINY = build_sdl(
    """
    enum ErrorCode { NOT_FOUND REQUIRED }
    scalar JSON
    interface UserError { code: ErrorCode! field: [String!] message: String! }
    type Failure implements UserError { code: ErrorCode! field: [String!] message: String! }
    input AddressInput { street: String! }
    input RenameInput { name: String! addresses: [AddressInput!] blob: JSON }
    type RenamePayload { errors: [Failure!]! }
    type ForgetPayload { errors: [Failure!]! }
    type Query { ping: Boolean }
    type Mutation {
      rename(input: RenameInput!): RenamePayload!
      forget: ForgetPayload!
      ping: Boolean
    }
    """
)


def _errors(*pairs: tuple[str, str | None]) -> tuple[DeclaredError, ...]:
    return tuple(
        DeclaredError(
            code,
            tuple(path.removesuffix(".*").split(".")) if path else None,
            bool(path and path.endswith(".*")),
        )
        for code, path in pairs
    )


def test_every_declared_error_is_a_code_on_an_input_of_its_mutation():
    assert table_problems(DECLARED_ERRORS) == []


def test_every_mutation_declares_its_errors():
    mutations = graphql_schema().mutation_type.fields  # type: ignore[union-attr]
    with_errors = {
        name
        for name, field in mutations.items()
        if isinstance(payload_type := field.type.of_type, GraphQLObjectType)
        and "errors" in payload_type.fields
    }
    assert len(with_errors) > 40
    # and the one query that answers errors as data
    assert with_errors | {"ibanDetails"} == set(DECLARED_ERRORS)


def test_each_mutation_description_ends_with_its_errors():
    schema = graphql_schema()
    mutations = schema.mutation_type.fields  # type: ignore[union-attr]
    fields = {**schema.query_type.fields, **mutations}  # type: ignore[union-attr]
    for name, declared in DECLARED_ERRORS.items():
        description = fields[name].description or ""
        assert description.endswith(errors_text(declared)), name
    submit = mutations["submitReading"].description or ""
    assert "RADIO_METER (input.meterId, input.meterNumber)" in submit
    assert "NOT_FOUND (input.customer, input.meterId, input.meterNumber, no field)" in submit
    assert (mutations["logout"].description or "").endswith("Errors: none.")


def test_a_sensitive_change_declares_reauthentication():
    for name in ("changePassword", "changeEmail", "deleteProfile", "changePaymentDetails"):
        declared = DECLARED_ERRORS[name]
        assert DeclaredError("REAUTHENTICATION_REQUIRED", ("input", "currentPassword")) in declared
        assert DeclaredError("SECOND_FACTOR_REQUIRED", None) in declared


def test_the_table_check_accepts_a_right_declaration():
    declared = {
        "rename": _errors(
            ("REQUIRED", "input.name"),
            ("REQUIRED", "input.addresses.0.street"),
            ("NOT_FOUND", None),
            ("NOT_FOUND", "input.blob.*"),
        ),
        "forget": (),
    }
    assert table_problems(declared, TINY) == []


@pytest.mark.parametrize(
    ("declared", "found"),
    [
        ({"rename": _errors(("NOT_FOUND", "input.name"))}, "forget: answers errors but declares"),
        ({"forget": (), "rename": _errors(("GONE", None))}, "GONE is not in ErrorCode"),
        ({"forget": (), "rename": _errors(("REQUIRED", "input.nme"))}, "'nme' is not an input"),
        ({"forget": (), "rename": _errors(("REQUIRED", "name"))}, "no argument 'name'"),
        (
            {"forget": (), "rename": _errors(("REQUIRED", "input.addresses.0.city"))},
            "'city' is not an input",
        ),
        ({"forget": (), "rename": _errors(("REQUIRED", "input.name.*"))}, "no opaque value"),
        ({"forget": (), "rename": (), "renameAll": ()}, "renameAll: declared, but no such"),
    ],
)
def test_the_table_check_finds_a_bad_declaration(declared, found):
    problems = table_problems(declared, TINY)
    assert len(problems) == 1
    assert found in problems[0]


def test_an_answered_error_must_be_declared():
    answered = [
        Problem(CustomerErrorCode.NOT_FOUND, ("input", "meterNumber")),
        Problem(CustomerErrorCode.NOT_FOUND, None),
        Problem(CustomerErrorCode.RADIO_METER, ("input", "value")),
        Problem(CustomerErrorCode.OUTSIDE_READING_PERIOD, ("input", "value")),
    ]
    assert undeclared("submitReading", answered) == [
        "submitReading: RADIO_METER on input.value",
        "submitReading: OUTSIDE_READING_PERIOD on input.value",
    ]
    assert undeclared("noSuchMutation", answered[:1]) != []


def test_a_path_into_an_opaque_value_is_declared_by_its_start():
    into = Problem(CustomerErrorCode.NOT_FOUND, ("input", "credential", "response", "x"))
    beside = Problem(CustomerErrorCode.NOT_FOUND, ("input", "name", "x"))
    declared = {"registerPasskey": _errors(("NOT_FOUND", "input.credential.*"))}
    DECLARED_ERRORS.update(probe=declared["registerPasskey"])
    try:
        assert undeclared("probe", [into]) == []
        assert undeclared("probe", [beside]) != []
    finally:
        del DECLARED_ERRORS["probe"]


def test_the_adapter_reports_an_undeclared_error(undeclared_errors: list[str]):
    # given an outcome with an error submitReading does not declare
    outcome: Outcome[None] = Outcome.failed(CustomerErrorCode.RADIO_METER, "input", "value")

    # when it becomes the payload
    answer = payload(
        SubmitReadingPayload, outcome, "de", reading=None, corrected_reading=None, meter=None
    )

    # then it is answered all the same, and reported (the fixture fails the test on it)
    assert [e.field for e in answer.errors] == [["input", "value"]]
    assert undeclared_errors == [
        "undeclared error answered: submitReading: RADIO_METER on input.value"
    ]
    undeclared_errors.clear()
