"""The customer area's error type: each problem of a customer, base data or reading
operation as a typed, translated `CustomerError`, with the dates and values its message names."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import strawberry

from models.customer_codes import NO_KEY_DATE_MESSAGE, NO_NEXT_PERIOD_MESSAGE, CustomerErrorCode
from models.errors import Problem
from resolvers import readings
from schema.errors import UserError, error_type, graphql_code


@error_type(CustomerErrorCode)
@strawberry.type(description="An expected failure of a customer, base data or reading operation.")
class CustomerError(UserError):
    starts_on: dt.date | None = strawberry.field(
        default=None, description="OUTSIDE_READING_PERIOD: first day of the next period."
    )
    ends_on: dt.date | None = strawberry.field(
        default=None, description="OUTSIDE_READING_PERIOD: last day of the next period."
    )
    key_date: dt.date | None = strawberry.field(
        default=None, description="RADIO_METER: the key date the meter is read remotely on."
    )
    last_value: Decimal | None = strawberry.field(
        default=None, description="BELOW_LAST_READING: the last reading's value in m³."
    )
    last_read_on: dt.date | None = strawberry.field(
        default=None, description="BELOW_LAST_READING: the last reading's day."
    )
    usual_maximum: Decimal | None = strawberry.field(
        default=None,
        description="UNUSUAL_CONSUMPTION: the highest value taken without confirmation.",
    )
    earliest: dt.date | None = strawberry.field(
        default=None, description="DATE_OUT_OF_RANGE: the earliest date allowed."
    )
    latest: dt.date | None = strawberry.field(
        default=None, description="DATE_OUT_OF_RANGE: the latest date allowed."
    )
    final_invoice_number: str | None = strawberry.field(
        default=None, description="CUSTOMER_CLOSED: the final invoice that closed the number."
    )

    @classmethod
    def from_problem(cls, problem: Problem, locale: str) -> CustomerError:
        p = problem.params
        return cls(
            code=graphql_code(problem.code),
            field=list(problem.field) if problem.field else None,
            message=_message(problem, locale),
            starts_on=p.get("startsOn"),
            ends_on=p.get("endsOn"),
            key_date=p.get("keyDate"),
            last_value=p.get("lastValue"),
            last_read_on=p.get("lastReadOn"),
            usual_maximum=p.get("usualMaximum"),
            earliest=p.get("earliest"),
            latest=p.get("latest"),
            final_invoice_number=p.get("finalInvoiceNumber"),
        )


def _shown(value: Any, locale: str) -> str:
    if isinstance(value, dt.date):
        return readings.format_day(value, locale)
    if isinstance(value, Decimal):
        return readings.format_m3(value, locale)
    return str(value)


def _message(problem: Problem, locale: str) -> str:
    params = problem.params
    german_english = None
    if problem.code == CustomerErrorCode.OUTSIDE_READING_PERIOD and not params.get("startsOn"):
        german_english = NO_NEXT_PERIOD_MESSAGE
    if problem.code == CustomerErrorCode.RADIO_METER and not params.get("keyDate"):
        german_english = NO_KEY_DATE_MESSAGE
    if german_english:
        return german_english[1] if locale == "en" else german_english[0]
    shown = {k: _shown(v, locale) for k, v in params.items() if v is not None}
    return problem.code.message(locale, **shown)
