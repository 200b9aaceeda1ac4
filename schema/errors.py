"""Typed, translated errors that payloads carry as data, and the one adapter from an
operation's `Outcome` to its payload.

The GraphQL error enums are derived from the domain's `ErrorCode` enums
(`models/*_codes.py`): names, descriptions and messages are declared there
once. Every area has an error type implementing `UserError`; a front end
switches on `code` and shows `message`, German by default and English when the
request asks for it (`Accept-Language: en`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

import strawberry

from models.errors import ErrorCode, Outcome, Problem

P = TypeVar("P")


def graphql_enum(codes: type[ErrorCode]) -> type[Enum]:
    """The GraphQL enum of a domain enum: same name, member names and descriptions;
    its description is the domain enum's docstring."""
    members = [
        (code.name, strawberry.enum_value(code.name, description=code.description))
        for code in codes
    ]
    # Enum's functional API with a computed name, which mypy cannot follow.
    derived = Enum(codes.__name__, members)  # type: ignore[misc]
    return strawberry.enum(derived, description=codes.summary())


@strawberry.interface(
    description="An expected failure of an operation, returned as data. "
    "`code` is stable and meant to be switched on; `message` is for people."
)
class UserError:
    field: list[str] | None = strawberry.field(
        description="Path of the input field the error concerns, null if it concerns the whole."
    )
    message: str = strawberry.field(
        description="Human-readable explanation, German by default, English on request."
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
