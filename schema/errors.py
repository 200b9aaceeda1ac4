"""Typed, translated errors that payloads carry as data.

Every area has its own error-code enum and error type implementing the
`UserError` interface; a front end switches on `code` and shows `message`.
Messages are German by default and English when the request asks for it
(`Accept-Language: en`).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

LOCALES = ("de", "en")
_MESSAGES: dict[Enum, tuple[str, str]] = {}


def register_messages(table: dict[Any, tuple[str, str]]) -> None:
    """Add an area's (German, English) message templates, keyed by error code."""
    _MESSAGES.update(table)


def message(code: Enum, locale: str, **params: object) -> str:
    german, english = _MESSAGES.get(code, (str(code.value), str(code.value)))
    template = english if locale == "en" else german
    return template.format(**params) if params else template


@strawberry.interface(
    description="An expected failure of an operation, returned as data. "
    "`code` is stable and meant to be switched on; `message` is for people."
)
class UserError:
    field: list[str] | None = strawberry.field(
        description="Path of the input field the error concerns, null if it concerns the whole."
    )
    message: str = strawberry.field(
        description="Human-readable explanation, German by default, English on request."
    )


# One code for every sensitive mutation whose password `resolvers.auth.reauthenticate` refuses,
# so a front end asks for the password the same way everywhere; each area's error enum has it,
# with this description and these messages.
REAUTHENTICATION_CODE = "REAUTHENTICATION_REQUIRED"
REAUTHENTICATION_DESCRIPTION = (
    "The current password is missing or wrong. Changing the password or the login e-mail "
    "and deleting the profile always need it; other sensitive changes (online consent, base "
    "data) need it once the session logged in longer ago than the re-authentication time."
)
REAUTHENTICATION_MESSAGES = (
    "Bitte bestätigen Sie die Änderung mit Ihrem aktuellen Passwort.",
    "Please confirm this change with your current password.",
)


class PublicError(Exception):
    """An error meant for the client as a GraphQL error (not masked), with a stable code.

    Used where no payload can carry it: not logged in, forbidden, too many requests.
    """

    def __init__(self, code: Enum, locale: str, **params: object) -> None:
        self.code = code
        self.params = params
        super().__init__(message(code, locale, **params))

    @property
    def extensions(self) -> dict[str, object]:
        return {"code": str(self.code.value), **self.params}
