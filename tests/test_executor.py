"""The served executor (`api.executor.PlainLeavesFirst`) answers exactly as strawberry's
own: the same data, in the same key order, and the same errors with their paths, also
where a plain leaf's value is missing or invalid and graphql-core has to decide."""

from __future__ import annotations

import datetime as dt
import enum
import json
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.errors import ApiSchema
from api.executor import PlainLeavesFirst
from schema import Query, build_schema


@strawberry.enum
class ExecKind(enum.Enum):
    MAIN = "main"
    SUB = "sub"


class Broken:
    """An attribute that fails when read."""

    def __get__(self, instance: object, owner: type) -> str:
        raise RuntimeError("cannot read")

    def __set__(self, instance: object, value: object) -> None:
        pass  # the constructor's value is dropped: reading always fails


@strawberry.type
class ExecReading:
    id: strawberry.ID
    value: float
    read_on: dt.date
    at: dt.datetime
    kind: ExecKind
    note: str | None
    count: int
    ok: bool

    @strawberry.field
    def label(self) -> str:
        """A field with a resolver: always graphql-core's way."""
        return f"#{self.id} ({self.kind})"


@strawberry.type
class ExecHolder:
    number: str
    readings: list[ExecReading]
    latest: ExecReading | None
    must: ExecReading


class BrokenReading(ExecReading):
    note = Broken()


class Text(str):
    """A string of a subclass, as a `StrEnum` member is."""


def reading(n: int, **changed: Any) -> ExecReading:
    fields: dict[str, Any] = {
        "id": strawberry.ID(str(n)),
        "value": n + 0.5,
        "read_on": dt.date(2026, 12, n),
        "at": dt.datetime(2026, 12, n, 8, 30, tzinfo=dt.UTC),
        "kind": ExecKind.MAIN if n % 2 else ExecKind.SUB,
        "note": None if n == 2 else f"note {n}",
        "count": n,
        "ok": n % 2 == 1,
    }
    fields.update(changed)
    return ExecReading(**fields)


def holder(number: str, *readings: ExecReading, **changed: Any) -> ExecHolder:
    fields: dict[str, Any] = {"latest": reading(3), "must": reading(4)}
    fields.update(changed)
    return ExecHolder(number=number, readings=list(readings), **fields)


def holders() -> list[ExecHolder]:
    """One case each: a failing non-null field nulls its parent up to the next nullable one,
    so that the errors after it in the same object would not be reached."""
    return [
        holder("fine", reading(1), reading(2)),  # reading 2's note is a plain null
        holder("non-null leaf is None", reading(5, kind=None)),
        holder("a value the enum refuses", reading(7, kind="other")),
        holder("an attribute that raises", reading(1), BrokenReading(**vars(reading(9)))),
        holder("a date that is a text", latest=reading(8, read_on="gestern")),
        holder("an Int that is not a number", must=reading(10, count="many")),
        holder("an Int beyond 32 bits", must=reading(11, count=2**31)),
        holder(Text("a bool as an Int, a text of a subclass"), reading(12, count=True)),
    ]


@strawberry.type
class ExecutorQuery(Query):
    @strawberry.field
    def holders(self) -> list[ExecHolder | None]:
        return holders()  # type: ignore[return-value]


DOCUMENT = """
query Everything($withNote: Boolean!) {
  holders {
    __typename
    number
    n: number
    readings { ...all }
    latest { id readOn kind note @include(if: $withNote) label }
    must { id count kind }
  }
}
fragment all on ExecReading { id value readOn at kind note count ok label value }
"""


class StrawberrysOwn(ApiSchema):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["execution_context_class"] = StrawberryGraphQLCoreExecutionContext
        super().__init__(*args, **kwargs)


def _answer(result: Any) -> dict[str, Any]:
    errors = sorted(
        (json.dumps(error.path), error.message, json.dumps(error.locations, default=vars))
        for error in result.errors or []
    )
    return {"data": json.dumps(result.data), "errors": errors}


@pytest.mark.parametrize("with_note", [True, False])
async def test_answers_and_errors_are_strawberrys_own(with_note):
    served = build_schema(query=ExecutorQuery, schema_class=ApiSchema)
    own = build_schema(query=ExecutorQuery, schema_class=StrawberrysOwn)
    assert served.execution_context_class is PlainLeavesFirst

    variables = {"withNote": with_note}
    ours = await served.execute(DOCUMENT, variable_values=variables)
    theirs = await own.execute(DOCUMENT, variable_values=variables)

    assert _answer(ours) == _answer(theirs)
    # and the document does reach each kind of case
    assert ours.data is not None
    assert ours.errors is not None
    fine, none, refused, raising, text_date, text_int, big_int, subclasses = ours.data["holders"]
    assert fine["readings"][1]["note"] is None
    assert none is None  # `kind` is non-null, and so are the list and its items
    assert refused is None
    assert raising["readings"][1]["note"] is None  # `note` may be null: only it is lost
    assert text_date["latest"] is None
    assert text_int is None
    assert big_int is None
    assert subclasses["readings"][0]["count"] == 1
    assert len(ours.errors) == 6


class Shouting(SchemaExtension):
    """An extension around every resolver, as a tracing or permission extension would be."""

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        result = _next(root, info, *args, **kwargs)
        return result.upper() if isinstance(result, str) else result


async def test_an_extension_around_every_resolver_sees_every_field():
    served = build_schema(query=ExecutorQuery, schema_class=ApiSchema, extensions=[Shouting])
    own = build_schema(query=ExecutorQuery, schema_class=StrawberrysOwn, extensions=[Shouting])

    ours = await served.execute(DOCUMENT, variable_values={"withNote": True})
    theirs = await own.execute(DOCUMENT, variable_values={"withNote": True})

    assert _answer(ours) == _answer(theirs)
    assert ours.data is not None
    assert ours.data["holders"][0]["number"] == "FINE"
