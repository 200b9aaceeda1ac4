"""What the schema's resolvers take: strawberry's `Info` around the operations' `Context`,
the extension that tells the context which kind of operation runs, and `later` for
resolvers that answer synchronously when their data is loaded already."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Iterator
from typing import TypeVar, cast

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from resolvers.context import Context

Info = strawberry.Info[Context, None]
"""What every resolver takes as `info`; the operations get `info.context`."""

T = TypeVar("T")


def later(pending: Awaitable[T]) -> T:
    """Return `pending` from a resolver declared synchronous: graphql-core awaits whatever
    a resolver returns when it is awaitable.

    An `async def` resolver costs a coroutine, a task of graphql-core's gather and turns
    of the event loop even when its data is loaded already (the dashboard read primes the
    loaders). A field whose data is usually there (`resolvers.loaders.peek`) is declared
    `def`, answers at once when it can, and returns `later(...)` of the loading path
    when it cannot.
    """
    return cast(T, pending)


class MarkMutations(SchemaExtension):
    """Sets `Context.mutation` before execution: a cookie session may change data only
    with its CSRF token (`resolvers.auth.require_login`)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            # An unknown operation name fails execution anyway; it changes nothing then.
            with contextlib.suppress(RuntimeError):
                kind = self.execution_context.operation_type
                context.mutation = kind == OperationType.MUTATION
        yield
