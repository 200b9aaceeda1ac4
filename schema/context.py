"""What the schema's resolvers take: strawberry's `Info` around the operations' `Context`,
and the extension that tells the context which kind of operation runs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from resolvers.context import Context

Info = strawberry.Info[Context, None]
"""What every resolver takes as `info`; the operations get `info.context`."""


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
