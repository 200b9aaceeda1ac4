"""GraphQL execution with a short path for plain leaf fields.

graphql-core executes every field the same way: a path entry, a resolve-info object,
the resolver, then the value's completion through the type wrappers, some 25 Python
calls a field. Most fields of this API's answers are a model's attribute shown as a
scalar or an enum (an invoice's number, date and amount; a meter's kind): strawberry
resolves them with `getattr` and no info ("basic" fields: no resolver, no extension,
no permission). `PlainLeavesFirst` reads such a field, with an attribute getter where
strawberry's resolver comes down to `getattr`, and coerces it in place, in the order
of the selection; a text, a bool or a 32-bit int it passes on as graphql-core's own
scalars would, unchanged. Every other field, and every leaf whose value is not
plainly valid (null for a non-null field, an error, an awaitable, a value the scalar
refuses), goes to graphql-core's own `execute_field`, which then answers exactly as
it always does, errors and their paths included.

When an extension wraps every resolver (strawberry's `resolve` hook), every field
takes graphql-core's way. `execute_fields` is graphql-core 3.3's own with the short
path added (the lock file pins the version; on an upgrade, compare the two).
`tests/test_executor.py` compares whole answers, with and without errors, with
strawberry's executor. In the dashboard, about three fields in four take the short
path (README, Performance).
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple, cast

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    Undefined,
    is_leaf_type,
)
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class _Leaf(NamedTuple):
    read: Callable[[Any], Any]
    type: GraphQLLeafType
    non_null: bool
    shown_as_is: Any  # values of exactly this type the scalar returns unchanged, or None


# graphql-core's own scalars return a value of exactly these types unchanged (an Int
# also checks its range); any other value, a subclass included, is coerced as before.
_AS_IS: dict[GraphQLLeafType, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
    GraphQLInt: int,
}


_NOT_PLAIN = object()  # the value needs graphql-core's own completion
_PLANS: weakref.WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str], _Leaf | None]] = (
    weakref.WeakKeyDictionary()
)


def _leaf_of(field: GraphQLField | None) -> _Leaf | None:
    """The short path for `field`, when it is a basic field of a scalar or enum type."""
    if field is None or field.args or not getattr(field.resolve, "_is_default", False):
        return None
    field_type = field.type
    non_null = isinstance(field_type, GraphQLNonNull)
    of_type = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    if not is_leaf_type(of_type):
        return None
    leaf_type = cast("GraphQLLeafType", of_type)
    return _Leaf(_reader(field), leaf_type, non_null, _AS_IS.get(leaf_type))


def _reader(field: GraphQLField) -> Callable[[Any], Any]:
    """`field`'s resolver, or the attribute read it comes down to.

    For a field without resolver, extension or permission, strawberry's resolver calls
    the configured default resolver, `getattr` unless configured otherwise, with the
    field's Python name: an attribute getter reads the same value in one call. An
    exception takes graphql-core's way with the real resolver all the same.
    """
    definition = field.extensions.get("strawberry-definition")
    if (
        getattr(definition, "is_basic_field", False)
        and getattr(definition, "default_resolver", None) is getattr
        and isinstance(getattr(definition, "python_name", None), str)
    ):
        return operator.attrgetter(definition.python_name)  # type: ignore[union-attr]
    resolve = cast("Callable[[Any, Any], Any]", field.resolve)
    return lambda source: resolve(source, None)


def _plain_value(leaf: _Leaf, source: Any, is_awaitable: Any) -> Any:
    try:
        value = leaf.read(source)
        if value is None or value is Undefined:
            return _NOT_PLAIN if leaf.non_null else None
        if type(value) is leaf.shown_as_is and (
            leaf.shown_as_is is not int or GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT
        ):
            return value
        if isinstance(value, Exception) or is_awaitable(value):
            return _NOT_PLAIN
        coerced = leaf.type.coerce_output_value(value)
    except Exception:
        return _NOT_PLAIN
    return _NOT_PLAIN if coerced is None or coerced is Undefined else coerced


class PlainLeavesFirst(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, with plain leaf fields read and coerced in place."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plans = _PLANS.get(self.schema)
        if plans is None:
            plans = _PLANS[self.schema] = {}
        self._plans = plans

    def _leaf(self, parent_type: GraphQLObjectType, field_name: str) -> _Leaf | None:
        key = (parent_type.name, field_name)
        try:
            return self._plans[key]
        except KeyError:
            leaf = self._plans[key] = _leaf_of(self.schema.get_field(parent_type, field_name))
            return leaf

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's `Executor.execute_fields` (3.3), with the short path first."""
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:  # an extension wraps each resolver
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                leaf = None if node.arguments else self._leaf(parent_type, node.name.value)
                if leaf is not None:
                    value = _plain_value(leaf, source_value, is_awaitable)
                    if value is not _NOT_PLAIN:
                        results[response_name] = value
                        continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._awaited(results, awaitable_fields)

    async def _awaited(self, results: dict[str, Any], awaitable_fields: list[str]) -> Any:
        if len(awaitable_fields) == 1:
            field = awaitable_fields[0]
            results[field] = await results[field]
            return results
        awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
        results.update(zip(awaitable_fields, awaited, strict=True))
        return results
