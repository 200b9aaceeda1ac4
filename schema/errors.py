"""Typed, translated errors that payloads carry as data, and the one adapter from an
operation's `Outcome` to its payload.

The GraphQL enum `ErrorCode` is derived from the domain's `ErrorCode` enums
(`models/*_codes.py`, listed in `models.codes`): names, descriptions and
messages are declared there once. Every area has an error type implementing
`UserError`; a front end switches on `code` and shows `message`, German by
default and English when the request asks for it (`Accept-Language: en`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any, TypeVar

import strawberry
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from models.codes import AREAS, by_name, conflicts
from models.errors import ErrorCode, Outcome, Problem

P = TypeVar("P")

log = logging.getLogger("kundenportal.schema")


def error_code_enum(areas: tuple[type[ErrorCode], ...] = AREAS) -> type[Enum]:
    """The one GraphQL enum of every code a client can meet, in a payload's `errors` or in
    `errors[].extensions.code`: each name of every area's domain enum (`models.codes.AREAS`)
    once, with its description. Refuses a name declared with two descriptions: one name,
    one meaning."""
    if clashes := conflicts(areas):
        raise TypeError(f"error codes declared with different descriptions: {clashes}")
    members = [
        (name, strawberry.enum_value(name, description=codes[0].description))
        for name, codes in sorted(by_name(areas).items())
    ]
    # Enum's functional API with computed members, which mypy cannot follow.
    derived = Enum("ErrorCode", members)  # type: ignore[misc]
    return strawberry.enum(
        derived,
        description="Every code a client can meet: in a payload's `errors[].code` (with "
        "`field` and `message`) and in `errors[].extensions.code` of a response, for "
        "failures of the request as a whole. One name has one meaning in every area; "
        "switch on it, show `message`.",
    )


ErrorCodeEnum = error_code_enum()


def graphql_code(code: ErrorCode) -> Enum:
    """The GraphQL `ErrorCode` member of a domain code."""
    member: Enum = ErrorCodeEnum[code.name]
    return member


@strawberry.interface(
    description="An expected failure of an operation, returned as data. "
    "`code` is stable and meant to be switched on; `message` is for people."
)
class UserError:
    code: Enum = strawberry.field(
        graphql_type=ErrorCodeEnum, description="What went wrong; stable, switch on this."
    )
    field: list[str] | None = strawberry.field(
        description="Path of the input the error concerns as the client sent it, starting "
        'with the argument\'s name (e.g. `["input", "meterNumber"]`); null if no '
        "single input is at fault."
    )
    message: str = strawberry.field(
        description="Human-readable explanation, German by default, English on request."
    )

    @classmethod
    def from_problem(cls, problem: Problem, locale: str) -> Any:
        """The problem as this error type, its message from the code's declaration."""
        return cls(
            code=graphql_code(problem.code),
            field=list(problem.field) if problem.field else None,
            message=problem.code.message(locale, **problem.params),
        )


_ERROR_TYPES: dict[type[ErrorCode], Callable[[Problem, str], Any]] = {}


def error_type(codes: type[ErrorCode]) -> Callable[[type[P]], type[P]]:
    """Register the error type (a `UserError` with `from_problem(problem, locale)`) that
    problems with codes of `codes` become."""

    def register(cls: type[P]) -> type[P]:
        # Every error type has `from_problem`; a Protocol for it would not survive @strawberry.type.
        _ERROR_TYPES[codes] = cls.from_problem  # type: ignore[attr-defined]
        return cls

    return register


def user_errors(problems: list[Problem], locale: str) -> list[Any]:
    """Problems as typed, translated errors of their area's error type."""
    return [_ERROR_TYPES[type(p.code)](p, locale) for p in problems]


@dataclasses.dataclass(frozen=True)
class DeclaredError:
    """One error a mutation can answer: the code's name and the `field` path (None: no
    single input). `below`: the path goes on into an opaque value (a passkey's JSON
    `credential`), declared as `"input.credential.*"`."""

    code: str
    field: tuple[str, ...] | None
    below: bool = False

    def covers(self, code: str, field: tuple[str, ...] | None) -> bool:
        """Is an answered error (code, field) this declaration?"""
        if code != self.code or (field is None) != (self.field is None):
            return False
        if field is None or self.field is None:
            return True
        return field == self.field or (self.below and field[: len(self.field)] == self.field)

    def shown(self) -> str:
        if self.field is None:
            return "no field"
        return ".".join(self.field) + (".*" if self.below else "")


DECLARED_ERRORS: dict[str, tuple[DeclaredError, ...]] = {}
"""Every mutation's declared errors, by the mutation's GraphQL name (`declare_errors`);
also of a query field that answers errors as data (`ibanDetails`, whose type is named
after it)."""

Paths = str | None | tuple[str | None, ...]


def _declared(code: str, paths: Paths) -> list[DeclaredError]:
    found = []
    for path in paths if isinstance(paths, tuple) else (paths,):
        if path is None:
            found.append(DeclaredError(code, None))
            continue
        below = path.endswith(".*")
        found.append(DeclaredError(code, tuple(path.removesuffix(".*").split(".")), below))
    return found


def errors_text(declared: Iterable[DeclaredError]) -> str:
    """The sentence a mutation's description ends with: its codes with their paths."""
    paths: dict[str, list[str]] = {}
    for error in sorted(declared, key=lambda e: (e.code, e.field is None, e.shown())):
        paths.setdefault(error.code, []).append(error.shown())
    if not paths:
        return "Errors: none."
    return "Errors: " + ", ".join(f"{code} ({', '.join(p)})" for code, p in paths.items()) + "."


def declare_errors(**codes: Paths) -> Callable[[StrawberryField], StrawberryField]:
    """Declare, next to a mutation, every error its payload can answer: each code (by name)
    with the `field` paths it comes with, as the client sees them (`"input.meterNumber"`;
    None for no single input; `"input.credential.*"` for paths into an opaque value).
    Put it above `@strawberry.mutation` (or `@strawberry.field` of a query that answers
    errors as data):

        @declare_errors(NOT_FOUND=("input.customer", "input.meterNumber"), CHOICE_REQUIRED=None)
        @strawberry.mutation(description="Submit a reading.")

    The description then ends with the list ("Errors: CHOICE_REQUIRED (no field), …"), so
    GraphiQL and generated clients show what a front end must handle. The tests check each
    path against the mutation's input type, and that every error answered is declared
    (`undeclared_errors`)."""
    declared = tuple(error for code, paths in codes.items() for error in _declared(code, paths))

    def register(field: StrawberryField) -> StrawberryField:
        resolver = field.base_resolver
        assert resolver is not None, "declare_errors goes above @strawberry.mutation"
        name = field.graphql_name or to_camel_case(resolver.name)
        DECLARED_ERRORS[name] = declared
        field.description = f"{field.description or ''} {errors_text(declared)}".strip()
        return field

    return register


def inputs(*names: str, under: str = "input") -> tuple[str, ...]:
    """Paths of several fields of one input: `inputs("name", "city")` →
    `("input.name", "input.city")`."""
    return tuple(f"{under}.{name}" for name in names)


ADDRESS = ("name", "street", "postalCode", "city")
"""The fields of an address that are required and limited in length."""

SENSITIVE: dict[str, Paths] = {
    "REAUTHENTICATION_REQUIRED": "input.currentPassword",
    "SECOND_FACTOR_REQUIRED": None,
}
"""What `resolvers.auth.reauthentication_problem` answers for a sensitive change."""

CUSTOMER: tuple[str | None, ...] = ("input.customer", None)
"""Where NOT_FOUND of the customer a mutation acts on points: the `customer` named, or no
field when none was named and the login holds none (`CustomerChoice.field`)."""

PHOTO: dict[str, Paths] = {
    code: "input.photo"
    for code in ("PHOTO_TOO_LARGE", "PHOTO_TOO_MANY_PIXELS", "PHOTO_NOT_AN_IMAGE")
}
"""What `resolvers.photos.checked_photo` answers for a reading's photo."""


def mutation_of(payload_type: str) -> str:
    """The mutation a payload type belongs to: `SubmitReadingPayload` → `submitReading`."""
    name = payload_type.removesuffix("Payload")
    return name[:1].lower() + name[1:]


def undeclared_errors(mutation: str, problems: Iterable[Problem]) -> list[str]:
    """The problems `mutation` answers but does not declare (`declare_errors`)."""
    declared = DECLARED_ERRORS.get(mutation, ())
    return [
        f"{mutation}: {p.code.name} on {'.'.join(p.field) if p.field else 'no field'}"
        for p in problems
        if not any(d.covers(p.code.name, p.field or None) for d in declared)
    ]


def payload(cls: Callable[..., P], outcome: Outcome[Any], locale: str, **fields: Any) -> P:
    """The one adapter from an operation's `Outcome` to its payload.

    Errors come from the problems; the payload's other fields from `fields`,
    else from the result's attributes of the same name (when the result is a
    dataclass), else `mailedTo` from the outcome. An error the mutation does not
    declare (`declare_errors`) is answered all the same and logged as a warning: its
    description is out of date (the tests fail on it).
    """
    if outcome.problems:
        for wrong in undeclared_errors(mutation_of(getattr(cls, "__name__", "")), outcome.problems):
            log.warning("undeclared error answered: %s", wrong)
    # Payloads are strawberry types, which are dataclasses; typed as callables for their kwargs.
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    value = outcome.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for name in names:
            if name not in fields and hasattr(value, name):
                fields[name] = getattr(value, name)
    if "mailed_to" in names and "mailed_to" not in fields:
        fields["mailed_to"] = outcome.mailed_to
    return cls(errors=user_errors(outcome.problems, locale), **fields)
