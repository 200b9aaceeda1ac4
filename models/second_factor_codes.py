"""Error codes of the second factor: passkeys, authenticator app, recovery codes, step-up."""

from __future__ import annotations

from models import errors as shared
from models.errors import Declared, ErrorCode


class SecondFactorErrorCode(ErrorCode):
    """What went wrong with a passkey, an authenticator app or a recovery code."""

    REQUIRED = shared.REQUIRED
    TOO_LONG = shared.TOO_LONG
    CHOICE_REQUIRED = shared.CHOICE_REQUIRED.worded(
        "Bitte geben Sie genau eines an: Code, Wiederherstellungscode oder Passkey.",
        "Please give exactly one: code, recovery code or passkey.",
    )
    CODE_FORMAT_INVALID = Declared(
        "Not the shape of such a code: an authenticator app's code is six digits, a recovery "
        "code ten letters and digits. Nothing was checked or counted.",
        "Das ist kein gültiger Code. Ein Code der Authenticator-App hat sechs Ziffern.",
        "This is not a valid code. An authenticator app's code has six digits.",
    )
    CODE_INVALID = Declared(
        "The code is wrong, too old, or was used before (a code is accepted only once).",
        "Der Code ist falsch oder wurde bereits verwendet.",
        "The code is wrong or has already been used.",
    )
    PASSKEY_MALFORMED = Declared(
        "Not the JSON of a PublicKeyCredential (`credential.toJSON()`), or a binary member "
        "is not base64url; `field` names the member.",
        "Die Antwort des Passkeys ist unvollständig oder beschädigt.",
        "The passkey's answer is incomplete or damaged.",
    )
    PASSKEY_REJECTED = Declared(
        "The passkey's answer failed verification: wrong origin or relying party, no user "
        "verification, a bad signature or attestation, or a signature counter that went back "
        "(a cloned authenticator).",
        "Der Passkey konnte nicht bestätigt werden.",
        "The passkey could not be verified.",
    )
    PASSKEY_UNKNOWN = Declared(
        "No such passkey is registered here (for this login).",
        "Dieser Passkey ist hier nicht registriert.",
        "This passkey is not registered here.",
    )
    PASSKEY_LIMIT_REACHED = Declared(
        "The login holds as many passkeys as allowed; remove one first.",
        "Sie haben bereits {max} Passkeys. Bitte entfernen Sie zuerst einen.",
        "You already have {max} passkeys. Please remove one first.",
    )
    CHALLENGE_EXPIRED = Declared(
        "The challenge or second-factor token is unknown, was used already or expired: "
        "start the step again.",
        "Die Anfrage ist abgelaufen oder wurde bereits verwendet. Bitte beginnen Sie erneut.",
        "The request has expired or was already used. Please start again.",
    )
    ALREADY_ENROLLED = Declared(
        "An authenticator app is already set up; remove it before setting up another.",
        "Es ist bereits eine Authenticator-App eingerichtet.",
        "An authenticator app is already set up.",
    )
    ENROLMENT_EXPIRED = Declared(
        "No authenticator-app enrolment is waiting for its first code (none started, or it "
        "expired): start again.",
        "Die Einrichtung ist abgelaufen. Bitte beginnen Sie erneut.",
        "The set-up has expired. Please start again.",
    )
    NO_SECOND_FACTOR = Declared(
        "The login has no second factor set up.",
        "Für Ihr Benutzerkonto ist kein zweiter Faktor eingerichtet.",
        "Your login has no second factor set up.",
    )
    NOT_FOUND = shared.NOT_FOUND.worded(
        "Diesen Passkey gibt es nicht.",
        "There is no such passkey.",
    )
    REAUTHENTICATION_REQUIRED = shared.REAUTHENTICATION_REQUIRED
    SECOND_FACTOR_REQUIRED = shared.SECOND_FACTOR_REQUIRED
