"""How an operation fails, in plain Python: error codes declared once, `Problem`, `Outcome`.

Each area declares its codes as an `ErrorCode` enum (`models/*_codes.py`);
each member's value is a `Declared`: the description (GraphiQL shows it) and
the German and English message, with `{param}` placeholders; a word that
follows a count takes the form `{count:singular|plural}` ("{minutes}
{minutes:Minute|Minuten}": 1 Minute, 5 Minuten). The GraphQL enums
are derived from these in `schema/` and nothing else lists a code again.

An operation (`resolvers/`) returns an `Outcome`: its result, or the problems
that stopped it (then nothing changed). The schema's one adapter turns
problems into typed, translated errors. Failures of the request as a whole
(not logged in, too many attempts) raise `PublicError` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from enum import Enum
from string import Formatter
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class _Messages(Formatter):
    """`str.format`, plus `{count:singular|plural}` for the word a count governs."""

    def format_field(self, value: Any, format_spec: str) -> str:
        singular, bar, plural = format_spec.partition("|")
        if bar:
            return singular if value == 1 else plural
        return super().format_field(value, format_spec)


_MESSAGES = _Messages()

LOCALES = ("de", "en")


@dataclass(frozen=True, eq=False)
class Declared:
    """One error code's declaration. Without messages, the message comes from elsewhere
    (graphql-core's validation, or a protocol's fixed text) and the code name stands in.

    Compared by identity, so two codes with the same texts stay two codes.
    """

    description: str
    german: str | None = None
    english: str | None = None

    def worded(self, german: str, english: str) -> Declared:
        """The same code (same description) with an area's own message."""
        return Declared(self.description, german, english)


class ErrorCode(Enum):
    """Base of every area's error codes; the member's name is the code clients see."""

    @property
    def declared(self) -> Declared:
        value: Declared = self.value
        return value

    @property
    def description(self) -> str:
        return self.declared.description

    def message(self, locale: str, **params: object) -> str:
        """The message in `locale` (`de` unless `en`), placeholders filled from `params`."""
        declared = self.declared
        template = (declared.english if locale == "en" else declared.german) or self.name
        return _MESSAGES.format(template, **params) if params else template

    @classmethod
    def summary(cls) -> str:
        """The enum's description: its docstring on one line."""
        return " ".join((cls.__doc__ or "").split())


REAUTHENTICATION_REQUIRED = Declared(
    "The current password is missing or wrong. Changing the password or the login e-mail "
    "and deleting the profile always need it; other sensitive changes (online consent, base "
    "data) need it once the session logged in longer ago than the re-authentication time.",
    "Bitte bestätigen Sie die Änderung mit Ihrem aktuellen Passwort.",
    "Please confirm this change with your current password.",
)
"""One code for every sensitive change whose password `resolvers.auth.reauthenticate`
refuses; each area's enum has a REAUTHENTICATION_REQUIRED member with this declaration."""


SECOND_FACTOR_REQUIRED = Declared(
    "The login has a second factor, and this session has not given it recently enough for "
    "a sensitive change: give it with `startStepUp` and `stepUp`, then repeat the change.",
    "Bitte bestätigen Sie die Änderung mit Ihrem zweiten Faktor.",
    "Please confirm this change with your second factor.",
)
"""Beside REAUTHENTICATION_REQUIRED: the step-up `resolvers.auth.reauthentication_problem`
asks for; each area with sensitive changes has a SECOND_FACTOR_REQUIRED member with it."""


# Meanings shared by several areas: each area's enum has a member of this name, declared
# with this value (or `.worded(...)` with a message of its own); the GraphQL `ErrorCode`
# enum holds each name once, and its build refuses two descriptions under one name.

NOT_FOUND = Declared(
    "No such thing among this login's (another login's is never found either); `field` "
    "names the input that named it.",
    "Nicht gefunden.",
    "Not found.",
)
REQUIRED = Declared(
    "The field must not be empty.",
    "Bitte füllen Sie dieses Feld aus.",
    "Please fill in this field.",
)
TOO_LONG = Declared(
    "The value is longer than allowed (`maximum` characters, in the message).",
    "Bitte verwenden Sie höchstens {maximum} Zeichen.",
    "Please use at most {maximum} characters.",
)
EMAIL_INVALID = Declared(
    "Not a usable e-mail address.",
    "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
    "Please enter a valid e-mail address.",
)
CHOICE_REQUIRED = Declared(
    "Give exactly one of the alternative inputs (e.g. an ID or a number; a code, a recovery "
    "code or a passkey): none or more than one was given.",
    "Bitte geben Sie genau eine der Möglichkeiten an.",
    "Please give exactly one of the options.",
)
NOTHING_CHANGED = Declared(
    "The request would change nothing: the new value is the current one.",
    "Es gibt keine Änderung.",
    "Nothing would change.",
)
LINK_INVALID = Declared(
    "The link is unknown, already used or replaced, or too late for what it confirms.",
    "Dieser Link ist ungültig oder wurde bereits verwendet.",
    "This link is invalid or has already been used.",
)
CUSTOMER_NOT_VERIFIED = Declared(
    "Customer number and invoice or main meter number do not match a customer who may use "
    "the portal (which part is wrong is never said).",
    "Kundennummer und Rechnungs- bzw. Zählernummer passen nicht zusammen. Bitte prüfen Sie "
    "Ihre Angaben auf Ihrer letzten Rechnung.",
    "Customer number and invoice or meter number do not match. Please check them on your "
    "latest invoice.",
)
PROOF_REQUIRED = Declared(
    "Neither an invoice number nor a main meter number was given (R1).",
    "Bitte geben Sie die Nummer Ihrer letzten Rechnung oder Ihres Hauptzählers an.",
    "Please enter the number of your latest invoice or of your main meter.",
)
CUSTOMER_NUMBER_TAKEN = Declared(
    "The customer number is registered with another login (R5).",
    "Diese Kundennummer ist bereits mit einem anderen Benutzerkonto registriert.",
    "This customer number is already registered with another account.",
)


@dataclass(frozen=True)
class Problem:
    """An expected failure: a code, the path of the input it concerns, and the
    parameters its message and its typed error fields show."""

    code: ErrorCode
    field: tuple[str, ...] | None = None
    params: dict[str, Any] = dataclass_field(default_factory=dict)


def problem(code: ErrorCode, *field: str, **params: Any) -> Problem:
    """`Problem` with the field path as arguments: `problem(C.REQUIRED, "input", "name")`."""
    return Problem(code, field or None, params)


@dataclass
class Outcome(Generic[T]):
    """What an operation did: its result, or the problems that stopped it (nothing changed).

    `value` may be set with problems too, when the answer carries facts about the
    refusal (e.g. from when a new mail can be asked for). `mailed_to` is the
    masked address an operation mailed, if any (R19).
    """

    value: T | None = None
    problems: list[Problem] = dataclass_field(default_factory=list)
    mailed_to: str | None = None

    @classmethod
    def failed(cls, code: ErrorCode, *field: str, **params: Any) -> Outcome[T]:
        return cls(problems=[problem(code, *field, **params)])

    @property
    def ok(self) -> bool:
        return not self.problems


class PublicError(Exception):
    """A failure of the request as a whole, for the client as a GraphQL error with
    `extensions.code` (not masked). Used where no payload can carry it: not logged in,
    forbidden, too many requests."""

    def __init__(self, code: ErrorCode, locale: str, **params: object) -> None:
        self.code = code
        self.params = params
        super().__init__(code.message(locale, **params))

    @property
    def extensions(self) -> dict[str, object]:
        return {"code": self.code.name, **self.params}
