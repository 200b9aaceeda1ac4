"""Error codes of the account area: registration, login, password, e-mail, profile."""

from __future__ import annotations

from models.errors import REAUTHENTICATION_REQUIRED as REAUTHENTICATION
from models.errors import SECOND_FACTOR_REQUIRED as SECOND_FACTOR
from models.errors import Declared, ErrorCode


class AccountErrorCode(ErrorCode):
    """What went wrong in an account operation."""

    VALUE_REQUIRED = Declared(
        "The field must not be empty.",
        "Bitte füllen Sie dieses Feld aus.",
        "Please fill in this field.",
    )
    VALUE_TOO_LONG = Declared(
        "The value is longer than allowed.",
        "Bitte verwenden Sie höchstens {max} Zeichen.",
        "Please use at most {max} characters.",
    )
    INVALID_EMAIL = Declared(
        "Not a usable e-mail address.",
        "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
        "Please enter a valid e-mail address.",
    )
    EMAIL_IN_USE = Declared(
        "Another login uses this address (whose is never said).",
        "Diese E-Mail-Adresse wird bereits für ein Benutzerkonto verwendet.",
        "This e-mail address is already used for a login.",
    )
    EMAIL_UNCHANGED = Declared(
        "The new address is the current one.",
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
    PROOF_REQUIRED = Declared(
        "Neither an invoice number nor a main meter number was given (R1).",
        "Bitte geben Sie die Nummer Ihrer letzten Rechnung oder Ihres Hauptzählers an.",
        "Please enter the number of your latest invoice or of your main meter.",
    )
    CUSTOMER_NOT_VERIFIED = Declared(
        "Customer number and invoice or meter number do not match (which one is never said).",
        "Kundennummer und Rechnungs- bzw. Zählernummer passen nicht zusammen. Bitte prüfen Sie "
        "Ihre Angaben auf Ihrer letzten Rechnung.",
        "Customer number and invoice or meter number do not match. Please check them on your "
        "latest invoice.",
    )
    NO_ANNUAL_BILL = Declared(
        "The customer has not had an annual bill yet, so cannot register (R2).",
        "Eine Registrierung ist erst nach Erhalt Ihrer ersten Jahresverbrauchsabrechnung möglich.",
        "You can register once you have received your first annual bill.",
    )
    CUSTOMER_NUMBER_TAKEN = Declared(
        "The customer number already belongs to a login (R5).",
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
    REAUTHENTICATION_REQUIRED = REAUTHENTICATION
    SECOND_FACTOR_REQUIRED = SECOND_FACTOR
    LINK_INVALID = Declared(
        "The link is unknown, already used or replaced.",
        "Dieser Link ist ungültig oder wurde bereits verwendet.",
        "This link is invalid or has already been used.",
    )
    LINK_EXPIRED = Declared(
        "The link is no longer valid.",
        "Dieser Link ist abgelaufen.",
        "This link has expired.",
    )
    SESSION_NOT_FOUND = Declared(
        "No such session of this login.",
        "Diese Sitzung gibt es nicht (mehr).",
        "This session does not exist (any more).",
    )
    CHOICE_REQUIRED = Declared(
        "Give exactly one of the alternative arguments.",
        "Bitte wählen Sie genau eine der Möglichkeiten.",
        "Please choose exactly one of the options.",
    )


# The character classes of R3, as PASSWORD_CHARACTER_CLASSES_MISSING names them (de, en).
CHARACTER_CLASS_NAMES = {
    "upper": ("Großbuchstaben", "upper-case letters"),
    "lower": ("Kleinbuchstaben", "lower-case letters"),
    "digit": ("Ziffern", "digits"),
    "special": ("Sonderzeichen", "special characters"),
}
