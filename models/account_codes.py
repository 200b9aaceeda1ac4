"""Error codes of the account area: registration, login, password, e-mail, profile."""

from __future__ import annotations

from models import errors as shared
from models.errors import Declared, ErrorCode


class AccountErrorCode(ErrorCode):
    """What went wrong in an account operation."""

    REQUIRED = shared.REQUIRED
    TOO_LONG = shared.TOO_LONG
    EMAIL_INVALID = shared.EMAIL_INVALID
    EMAIL_IN_USE = Declared(
        "Another login uses this address (whose is never said).",
        "Diese E-Mail-Adresse wird bereits für ein Benutzerkonto verwendet.",
        "This e-mail address is already used for a login.",
    )
    NOTHING_CHANGED = shared.NOTHING_CHANGED.worded(
        "Das ist bereits Ihre E-Mail-Adresse.",
        "This already is your e-mail address.",
    )
    PASSWORD_TOO_SHORT = Declared(
        "Fewer than 8 characters (R3).",
        "Das Passwort muss mindestens {min} Zeichen lang sein.",
        "The password must be at least {min} characters long.",
    )
    PASSWORD_CHARACTER_CLASSES_MISSING = Declared(
        "Lacks upper-case or lower-case letters, digits or special characters (R3).",
        "Das Passwort muss Großbuchstaben, Kleinbuchstaben, Ziffern und Sonderzeichen "
        "enthalten. Es fehlen: {missing}.",
        "The password must contain upper-case and lower-case letters, digits and special "
        "characters. Missing: {missing}.",
    )
    PASSWORD_TOO_LONG = Declared(
        "Longer than 72 bytes of UTF-8, more than bcrypt can take.",
        "Das Passwort ist zu lang: höchstens 72 Byte (etwa 72 Zeichen ohne Umlaute).",
        "The password is too long: at most 72 bytes (about 72 characters without accents).",
    )
    PASSWORD_CONTAINS_PERSONAL_DATA = Declared(
        "Contains the e-mail address's local part or a customer number.",
        "Das Passwort darf weder Ihre E-Mail-Adresse noch Ihre Kundennummer enthalten.",
        "The password must contain neither your e-mail address nor your customer number.",
    )
    PASSWORD_TOO_COMMON = Declared(
        "One of the most common passwords.",
        "Dieses Passwort ist zu verbreitet und leicht zu erraten. Bitte wählen Sie ein anderes.",
        "This password is too common and easy to guess. Please choose another one.",
    )
    PROOF_REQUIRED = shared.PROOF_REQUIRED
    CUSTOMER_NOT_VERIFIED = shared.CUSTOMER_NOT_VERIFIED
    NO_ANNUAL_BILL = Declared(
        "The customer has not had an annual bill yet, so cannot register (R2).",
        "Eine Registrierung ist erst nach Erhalt Ihrer ersten Jahresverbrauchsabrechnung möglich.",
        "You can register once you have received your first annual bill.",
    )
    CUSTOMER_NUMBER_TAKEN = shared.CUSTOMER_NUMBER_TAKEN.worded(
        "Diese Kundennummer ist bereits registriert. Haben Sie Ihr Passwort vergessen?",
        "This customer number is already registered. Did you forget your password?",
    )
    REGISTRATION_PENDING = Declared(
        "A registration for this customer number awaits its PIN; ask for a new PIN or wait "
        "until it expires.",
        "Für diese Kundennummer wartet eine Registrierung auf die Bestätigung mit dem PIN. "
        "Fordern Sie einen neuen PIN an oder registrieren Sie sich nach {hours} Stunden "
        "erneut.",
        "A registration for this customer number awaits confirmation with its PIN. Ask for a "
        "new PIN or register again after {hours} hours.",
    )
    PIN_INVALID = Declared(
        "The PIN is wrong.",
        "Der PIN ist nicht korrekt.",
        "The PIN is not correct.",
    )
    PIN_EXPIRED = Declared(
        "The PIN is no longer valid; ask for a new one (R4).",
        "Der PIN ist abgelaufen. Bitte fordern Sie einen neuen an.",
        "The PIN has expired. Please ask for a new one.",
    )
    PIN_VOID = Declared(
        "The PIN was entered wrongly too often or replaced; ask for a new one.",
        "Der PIN ist nicht mehr gültig. Bitte fordern Sie einen neuen an.",
        "The PIN is no longer valid. Please ask for a new one.",
    )
    RESEND_NOT_YET_AVAILABLE = Declared(
        "No new mail yet (cooldown or daily cap); `resendAvailableAt` says when.",
        "Eine neue E-Mail kann erst in {minutes} {minutes:Minute|Minuten} angefordert werden.",
        "A new e-mail can be requested in {minutes} {minutes:minute|minutes}.",
    )
    INVALID_CREDENTIALS = Declared(
        "E-mail address or password is wrong (which one is never said).",
        "E-Mail-Adresse oder Passwort ist nicht korrekt.",
        "E-mail address or password is not correct.",
    )
    LOGIN_NOT_CONFIRMED = Declared(
        "The registration is not confirmed yet: enter the PIN first.",
        "Bitte bestätigen Sie zuerst Ihre Registrierung mit dem PIN aus unserer E-Mail.",
        "Please first confirm your registration with the PIN from our e-mail.",
    )
    REAUTHENTICATION_REQUIRED = shared.REAUTHENTICATION_REQUIRED
    SECOND_FACTOR_REQUIRED = shared.SECOND_FACTOR_REQUIRED
    LINK_INVALID = shared.LINK_INVALID
    LINK_EXPIRED = Declared(
        "The link is no longer valid.",
        "Dieser Link ist abgelaufen.",
        "This link has expired.",
    )
    NOT_FOUND = shared.NOT_FOUND.worded(
        "Diese Sitzung gibt es nicht (mehr).",
        "This session does not exist (any more).",
    )
    CHOICE_REQUIRED = shared.CHOICE_REQUIRED


# The character classes of R3, as PASSWORD_CHARACTER_CLASSES_MISSING names them (de, en).
CHARACTER_CLASS_NAMES = {
    "upper": ("Großbuchstaben", "upper-case letters"),
    "lower": ("Kleinbuchstaben", "lower-case letters"),
    "digit": ("Ziffern", "digits"),
    "special": ("Sonderzeichen", "special characters"),
}
