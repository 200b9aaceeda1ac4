"""Error codes of customer numbers, base data and readings."""

from __future__ import annotations

from models import errors as shared
from models.errors import Declared, ErrorCode


class CustomerErrorCode(ErrorCode):
    """Codes of errors about customer numbers, customer data and readings."""

    NOT_FOUND = shared.NOT_FOUND
    PROOF_REQUIRED = shared.PROOF_REQUIRED
    CUSTOMER_NOT_VERIFIED = shared.CUSTOMER_NOT_VERIFIED.worded(
        "Die Angaben passen nicht zusammen. Bitte prüfen Sie Kundennummer und Rechnungsnummer "
        "der letzten Rechnung bzw. Zählernummer des Hauptzählers. Voraussetzung ist mindestens "
        "eine Jahresverbrauchsabrechnung.",
        "The details do not match. Please check the customer number and the number of the "
        "latest invoice or of the main meter. At least one annual bill is required.",
    )
    ALREADY_ADDED = Declared(
        "The customer number is already in your login.",
        "Diese Kundennummer ist bereits in Ihrem Benutzerkonto.",
        "This customer number is already in your account.",
    )
    CUSTOMER_NUMBER_TAKEN = shared.CUSTOMER_NUMBER_TAKEN
    LAST_CUSTOMER_NUMBER = Declared(
        "The last customer number cannot be removed; delete the profile instead.",
        "Die letzte Kundennummer kann nicht entfernt werden. Um das Portal zu verlassen, "
        "entfernen Sie Ihr Profil in den Einstellungen.",
        "The last customer number cannot be removed. To leave the portal, remove your profile "
        "in the settings.",
    )
    REQUIRED = shared.REQUIRED
    TOO_LONG = shared.TOO_LONG
    CHOICE_REQUIRED = shared.CHOICE_REQUIRED
    POSTAL_CODE_INVALID = Declared(
        "A postal code has exactly 5 digits.",
        "Eine Postleitzahl hat genau 5 Ziffern.",
        "A postal code has exactly 5 digits.",
    )
    PHONE_INVALID = Declared(
        "A phone number has 6 to 15 digits, optionally a leading +, spaces, slashes, hyphens "
        "and parentheses.",
        "Bitte geben Sie eine gültige Telefonnummer an (6 bis 15 Ziffern).",
        "Please enter a valid phone number (6 to 15 digits).",
    )
    EMAIL_INVALID = shared.EMAIL_INVALID
    COUNTRY_INVALID = Declared(
        "A country is given as its ISO 3166 two-letter code (DE, AT, …).",
        "Bitte geben Sie das Land als Länderkürzel mit zwei Buchstaben an, z. B. DE.",
        "Please give the country as its two-letter code, e.g. DE.",
    )
    NOTHING_CHANGED = shared.NOTHING_CHANGED
    CHANGE_EXPIRED = Declared(
        "The change request has expired; start the change again.",
        "Die Änderung ist abgelaufen. Bitte ändern Sie die Basisdaten erneut.",
        "The change has expired. Please edit the base data again.",
    )
    CHANGE_ALREADY_CONFIRMED = Declared(
        "The change request was confirmed before.",
        "Diese Änderung wurde bereits bestätigt.",
        "This change has already been confirmed.",
    )
    CHANGE_OUTDATED = Declared(
        "The data changed since the request was made; start the change again.",
        "Die Daten wurden inzwischen geändert. Bitte ändern Sie die Basisdaten erneut.",
        "The data has changed in the meantime. Please edit the base data again.",
    )
    REAUTHENTICATION_REQUIRED = shared.REAUTHENTICATION_REQUIRED
    SECOND_FACTOR_REQUIRED = shared.SECOND_FACTOR_REQUIRED
    VALUE_INVALID = Declared(
        "A reading is a non-negative number of m³ with at most 3 decimals and at most 9 digits "
        "before the decimal point.",
        "Bitte geben Sie den Zählerstand in m³ an: nicht negativ, höchstens 3 Nachkommastellen.",
        "Please enter the reading in m³: not negative, at most 3 decimals.",
    )
    OUTSIDE_READING_PERIOD = Declared(
        "No reading period is open for this meter (R13); `startsOn`/`endsOn` give the next one "
        "when it is known.",
        "Zählerstände können nur innerhalb der Ableseperiode übermittelt werden. Die nächste "
        "Ableseperiode ist vom {startsOn} bis {endsOn}.",
        "Readings can only be submitted within the reading period. The next reading period is "
        "from {startsOn} to {endsOn}.",
    )
    RADIO_METER = Declared(
        "A radio meter is read remotely by the utility on the key date `keyDate` (R14); "
        "customers do not submit readings for it.",
        "Dies ist ein Funkzähler. Er wird vom Wasserversorger zum Stichtag {keyDate} "
        "fernausgelesen; ein Zählerstand kann nicht über das Portal eingereicht werden.",
        "This is a radio meter. The utility reads it remotely on the key date {keyDate}; a "
        "reading cannot be submitted through the portal.",
    )
    METER_REMOVED = Declared(
        "The meter has been removed; it takes no more readings.",
        "Dieser Zähler wurde ausgebaut und nimmt keine Zählerstände mehr an.",
        "This meter has been removed and takes no more readings.",
    )
    BELOW_LAST_READING = Declared(
        "The value is below the last reading (`lastValue` on `lastReadOn`) and the meter has "
        "not been exchanged since.",
        "Der Zählerstand liegt unter dem letzten Zählerstand ({lastValue} m³ am {lastReadOn}).",
        "The reading is below the last reading ({lastValue} m³ on {lastReadOn}).",
    )
    UNUSUAL_CONSUMPTION = Declared(
        "The value is far above the expected use (more than `usualMaximum`); check it and send "
        "it again with `confirmUnusual: true`.",
        "Der Zählerstand ergibt einen ungewöhnlich hohen Verbrauch (erwartet höchstens "
        "{usualMaximum} m³). Bitte prüfen Sie ihn und bestätigen Sie ihn ausdrücklich.",
        "The reading means an unusually high consumption (expected at most {usualMaximum} m³). "
        "Please check it and confirm it explicitly.",
    )
    IDEMPOTENCY_KEY_REUSED = Declared(
        "The idempotency key was used before for a different reading.",
        "Dieser Schlüssel wurde bereits für einen anderen Zählerstand verwendet.",
        "This key was already used for a different reading.",
    )
    DATE_OUT_OF_RANGE = Declared(
        "The date lies outside what may be reported: from `earliest` to `latest`.",
        "Bitte wählen Sie ein Datum zwischen dem {earliest} und dem {latest}.",
        "Please choose a date between {earliest} and {latest}.",
    )
    MOVE_OUT_ALREADY_REPORTED = Declared(
        "A move-out has already been reported for this customer number; it is reported once.",
        "Für diese Kundennummer wurde bereits ein Auszug gemeldet.",
        "A move-out has already been reported for this customer number.",
    )
    NO_MOVE_OUT = Declared(
        "No move-out has been reported for this customer number: report it first.",
        "Für diese Kundennummer ist kein Auszug gemeldet. Bitte melden Sie zuerst den Auszug.",
        "No move-out has been reported for this customer number. Please report it first.",
    )
    OUTSIDE_FINAL_READING_WINDOW = Declared(
        "Final readings are taken from `startsOn` to `endsOn` around the move-out date.",
        "Der Schlusszählerstand kann vom {startsOn} bis zum {endsOn} eingegeben werden.",
        "The final reading can be entered from {startsOn} to {endsOn}.",
    )
    CUSTOMER_CLOSED = Declared(
        "The final invoice `finalInvoiceNumber` for this customer number has been sent after "
        "the move-out: it can be viewed but takes no readings or changes.",
        "Nach Ihrem Auszug wurde die Schlussrechnung {finalInvoiceNumber} erstellt. Diese "
        "Kundennummer kann nur noch eingesehen, aber nicht mehr geändert werden.",
        "After your move-out the final invoice {finalInvoiceNumber} was issued. This customer "
        "number can still be viewed but no longer changed.",
    )
    PHOTO_TOO_LARGE = Declared(
        "The photo file is larger than the limit (`maxMegabytes` MB).",
        "Das Foto ist zu groß (höchstens {maxMegabytes} MB).",
        "The photo is too large (at most {maxMegabytes} MB).",
    )
    PHOTO_TOO_MANY_PIXELS = Declared(
        "The photo has more pixels than the limit (`maxMegapixels` megapixels).",
        "Das Foto hat zu viele Bildpunkte (höchstens {maxMegapixels} Megapixel).",
        "The photo has too many pixels (at most {maxMegapixels} megapixels).",
    )
    PHOTO_NOT_AN_IMAGE = Declared(
        "The file is not a JPEG, PNG or WebP image (judged by its content, not its name).",
        "Die Datei ist kein Foto im Format JPEG, PNG oder WebP.",
        "The file is not a JPEG, PNG or WebP photo.",
    )


# Messages for the variants that a single template cannot express.
NO_NEXT_PERIOD_MESSAGE = (
    "Zählerstände können nur innerhalb der Ableseperiode übermittelt werden. "
    "Die nächste Ableseperiode steht noch nicht fest.",
    "Readings can only be submitted within the reading period. "
    "The next reading period has not been set yet.",
)
NO_KEY_DATE_MESSAGE = (
    "Dies ist ein Funkzähler. Er wird vom Wasserversorger zum Stichtag fernausgelesen; "
    "ein Zählerstand kann nicht über das Portal eingereicht werden.",
    "This is a radio meter. The utility reads it remotely on the key date; "
    "a reading cannot be submitted through the portal.",
)
