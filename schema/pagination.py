"""The one pagination style of this API: limit/offset pages with totals.

Every list that can grow is a `Page` of its items: `items`, `totalCount`,
`hasNextPage`, plus the `limit` and `offset` that produced it. A front end
shows "21–40 of 113" and a "next" button without knowing the list's rules.

Use in a field:

    @strawberry.field(description="…")
    async def invoices(self, info, limit: PageLimit = 10, offset: PageOffset = 0) -> Page[Invoice]:
        window = page_window(limit, offset, info.context.locale)
        rows, total = …  # from the database, or a whole list from a loader
        return Page.of(rows, window, Invoice.from_model)       # whole list, sliced here
        # or Page.from_slice(items, total, window)              # the database sliced it

strawberry names each use after its item type: `Page[Invoice]` is `InvoicePage`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

import strawberry

from models.errors import PublicError
from models.request_codes import MAX_PAGE_SIZE, PageErrorCode

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_PAGE_SIZE = 10

PageLimit = Annotated[
    int,
    strawberry.argument(description=f"How many items at most (1–{MAX_PAGE_SIZE})."),
]
PageOffset = Annotated[
    int,
    strawberry.argument(description="How many items to skip from the start of the list (≥ 0)."),
]


@dataclass(frozen=True)
class PageWindow:
    """A checked `limit`/`offset` pair."""

    limit: int
    offset: int


def page_window(limit: int, offset: int, locale: str) -> PageWindow:
    """The window asked for, or a GraphQL error INVALID_PAGE (no partial data is guessed)."""
    if not 1 <= limit <= MAX_PAGE_SIZE or offset < 0:
        raise PublicError(PageErrorCode.INVALID_PAGE, locale, maximum=MAX_PAGE_SIZE)
    return PageWindow(limit=limit, offset=offset)


@strawberry.type(description="One page of a longer list, with the list's total.")
class Page(Generic[T]):
    items: list[T] = strawberry.field(description="The items of this page, in the list's order.")
    total_count: int = strawberry.field(description="How many items the whole list has.")
    has_next_page: bool = strawberry.field(description="Whether items follow after this page.")
    limit: int = strawberry.field(description="The page size that was asked for.")
    offset: int = strawberry.field(description="How many items come before this page.")

    @classmethod
    def from_slice(cls, items: list[T], total: int, window: PageWindow) -> Page[T]:
        """A page whose items the database already cut out of a list of `total`."""
        return cls(
            items=items,
            total_count=total,
            has_next_page=window.offset + len(items) < total,
            limit=window.limit,
            offset=window.offset,
        )

    @classmethod
    def of(cls, rows: Sequence[R], window: PageWindow, convert: Callable[[R], T]) -> Page[T]:
        """A page cut out of a whole list (e.g. one a DataLoader fetched for many parents)."""
        chosen = rows[window.offset : window.offset + window.limit]
        return cls.from_slice([convert(row) for row in chosen], len(rows), window)
