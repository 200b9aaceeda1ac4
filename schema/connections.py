"""The one list style of this API: Relay connections with opaque keyset cursors.

Every list that can grow is a `Connection` of its items, asked for with
`(first: Int = 10, after: String)`: `edges { cursor node }`,
`pageInfo { hasNextPage endCursor }` and `totalCount`, the shape Relay, Apollo's
`relayStylePagination` and urql's `relayPagination` read. A cursor is the sort key and
id of its row (base64 of "List:key:id"): the next page starts after that row, so
rows arriving in between neither repeat nor skip a row. A cursor that is malformed or
another list's is the request error INVALID_CURSOR; `first` outside 0–MAX_PAGE_SIZE
is INVALID_PAGE.

Use in a field:

    @strawberry.field(description="…")
    async def invoices(self, info, first: First = DEFAULT_PAGE_SIZE, after: After = None
                       ) -> Connection[InvoiceType]:
        page = page_request(INVOICES, first, after, info.context.locale)
        found = await …  # a `resolvers.pages.Slice` for page.first, page.after
        return Connection.of(found, page, InvoiceType.from_model)

strawberry names each use after its item type: `Connection[InvoiceType]` is
`InvoiceConnection`, its edges `InvoiceEdge`.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from models.errors import PublicError
from models.request_codes import MAX_PAGE_SIZE, PageErrorCode
from resolvers.pages import Keyset, Slice
from schema.ids import unbase64

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 10

First = Annotated[
    int,
    strawberry.argument(
        description=f"How many items at most (0–{MAX_PAGE_SIZE}; 0 for `totalCount` only)."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Start after this cursor (`pageInfo.endCursor` of the page before); "
        "left out, from the start of the list."
    ),
]


@dataclass(frozen=True)
class ListKind:
    """One list's name in its cursors and the type of its sort key."""

    name: str
    key_type: type[dt.date] | type[dt.datetime]
    sort: str  # the model field the list is sorted by (newest first, then id)

    def key_of(self, row: Any) -> dt.date | dt.datetime:
        value: dt.date | dt.datetime = getattr(row, self.sort)
        return value


INVOICES = ListKind("Invoice", dt.date, "date")
READINGS = ListKind("Reading", dt.date, "read_on")
BUDGET_REQUESTS = ListKind("BudgetChangeRequest", dt.datetime, "created_at")


@dataclass(frozen=True)
class PageRequest:
    """A checked `first`/`after` pair of one list."""

    kind: ListKind
    first: int
    after: Keyset | None


def encode_cursor(kind: ListKind, key: dt.date | dt.datetime, pk: int) -> str:
    raw = f"{kind.name}:{key.isoformat()}:{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: ListKind, value: str) -> Keyset | None:
    """The position inside `value` if it is a cursor of `kind`'s list, else None."""
    raw = unbase64(value, 200)
    if raw is None:
        return None
    name, _, rest = raw.partition(":")
    key_text, _, pk = rest.rpartition(":")
    if name != kind.name or not pk.isascii() or not pk.isdigit() or len(pk) > 18:
        return None
    try:
        if kind.key_type is dt.datetime:
            key: dt.date | dt.datetime = dt.datetime.fromisoformat(key_text)
            if key.tzinfo is None:  # type: ignore[union-attr]
                return None
        else:
            key = dt.date.fromisoformat(key_text)
    except ValueError:
        return None
    return Keyset(key=key, id=int(pk))


def page_request(kind: ListKind, first: int, after: str | None, locale: str) -> PageRequest:
    """The page asked for, or a GraphQL error (INVALID_PAGE, INVALID_CURSOR): no partial data
    is guessed."""
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise PublicError(PageErrorCode.INVALID_PAGE, locale, maximum=MAX_PAGE_SIZE)
    position = None
    if after is not None:
        position = decode_cursor(kind, after)
        if position is None:
            raise PublicError(PageErrorCode.INVALID_CURSOR, locale)
    return PageRequest(kind=kind, first=first, after=position)


@strawberry.type(description="Where a page stands in its list (Relay's PageInfo).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether items follow after this page: ask again with `after: endCursor`."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of this page's last item; null when the page is empty."
    )
    has_previous_page: bool = strawberry.field(
        description="Whether this page was asked for after a cursor (forward paging only)."
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of this page's first item; null when the page is empty."
    )


@strawberry.type(description="One item of a list with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description="Opaque position of this item: `after` it starts the next page."
    )
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="One page of a longer list, with the list's total.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page, in order.")
    page_info: PageInfo = strawberry.field(description="Cursors and whether more follow.")
    total_count: int = strawberry.field(description="How many items the whole list has.")

    @classmethod
    def of(cls, found: Slice[Any], page: PageRequest, convert: Callable[[Any], T]) -> Connection[T]:
        """The connection of a page the database cut (`resolvers.pages`)."""
        kind = page.kind
        edges = [
            Edge(cursor=encode_cursor(kind, kind.key_of(row), row.id), node=convert(row))
            for row in found.rows
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=found.has_next,
                end_cursor=edges[-1].cursor if edges else None,
                has_previous_page=page.after is not None,
                start_cursor=edges[0].cursor if edges else None,
            ),
            total_count=found.total,
        )
