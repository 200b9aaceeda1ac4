"""The money area's error type: codes derived from `models.money_codes`."""

from __future__ import annotations

import strawberry

from models.errors import Problem
from models.money_codes import MoneyErrorCode
from models.money_rules import euros
from schema.errors import UserError, error_type, graphql_code


@error_type(MoneyErrorCode)
@strawberry.type(description="An expected failure of a budget billing or payment operation.")
class MoneyError(UserError):
    minimum_euros: int | None = strawberry.field(
        default=None, description="AMOUNT_OUT_OF_RANGE: the smallest allowed installment."
    )
    maximum_euros: int | None = strawberry.field(
        default=None, description="AMOUNT_OUT_OF_RANGE: the largest allowed installment."
    )

    @classmethod
    def from_problem(cls, problem: Problem, locale: str) -> MoneyError:
        p = problem.params
        shown = {
            key.removesuffix("Cents"): euros(value) if key.endswith("Cents") else value
            for key, value in p.items()
        }
        return cls(
            code=graphql_code(problem.code),
            field=list(problem.field) if problem.field else None,
            message=problem.code.message(locale, **shown),
            minimum_euros=p["minimumCents"] // 100 if "minimumCents" in p else None,
            maximum_euros=p["maximumCents"] // 100 if "maximumCents" in p else None,
        )
