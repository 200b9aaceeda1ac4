"""Operation limits: depth, aliases, tokens, cost; introspection off in prod.

The depth and alias rules are strawberry's own (`QueryDepthLimiter`,
`MaxAliasesLimiter`), but their validator classes are built once per schema
and added with one `AddValidationRules`: the limiters build a new class per
instance, and a new class per request would make every validation look new to
the document cache. `MaxTokensLimiter` bounds parsing itself.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

from api.errors import ApiErrorCode
from settings import Settings

# Arguments that choose how many items a list field returns.
PAGE_SIZE_ARGUMENTS = frozenset({"first", "last", "limit", "pageSize"})


def cost_rule(max_cost: int, assumed_page_size: int) -> type[ValidationRule]:
    """A validation rule: an operation may read at most `max_cost` fields.

    A field costs 1 for every object it is read on: the fields below a list
    field asked for `first: 50` count 50 times. A page size given by a variable
    counts as the variable's default, or as `assumed_page_size` (the largest
    page any field serves) when it has none, since validation runs before
    variables are known.
    """

    class CostLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.defaults: dict[str, int] = {}

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: object) -> None:
            self.defaults = {
                v.variable.name.value: int(v.default_value.value)
                for v in node.variable_definitions or ()
                if isinstance(v.default_value, IntValueNode)
            }
            cost = self.cost(node.selection_set, 1, frozenset())
            if cost > max_cost:
                name = node.name.value if node.name else "anonymous"
                self.report_error(
                    GraphQLError(
                        f"Operation '{name}' would cost at least {cost}, more than the limit "
                        f"of {max_cost}: ask for smaller pages or fewer fields.",
                        [node],
                        extensions={
                            "code": ApiErrorCode.OPERATION_TOO_COSTLY.name,
                            "cost": cost,
                            "maxCost": max_cost,
                        },
                    )
                )

        def page_size(self, field: FieldNode) -> int:
            for argument in field.arguments or ():
                if argument.name.value not in PAGE_SIZE_ARGUMENTS:
                    continue
                value = argument.value
                if isinstance(value, IntValueNode):
                    return max(int(value.value), 1)
                if isinstance(value, VariableNode):
                    return max(self.defaults.get(value.name.value, assumed_page_size), 1)
            return 1

        def cost(self, selections: SelectionSetNode | None, times: int, seen: frozenset) -> int:
            total = 0
            for selection in selections.selections if selections else ():
                if isinstance(selection, FieldNode):
                    total += times
                    if selection.selection_set:
                        inner = times * self.page_size(selection)
                        total += self.cost(selection.selection_set, inner, seen)
                elif isinstance(selection, InlineFragmentNode):
                    total += self.cost(selection.selection_set, times, seen)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.context.get_fragment(name)
                    if fragment is not None and name not in seen:  # cycles: another rule's job
                        total += self.cost(fragment.selection_set, times, seen | {name})
                if total > max_cost:  # enough to refuse; also bounds nested fragment blow-up
                    break
            return total

    return CostLimit


def operation_guards(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """The extensions that bound what one operation may ask for."""
    rules: list[type[ASTValidationRule]] = [
        depth_validator(settings.max_depth, should_ignore=None),
        aliases_validator(settings.max_aliases),
        cost_rule(settings.max_cost, settings.cost_assumed_page_size),
    ]
    if not settings.introspection_enabled:
        rules.append(NoSchemaIntrospectionCustomRule)
    return [
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        partial(AddValidationRules, rules),
    ]
