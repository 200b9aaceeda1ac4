"""Operation limits: depth, aliases, tokens, cost, validation work; introspection off in prod.

`max_tokens` bounds parsing. Depth, aliases and cost are one validation rule
over a summary that visits each fragment once (`DocumentSummary`), built once
per schema (a new class per request would make every validation look new to
the document cache). The validation budget refuses, before graphql-core's own
rules run, documents whose validation would take long (many same-named fields
to compare). `DocumentLimits` holds the three; the document cache
(`api.persisted.CachedDocuments`) applies them to the documents it has not seen,
in its own hooks: an extension of its own per limit would cost its hooks on
every operation, cached or not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.types import ExecutionContext

from api.errors import ApiErrorCode
from settings import Settings

# Arguments that choose how many items a list field returns.
PAGE_SIZE_ARGUMENTS = frozenset({"first", "last", "limit", "pageSize"})


@dataclass
class _Summary:
    """What a selection set (with its fragments) adds up to; fragments are summed once."""

    height: int = 0
    aliases: int = 0
    cost: int = 0  # fields read per object the selection set is read on
    merge_work: int = 0  # pairs of same-named fields graphql-core's overlap rule compares


class DocumentSummary:
    """Depth, aliases, cost and merge work of every operation, visiting each fragment once.

    strawberry's depth and alias limiters walk a fragment again at every spread,
    so a 1 KB document of fragments spreading the next one twice takes them
    seconds (2^n walks); here a fragment's summary is computed once and reused,
    which makes the whole pass linear in the document's size. Counts that
    multiply (aliases and cost under repeated spreads) are exact, as Python's
    integers do not overflow.
    """

    def __init__(self, document: DocumentNode, page_size: Callable[[FieldNode], int]) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.page_size = page_size
        self.memo: dict[str, _Summary] = {}
        self.visiting: set[str] = set()

    def fragment(self, name: str) -> _Summary:
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:  # unknown or a cycle: other rules say so
            return _Summary()
        self.visiting.add(name)
        summary = self.selection_set(definition.selection_set)
        self.visiting.discard(name)
        self.memo[name] = summary
        return summary

    def selection_set(self, selections: SelectionSetNode | None) -> _Summary:
        total = _Summary()
        names: dict[str, list[int]] = {}  # response name -> [fields, fields below them]
        pending: list[SelectionSetNode] = [selections] if selections else []
        while pending:
            for selection in pending.pop().selections:
                if isinstance(selection, FieldNode):
                    key = (selection.alias or selection.name).value
                    seen = names.setdefault(key, [0, 0])
                    seen[0] += 1
                    total.aliases += 1 if selection.alias else 0
                    total.cost += 1
                    if selection.selection_set is None:
                        continue
                    inner = self.selection_set(selection.selection_set)
                    seen[1] += inner.cost
                    if not selection.name.value.startswith("__"):
                        total.height = max(total.height, inner.height + 1)
                    total.aliases += inner.aliases
                    total.cost += self.page_size(selection) * inner.cost
                    total.merge_work += inner.merge_work
                elif isinstance(selection, InlineFragmentNode):
                    pending.append(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    names["..." + selection.name.value] = [1, 0]
                    inner = self.fragment(selection.name.value)
                    total.height = max(total.height, inner.height)
                    total.aliases += inner.aliases
                    total.cost += inner.cost
                    total.merge_work += inner.merge_work
        # Each pair of same-named fields is compared, their sub-selections too; each
        # fragment spread is compared with the fields and spreads beside it.
        spreads = sum(1 for key in names if key.startswith("..."))
        # Units of about 1 µs, measured with graphql-core 3.3 on this 2-core machine under
        # load: a pair of leaves 2 units, a pair whose sub-selections are compared 10 more
        # per field below, a fragment spread against a field or another spread 40.
        total.merge_work += sum(2 * k * k + 10 * k * below for k, below in names.values())
        total.merge_work += spreads * len(names) * 40
        return total


def _page_size(defaults: dict[str, int], assumed: int) -> Callable[[FieldNode], int]:
    def page_size(field: FieldNode) -> int:
        for argument in field.arguments or ():
            if argument.name.value not in PAGE_SIZE_ARGUMENTS:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(int(value.value), 1)
            if isinstance(value, VariableNode):
                return max(defaults.get(value.name.value, assumed), 1)
        return 1

    return page_size


NUL_REFUSED = "a string holds a NUL character (\\u0000), which no text of the portal takes"


class NoNulInStrings(ValidationRule):
    """A string literal of the document holding a NUL character (written `\\u0000`) is
    refused like a malformed variable: no text of the portal holds one, and PostgreSQL
    cannot store it."""

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if "\x00" in node.value:
            self.report_error(
                GraphQLError(
                    NUL_REFUSED,
                    [node],
                    extensions={"code": ApiErrorCode.BAD_USER_INPUT.name, "reason": NUL_REFUSED},
                )
            )


def limits_rule(settings: Settings) -> type[ValidationRule]:
    """One validation rule for depth (`max_depth`), aliases (`max_aliases`, over the
    whole document) and cost (`max_cost`), each fragment summed once (`DocumentSummary`).

    Cost: a field costs 1 for every object it is read on, so the fields below a
    list field asked for `first: 50` count 50 times. A page size given by a
    variable counts as the variable's default, or as `cost_assumed_page_size`
    (the largest page any field serves) when it has none, since validation runs
    before variables are known.
    """
    max_depth, max_aliases, max_cost = settings.max_depth, settings.max_aliases, settings.max_cost

    class OperationLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            aliases = 0
            for node in context.document.definitions:
                if not isinstance(node, OperationDefinitionNode):
                    continue
                summary = self.summarise(node)
                aliases += summary.aliases
                name = node.name.value if node.name else "anonymous"
                if summary.height > max_depth:
                    self.refuse(f"'{name}' exceeds maximum operation depth of {max_depth}", node)
                if summary.cost > max_cost:
                    self.refuse(
                        f"Operation '{name}' would cost at least {summary.cost}, more than the "
                        f"limit of {max_cost}: ask for smaller pages or fewer fields.",
                        node,
                        code=ApiErrorCode.OPERATION_TOO_COSTLY.name,
                        cost=summary.cost,
                        maxCost=max_cost,
                    )
            if aliases > max_aliases:
                self.refuse(f"{aliases} aliases found. Allowed: {max_aliases}")

        def summarise(self, node: OperationDefinitionNode) -> _Summary:
            defaults = {
                v.variable.name.value: int(v.default_value.value)
                for v in node.variable_definitions or ()
                if isinstance(v.default_value, IntValueNode)
            }
            page_size = _page_size(defaults, settings.cost_assumed_page_size)
            summary = DocumentSummary(self.context.document, page_size)
            return summary.selection_set(node.selection_set)

        def refuse(self, text: str, node: Node | None = None, **extensions: Any) -> None:
            self.report_error(
                GraphQLError(text, [node] if node else None, extensions=extensions or None)
            )

    return OperationLimits


@dataclass(frozen=True)
class DocumentLimits:
    """What bounds a document before it runs: its tokens (`max_tokens`, while parsing),
    the validation rules (depth, aliases, cost; no introspection in production) and the
    validation budget."""

    max_tokens: int
    rules: tuple[type[ASTValidationRule], ...]
    budget: int

    def prepare(self, ec: ExecutionContext) -> None:
        """Before parsing: the token limit and the rules, for strawberry's parse and validation."""
        ec.parse_options["max_tokens"] = self.max_tokens
        ec.validation_rules = ec.validation_rules + self.rules

    def over_budget(self, document: DocumentNode) -> GraphQLError | None:
        """The refusal of a document whose validation would cost more than `budget` units
        (milliseconds of work instead of seconds), before graphql-core validates it.

        graphql-core's OverlappingFieldsCanBeMerged compares every pair of fields with
        the same response name in a selection set: 1,900 repetitions of one field
        (within `MAX_TOKENS`) take it about 0.3 s of CPU, during which the event
        loop serves nobody. `DocumentSummary.merge_work` counts those pairs (and
        fragment spreads against the fields beside them) in one linear pass, each
        fragment once. Documents already validated (the document cache) skip this.
        """
        work = sum(
            DocumentSummary(document, lambda _: 1).selection_set(d.selection_set).merge_work
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
        )
        if work <= self.budget:
            return None
        return GraphQLError(
            f"The document is too complex to validate ({work} units of work, "
            f"at most {self.budget}): repeat fields and fragment spreads less often.",
            extensions={
                "code": ApiErrorCode.OPERATION_TOO_COSTLY.name,
                "validationWork": work,
                "maxValidationWork": self.budget,
            },
        )


def document_limits(settings: Settings) -> DocumentLimits:
    """The limits of one schema, built once (its rule class stays the same object)."""
    rules: list[type[ASTValidationRule]] = [limits_rule(settings), NoNulInStrings]
    if not settings.introspection_enabled:
        rules.append(NoSchemaIntrospectionCustomRule)
    return DocumentLimits(settings.max_tokens, tuple(rules), settings.validation_budget)
