"""Every area's error codes: the enums the GraphQL `ErrorCode` enum is derived from.

Payload errors (`UserError.code`) and request-level errors (`errors[].extensions.code`)
share one vocabulary: a name means the same in every area, so a client switches on it
alike wherever it meets it. A new area's enum is added here.
"""

from __future__ import annotations

from models.account_codes import AccountErrorCode
from models.contact_codes import ContactErrorCode
from models.customer_codes import CustomerErrorCode
from models.errors import ErrorCode
from models.money_codes import MoneyErrorCode
from models.request_codes import ApiErrorCode, PageErrorCode, RequestErrorCode
from models.second_factor_codes import SecondFactorErrorCode

AREAS: tuple[type[ErrorCode], ...] = (
    AccountErrorCode,
    ContactErrorCode,
    CustomerErrorCode,
    MoneyErrorCode,
    SecondFactorErrorCode,
    RequestErrorCode,
    ApiErrorCode,
    PageErrorCode,
)


def by_name(areas: tuple[type[ErrorCode], ...] = AREAS) -> dict[str, list[ErrorCode]]:
    """Each code name with its members across the areas."""
    found: dict[str, list[ErrorCode]] = {}
    for area in areas:
        for code in area:
            found.setdefault(code.name, []).append(code)
    return found


def conflicts(areas: tuple[type[ErrorCode], ...] = AREAS) -> list[str]:
    """Names declared with different descriptions in different areas (must be none)."""
    return sorted(
        name
        for name, codes in by_name(areas).items()
        if len({code.description for code in codes}) > 1
    )
