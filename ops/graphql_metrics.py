"""Counts GraphQL operations by what they do (their root fields) and how they ended.

The label is the root fields' names, never the client's operation name: only
fields of the schema can appear, so clients cannot create label values at will.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import FieldNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from ops.metrics import OPERATIONS

MAX_FIELDS_IN_LABEL = 3


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        ec = self.execution_context
        result = ec.result
        errors = getattr(result, "errors", None) or getattr(ec, "pre_execution_errors", None)
        if ec.graphql_document is None or (getattr(result, "data", None) is None and errors):
            label, outcome = "-", "rejected"
        else:
            label = self._root_fields(ec.graphql_document.definitions)
            outcome = "error" if errors else "ok"
        OPERATIONS.labels(label, outcome).inc()

    def _root_fields(self, definitions: object) -> str:
        names: list[str] = []
        # graphql-core's definitions are a Collection; typed `object` to keep the import light.
        for definition in definitions:  # type: ignore[attr-defined]
            if isinstance(definition, OperationDefinitionNode):
                op = definition.operation.value
                for selection in definition.selection_set.selections:
                    if isinstance(selection, FieldNode):
                        names.append(f"{op}.{selection.name.value}")
        names = sorted(set(names))
        if len(names) > MAX_FIELDS_IN_LABEL:
            return "multiple"
        return "+".join(names) or "-"
