"""Error codes of budget billing, bank details and invoice documents."""

from __future__ import annotations

from models import errors as shared
from models.errors import Declared, ErrorCode


class MoneyErrorCode(ErrorCode):
    """Codes of errors about budget billing, bank details and invoice documents."""

    NOT_FOUND = shared.NOT_FOUND
    REQUIRED = shared.REQUIRED
    TOO_LONG = shared.TOO_LONG
    NOT_AN_AMOUNT = Declared(
        "The amount is not a number of euros (digits, optionally ',00').",
        "Bitte geben Sie einen Betrag in Euro an, z. B. 85.",
        "Please give an amount in euros, e.g. 85.",
    )
    AMOUNT_NOT_WHOLE_EUROS = Declared(
        "The installment is set in whole euros; the amount has cents.",
        "Der Abschlag wird in ganzen Euro festgelegt, bitte ohne Cent.",
        "The installment is set in whole euros; please leave out the cents.",
    )
    AMOUNT_OUT_OF_RANGE = Declared(
        "The amount is outside the range the utility allows; `minimum` and `maximum` (euros) "
        "are in the message.",
        "Der Abschlag muss zwischen {minimum} € und {maximum} € liegen.",
        "The installment must be between €{minimum} and €{maximum}.",
    )
    NOTHING_CHANGED = shared.NOTHING_CHANGED.worded(
        "Das entspricht bereits Ihren aktuellen Angaben.",
        "That is what you have already.",
    )
    REQUEST_PENDING = Declared(
        "A change request of this customer is still pending; cancel it or wait for the decision.",
        "Es liegt bereits ein offener Änderungswunsch vor. Bitte warten Sie die Entscheidung ab "
        "oder ziehen Sie ihn zurück.",
        "A change request is pending already. Please wait for the decision or withdraw it.",
    )
    NOT_PENDING = Declared(
        "The request is no longer pending (decided or withdrawn).",
        "Dieser Änderungswunsch ist nicht mehr offen.",
        "This change request is no longer pending.",
    )
    NO_DUE_DATE = Declared(
        "No due date of the plan is far enough away for a change.",
        "Für eine Änderung ist kein Fälligkeitstermin weit genug entfernt.",
        "No due date is far enough away for a change.",
    )
    IBAN_INVALID = Declared(
        "Not an IBAN: wrong length, characters or structure for its country.",
        "Das ist keine gültige IBAN.",
        "This is not a valid IBAN.",
    )
    IBAN_CHECKSUM = Declared(
        "The IBAN's check digits do not match: most likely a typing error.",
        "Die Prüfziffer der IBAN stimmt nicht. Bitte prüfen Sie die Eingabe.",
        "The IBAN's check digits do not match. Please check your entry.",
    )
    IBAN_NOT_SEPA = Declared(
        "The account is in a country outside the SEPA area; direct debit is not possible.",
        "Lastschriften sind nur von Konten im SEPA-Raum möglich.",
        "Direct debit is possible only from accounts in the SEPA area.",
    )
    MANDATE_NOT_ACCEPTED = Declared(
        "Direct debit needs the SEPA mandate accepted, in its current version.",
        "Bitte erteilen Sie das SEPA-Lastschriftmandat in der aktuellen Fassung.",
        "Please accept the SEPA direct debit mandate in its current version.",
    )
    NOT_ALLOWED_FOR_TRANSFER = Declared(
        "Payment by transfer takes no IBAN, holder or mandate.",
        "Bei Überweisung werden keine Kontodaten benötigt.",
        "Payment by transfer takes no account details.",
    )
    LINK_INVALID = shared.LINK_INVALID.worded(
        "Der Link ist ungültig oder wurde schon verwendet, oder die Änderung wurde bereits "
        "weitergegeben. Bitte wenden Sie sich an den Kundenservice.",
        "The link is invalid or was used already, or the change was passed on already. "
        "Please contact customer service.",
    )
    DOWNLOAD_LINK_INVALID = Declared(
        "An invoice PDF's download link (`GET /documents/invoices/…`) is unknown, tampered "
        "with, expired or not this login's (which is never said): fetch a new one from "
        "`Invoice.document`.",
        "Dieser Download-Link ist ungültig oder abgelaufen. Bitte laden Sie die Rechnung "
        "erneut im Kundenportal herunter.",
        "This download link is invalid or has expired. Please download the invoice again "
        "from the customer portal.",
    )
    REAUTHENTICATION_REQUIRED = shared.REAUTHENTICATION_REQUIRED
    SECOND_FACTOR_REQUIRED = shared.SECOND_FACTOR_REQUIRED
