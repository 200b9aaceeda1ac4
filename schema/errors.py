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
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

import strawberry

from models.codes import AREAS, by_name, conflicts
from models.errors import ErrorCode, Outcome, Problem

P = TypeVar("P")


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


def payload(cls: Callable[..., P], outcome: Outcome[Any], locale: str, **fields: Any) -> P:
    """The one adapter from an operation's `Outcome` to its payload.

    Errors come from the problems; the payload's other fields from `fields`,
    else from the result's attributes of the same name (when the result is a
    dataclass), else `mailedTo` from the outcome.
    """
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
