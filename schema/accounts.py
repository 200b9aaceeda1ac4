"""GraphQL types of the account area: the login, its sessions, payloads and errors.

Every payload carries `errors: [AccountError!]!` (empty on success). Payloads
of operations that mail say which address they mailed, masked (R19), and those
that start a timed step say until when it is valid (`expiresAt`) and from when
a new mail can be asked for (`resendAvailableAt`), both in UTC.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING

import strawberry

from schema.errors import (
    REAUTHENTICATION_CODE,
    REAUTHENTICATION_DESCRIPTION,
    REAUTHENTICATION_MESSAGES,
    UserError,
    message,
    register_messages,
)

if TYPE_CHECKING:
    from models import Login as LoginRow
    from models import Session as SessionRow


def _code(name: str, description: str) -> strawberry.enum_value:  # type: ignore[valid-type]
    return strawberry.enum_value(name, description=description)


@strawberry.enum(description="What went wrong in an account operation.")
class AccountErrorCode(Enum):
    VALUE_REQUIRED = _code("VALUE_REQUIRED", "The field must not be empty.")
    VALUE_TOO_LONG = _code("VALUE_TOO_LONG", "The value is longer than allowed.")
    INVALID_EMAIL = _code("INVALID_EMAIL", "Not a usable e-mail address.")
    EMAIL_IN_USE = _code("EMAIL_IN_USE", "Another login uses this address (whose is never said).")
    EMAIL_UNCHANGED = _code("EMAIL_UNCHANGED", "The new address is the current one.")
    PASSWORD_TOO_SHORT = _code("PASSWORD_TOO_SHORT", "Fewer than 8 characters (R3).")
    PASSWORD_CHARACTER_CLASSES_MISSING = _code(
        "PASSWORD_CHARACTER_CLASSES_MISSING",
        "Lacks upper-case or lower-case letters, digits or special characters (R3).",
    )
    PASSWORD_TOO_LONG = _code(
        "PASSWORD_TOO_LONG", "Longer than 72 bytes of UTF-8, more than bcrypt can take."
    )
    PASSWORD_CONTAINS_PERSONAL_DATA = _code(
        "PASSWORD_CONTAINS_PERSONAL_DATA",
        "Contains the e-mail address's local part or a customer number.",
    )
    PASSWORD_TOO_COMMON = _code("PASSWORD_TOO_COMMON", "One of the most common passwords.")
    PROOF_REQUIRED = _code(
        "PROOF_REQUIRED", "Neither an invoice number nor a main meter number was given (R1)."
    )
    CUSTOMER_NOT_VERIFIED = _code(
        "CUSTOMER_NOT_VERIFIED",
        "Customer number and invoice or meter number do not match (which one is never said).",
    )
    NO_ANNUAL_BILL = _code(
        "NO_ANNUAL_BILL", "The customer has not had an annual bill yet, so cannot register (R2)."
    )
    CUSTOMER_NUMBER_TAKEN = _code(
        "CUSTOMER_NUMBER_TAKEN", "The customer number already belongs to a login (R5)."
    )
    REGISTRATION_PENDING = _code(
        "REGISTRATION_PENDING",
        "A registration for this customer number awaits its PIN; ask for a new PIN "
        "or wait until it expires.",
    )
    PIN_INVALID = _code("PIN_INVALID", "The PIN is wrong.")
    PIN_EXPIRED = _code("PIN_EXPIRED", "The PIN is no longer valid; ask for a new one (R4).")
    PIN_VOID = _code(
        "PIN_VOID", "The PIN was entered wrongly too often or replaced; ask for a new one."
    )
    RESEND_NOT_YET_AVAILABLE = _code(
        "RESEND_NOT_YET_AVAILABLE",
        "No new mail yet (cooldown or daily cap); `resendAvailableAt` says when.",
    )
    INVALID_CREDENTIALS = _code(
        "INVALID_CREDENTIALS", "E-mail address or password is wrong (which one is never said)."
    )
    LOGIN_NOT_CONFIRMED = _code(
        "LOGIN_NOT_CONFIRMED", "The registration is not confirmed yet: enter the PIN first."
    )
    REAUTHENTICATION_REQUIRED = _code(REAUTHENTICATION_CODE, REAUTHENTICATION_DESCRIPTION)
    LINK_INVALID = _code("LINK_INVALID", "The link is unknown, already used or replaced.")
    LINK_EXPIRED = _code("LINK_EXPIRED", "The link is no longer valid.")
    SESSION_NOT_FOUND = _code("SESSION_NOT_FOUND", "No such session of this login.")
    CHOICE_REQUIRED = _code("CHOICE_REQUIRED", "Give exactly one of the alternative arguments.")


register_messages(
    {
        AccountErrorCode.VALUE_REQUIRED: (
            "Bitte füllen Sie dieses Feld aus.",
            "Please fill in this field.",
        ),
        AccountErrorCode.VALUE_TOO_LONG: (
            "Bitte verwenden Sie höchstens {max} Zeichen.",
            "Please use at most {max} characters.",
        ),
        AccountErrorCode.INVALID_EMAIL: (
            "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
            "Please enter a valid e-mail address.",
        ),
        AccountErrorCode.EMAIL_IN_USE: (
            "Diese E-Mail-Adresse wird bereits für ein Benutzerkonto verwendet.",
            "This e-mail address is already used for a login.",
        ),
        AccountErrorCode.EMAIL_UNCHANGED: (
            "Das ist bereits Ihre E-Mail-Adresse.",
            "This already is your e-mail address.",
        ),
        AccountErrorCode.PASSWORD_TOO_SHORT: (
            "Das Passwort muss mindestens {min} Zeichen lang sein.",
            "The password must be at least {min} characters long.",
        ),
        AccountErrorCode.PASSWORD_CHARACTER_CLASSES_MISSING: (
            "Das Passwort muss Großbuchstaben, Kleinbuchstaben, Ziffern und Sonderzeichen "
            "enthalten. Es fehlen: {missing}.",
            "The password must contain upper-case and lower-case letters, digits and "
            "special characters. Missing: {missing}.",
        ),
        AccountErrorCode.PASSWORD_TOO_LONG: (
            "Das Passwort ist zu lang: höchstens 72 Byte (etwa 72 Zeichen ohne Umlaute).",
            "The password is too long: at most 72 bytes (about 72 characters without accents).",
        ),
        AccountErrorCode.PASSWORD_CONTAINS_PERSONAL_DATA: (
            "Das Passwort darf weder Ihre E-Mail-Adresse noch Ihre Kundennummer enthalten.",
            "The password must contain neither your e-mail address nor your customer number.",
        ),
        AccountErrorCode.PASSWORD_TOO_COMMON: (
            "Dieses Passwort ist zu verbreitet und leicht zu erraten. Bitte wählen Sie ein "
            "anderes.",
            "This password is too common and easy to guess. Please choose another one.",
        ),
        AccountErrorCode.PROOF_REQUIRED: (
            "Bitte geben Sie die Nummer Ihrer letzten Rechnung oder Ihres Hauptzählers an.",
            "Please enter the number of your latest invoice or of your main meter.",
        ),
        AccountErrorCode.CUSTOMER_NOT_VERIFIED: (
            "Kundennummer und Rechnungs- bzw. Zählernummer passen nicht zusammen. Bitte "
            "prüfen Sie Ihre Angaben auf Ihrer letzten Rechnung.",
            "Customer number and invoice or meter number do not match. Please check them "
            "on your latest invoice.",
        ),
        AccountErrorCode.NO_ANNUAL_BILL: (
            "Eine Registrierung ist erst nach Erhalt Ihrer ersten Jahresverbrauchsabrechnung "
            "möglich.",
            "You can register once you have received your first annual bill.",
        ),
        AccountErrorCode.CUSTOMER_NUMBER_TAKEN: (
            "Diese Kundennummer ist bereits registriert. Haben Sie Ihr Passwort vergessen?",
            "This customer number is already registered. Did you forget your password?",
        ),
        AccountErrorCode.REGISTRATION_PENDING: (
            "Für diese Kundennummer wartet eine Registrierung auf die Bestätigung mit dem PIN. "
            "Fordern Sie einen neuen PIN an oder registrieren Sie sich nach {hours} Stunden "
            "erneut.",
            "A registration for this customer number awaits confirmation with its PIN. Ask "
            "for a new PIN or register again after {hours} hours.",
        ),
        AccountErrorCode.PIN_INVALID: (
            "Der PIN ist nicht korrekt.",
            "The PIN is not correct.",
        ),
        AccountErrorCode.PIN_EXPIRED: (
            "Der PIN ist abgelaufen. Bitte fordern Sie einen neuen an.",
            "The PIN has expired. Please ask for a new one.",
        ),
        AccountErrorCode.PIN_VOID: (
            "Der PIN ist nicht mehr gültig. Bitte fordern Sie einen neuen an.",
            "The PIN is no longer valid. Please ask for a new one.",
        ),
        AccountErrorCode.RESEND_NOT_YET_AVAILABLE: (
            "Eine neue E-Mail kann erst in {minutes} Minute(n) angefordert werden.",
            "A new e-mail can be requested in {minutes} minute(s).",
        ),
        AccountErrorCode.INVALID_CREDENTIALS: (
            "E-Mail-Adresse oder Passwort ist nicht korrekt.",
            "E-mail address or password is not correct.",
        ),
        AccountErrorCode.LOGIN_NOT_CONFIRMED: (
            "Bitte bestätigen Sie zuerst Ihre Registrierung mit dem PIN aus unserer E-Mail.",
            "Please first confirm your registration with the PIN from our e-mail.",
        ),
        AccountErrorCode.REAUTHENTICATION_REQUIRED: REAUTHENTICATION_MESSAGES,
        AccountErrorCode.LINK_INVALID: (
            "Dieser Link ist ungültig oder wurde bereits verwendet.",
            "This link is invalid or has already been used.",
        ),
        AccountErrorCode.LINK_EXPIRED: (
            "Dieser Link ist abgelaufen.",
            "This link has expired.",
        ),
        AccountErrorCode.SESSION_NOT_FOUND: (
            "Diese Sitzung gibt es nicht (mehr).",
            "This session does not exist (any more).",
        ),
        AccountErrorCode.CHOICE_REQUIRED: (
            "Bitte wählen Sie genau eine der Möglichkeiten.",
            "Please choose exactly one of the options.",
        ),
    }
)

CHARACTER_CLASS_NAMES = {
    "upper": ("Großbuchstaben", "upper-case letters"),
    "lower": ("Kleinbuchstaben", "lower-case letters"),
    "digit": ("Ziffern", "digits"),
    "special": ("Sonderzeichen", "special characters"),
}


@strawberry.type(description="An expected failure of an account operation.")
class AccountError(UserError):
    code: AccountErrorCode = strawberry.field(description="Stable code to switch on.")

    @classmethod
    def of(
        cls, code: AccountErrorCode, locale: str, field: list[str] | None = None, **params: object
    ) -> AccountError:
        return cls(code=code, field=field, message=message(code, locale, **params))


@strawberry.enum(description="Which department a contact message goes to.")
class ContactDepartment(Enum):
    BILLING = strawberry.enum_value(
        "billing",
        description="Verbrauchsabrechnung: invoices, and requests to delete a login (R8).",
    )
    GENERAL = strawberry.enum_value("general", description="Customer service: everything else.")


# ------------------------------------------------------------------ objects


@strawberry.type(name="Login", description="The logged-in user account (Benutzerkonto).")
class LoginType:
    email: str = strawberry.field(description="The login e-mail address.")
    locale: str = strawberry.field(description="Language of mails: `de` or `en`.")
    created_at: dt.datetime = strawberry.field(description="When the login was registered.")
    confirmed_at: dt.datetime | None = strawberry.field(
        description="When the registration was confirmed with the PIN."
    )
    last_login_at: dt.datetime | None = strawberry.field(description="The latest login.")
    password_changed_at: dt.datetime | None = strawberry.field(
        description="The latest change of the password, null if never changed."
    )
    customer_numbers: list[str] = strawberry.field(
        description="Customer numbers this login holds, oldest first (numbers only)."
    )

    @classmethod
    def from_model(cls, row: LoginRow, customer_numbers: list[str]) -> LoginType:
        return cls(
            email=row.email,
            locale=row.locale,
            created_at=row.created_at,
            confirmed_at=row.confirmed_at,
            last_login_at=row.last_login_at,
            password_changed_at=row.password_changed_at,
            customer_numbers=customer_numbers,
        )


@strawberry.type(name="Session", description="A client logged in to this login.")
class SessionType:
    id: strawberry.ID = strawberry.field(description="Identifies the session for `endSessions`.")
    created_at: dt.datetime = strawberry.field(description="When the client logged in.")
    last_used_at: dt.datetime = strawberry.field(
        description="Last request of the client (to the minute)."
    )
    expires_at: dt.datetime = strawberry.field(
        description="The session ends at the latest then (absolute timeout)."
    )
    client: str = strawberry.field(description="The client's User-Agent, as it sent it.")
    client_address: str = strawberry.field(description="Network address the client logged in from.")
    current: bool = strawberry.field(description="True for the session making this request.")

    @classmethod
    def from_model(cls, row: SessionRow, current_id: int | None) -> SessionType:
        return cls(
            id=strawberry.ID(str(row.id)),
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            client=row.client,
            client_address=row.client_address,
            current=row.id == current_id,
        )


# ------------------------------------------------------------------- inputs


@strawberry.input(description="What registering needs (R1): customer, proof, e-mail, password.")
class RegisterInput:
    customer_number: str = strawberry.field(description="The customer number (Kundennummer).")
    invoice_number: str | None = strawberry.field(
        default=None, description="Number of the customer's latest invoice."
    )
    meter_number: str | None = strawberry.field(
        default=None, description="Number of the customer's main meter (instead of the invoice)."
    )
    email: str = strawberry.field(description="The login e-mail address; the PIN goes there.")
    password: str = strawberry.field(description="The chosen password (R3).")


@strawberry.input(description="A message through the public contact form.")
class ContactMessageInput:
    department: ContactDepartment = strawberry.field(description="Who should answer.")
    name: str = strawberry.field(description="The sender's name.")
    customer_number: str | None = strawberry.field(
        default=None, description="The sender's customer number, if any."
    )
    email: str = strawberry.field(description="Where the department should answer.")
    subject: str = strawberry.field(description="Subject line.")
    text: str = strawberry.field(description="The message.")


# ----------------------------------------------------------------- payloads


def _errors() -> list[AccountError]:
    return strawberry.field(  # type: ignore[return-value]
        default_factory=list, description="Why the operation failed; empty on success."
    )


def _mailed_to() -> str | None:
    return strawberry.field(  # type: ignore[return-value]
        default=None, description="The address mailed, masked like `e***a@example.org` (R19)."
    )


def _expires_at() -> dt.datetime | None:
    return strawberry.field(  # type: ignore[return-value]
        default=None, description="Until when the PIN or link just sent is valid (UTC)."
    )


def _resend_available_at() -> dt.datetime | None:
    return strawberry.field(  # type: ignore[return-value]
        default=None, description="From when another mail can be requested (UTC)."
    )


@strawberry.type(description="Result of `register`.")
class RegisterPayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = _mailed_to()
    expires_at: dt.datetime | None = _expires_at()
    resend_available_at: dt.datetime | None = _resend_available_at()
    registration_expires_at: dt.datetime | None = strawberry.field(
        default=None,
        description="If the PIN is not confirmed by then, the registration is removed.",
    )
    device_token: str | None = strawberry.field(
        default=None,
        description="Device token for apps (send as `X-Device-Token`): the device that "
        "registered keeps its own PIN attempts, whatever others enter. Browsers get a cookie.",
    )


@strawberry.type(description="Result of `confirmPin`.")
class ConfirmPinPayload:
    errors: list[AccountError] = _errors()
    confirmed: bool = strawberry.field(
        default=False, description="True when the login is now confirmed and can log in."
    )


@strawberry.type(description="Result of `resendPin`.")
class ResendPinPayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = _mailed_to()
    expires_at: dt.datetime | None = _expires_at()
    resend_available_at: dt.datetime | None = _resend_available_at()


@strawberry.type(description="Result of `login`.")
class LoginPayload:
    errors: list[AccountError] = _errors()
    token: str | None = strawberry.field(
        default=None,
        description="Session token for apps: send as `Authorization: Bearer <token>`. "
        "Browsers can ignore it: the session is also set as an HttpOnly cookie.",
    )
    csrf_token: str | None = strawberry.field(
        default=None,
        description="Send as `X-CSRF-Token` header with mutations authenticated by the cookie.",
    )
    session_expires_at: dt.datetime | None = strawberry.field(
        default=None, description="The session ends at the latest then."
    )
    device_token: str | None = strawberry.field(
        default=None,
        description="Device token for apps: keep it and send it as `X-Device-Token` header "
        "with later requests, above all with the next `login`; a known device is never locked "
        "out by someone else's wrong passwords. Browsers get it as an HttpOnly cookie.",
    )
    login: LoginType | None = strawberry.field(default=None, description="The logged-in login.")
    mailed_to: str | None = strawberry.field(
        default=None,
        description="Set when this was a client not seen before for the login: the address "
        "told of the new login, masked (R19).",
    )


@strawberry.type(description="Result of `logout` and `endSessions`.")
class EndSessionsPayload:
    errors: list[AccountError] = _errors()
    ended_sessions: int = strawberry.field(default=0, description="How many sessions ended.")


@strawberry.type(
    description="Result of `requestPasswordReset`: the same whether or not the "
    "address belongs to a login."
)
class RequestPasswordResetPayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = _mailed_to()
    expires_at: dt.datetime | None = _expires_at()
    resend_available_at: dt.datetime | None = _resend_available_at()


@strawberry.type(description="Result of `resetPassword` and `changePassword`.")
class PasswordPayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = strawberry.field(
        default=None, description="The address told of the change, masked (R19)."
    )


@strawberry.type(description="Result of `changeEmail`: a link went to the new address.")
class ChangeEmailPayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = _mailed_to()
    expires_at: dt.datetime | None = _expires_at()
    resend_available_at: dt.datetime | None = _resend_available_at()


@strawberry.type(description="Result of `confirmEmailChange`.")
class ConfirmEmailChangePayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = strawberry.field(
        default=None, description="The old address, told of the change with an undo link; masked."
    )


@strawberry.type(description="Result of `undoEmailChange`.")
class UndoEmailChangePayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = strawberry.field(
        default=None, description="The restored address, sent a password-reset link; masked."
    )
    expires_at: dt.datetime | None = strawberry.field(
        default=None, description="Until when that reset link is valid (UTC)."
    )


@strawberry.type(description="Result of `deleteProfile`.")
class DeleteProfilePayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = strawberry.field(
        default=None, description="The address sent the confirmation of deletion, masked."
    )


@strawberry.type(description="Result of `sendContactMessage`.")
class SendContactMessagePayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = strawberry.field(
        default=None, description="The department's address the message went to, masked."
    )
    reference: int | None = strawberry.field(
        default=None, description="Number of the message, to quote in later contact."
    )
