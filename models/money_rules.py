"""Rules of budget billing and bank details, as pure functions (no database, no clock).

Each rule is one function and has a test named after it. Problems come back as
data (`MoneyProblem`: a code and its parameters), never as exceptions, so that
services can return them in a payload with the field the client sent.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

from schwifty import IBAN
from schwifty.exceptions import InvalidChecksumDigits, SchwiftyException

from models.money import Rhythm


class MoneyCode(Enum):
    """Error codes of the money area: each with its description, German and English message."""

    def __new__(cls, value: str, description: str, german: str, english: str) -> MoneyCode:
        member = object.__new__(cls)
        member._value_ = value
        member.description = description  # type: ignore[attr-defined]
        member.messages = (german, english)  # type: ignore[attr-defined]
        return member

    NOT_FOUND = (
        "NOT_FOUND",
        "No such thing for this login (another customer's is never found either).",
        "Nicht gefunden.",
        "Not found.",
    )
    REQUIRED = (
        "REQUIRED",
        "The field must not be empty.",
        "Bitte füllen Sie dieses Feld aus.",
        "Please fill in this field.",
    )
    TOO_LONG = (
        "TOO_LONG",
        "The value is longer than allowed.",
        "Höchstens {maximum} Zeichen.",
        "At most {maximum} characters.",
    )
    NOT_AN_AMOUNT = (
        "NOT_AN_AMOUNT",
        "The amount is not a number of euros (digits, optionally ',00').",
        "Bitte geben Sie einen Betrag in Euro an, z. B. 85.",
        "Please give an amount in euros, e.g. 85.",
    )
    AMOUNT_NOT_WHOLE_EUROS = (
        "AMOUNT_NOT_WHOLE_EUROS",
        "The installment is set in whole euros; the amount has cents.",
        "Der Abschlag wird in ganzen Euro festgelegt, bitte ohne Cent.",
        "The installment is set in whole euros; please leave out the cents.",
    )
    AMOUNT_OUT_OF_RANGE = (
        "AMOUNT_OUT_OF_RANGE",
        "The amount is outside the range the utility allows; `minimum` and `maximum` (euros) "
        "are in the message.",
        "Der Abschlag muss zwischen {minimum} € und {maximum} € liegen.",
        "The installment must be between €{minimum} and €{maximum}.",
    )
    AMOUNT_UNCHANGED = (
        "AMOUNT_UNCHANGED",
        "The requested amount is the current one.",
        "Das ist bereits Ihr aktueller Abschlag.",
        "That is your current installment already.",
    )
    REQUEST_PENDING = (
        "REQUEST_PENDING",
        "A change request of this customer is still pending; cancel it or wait for the decision.",
        "Es liegt bereits ein offener Änderungswunsch vor. Bitte warten Sie die Entscheidung ab "
        "oder ziehen Sie ihn zurück.",
        "A change request is pending already. Please wait for the decision or withdraw it.",
    )
    NOT_PENDING = (
        "NOT_PENDING",
        "The request is no longer pending (decided or withdrawn).",
        "Dieser Änderungswunsch ist nicht mehr offen.",
        "This change request is no longer pending.",
    )
    NO_DUE_DATE = (
        "NO_DUE_DATE",
        "No due date of the plan is far enough away for a change.",
        "Für eine Änderung ist kein Fälligkeitstermin weit genug entfernt.",
        "No due date is far enough away for a change.",
    )
    IBAN_INVALID = (
        "IBAN_INVALID",
        "Not an IBAN: wrong length, characters or structure for its country.",
        "Das ist keine gültige IBAN.",
        "This is not a valid IBAN.",
    )
    IBAN_CHECKSUM = (
        "IBAN_CHECKSUM",
        "The IBAN's check digits do not match: most likely a typing error.",
        "Die Prüfziffer der IBAN stimmt nicht. Bitte prüfen Sie die Eingabe.",
        "The IBAN's check digits do not match. Please check your entry.",
    )
    IBAN_NOT_SEPA = (
        "IBAN_NOT_SEPA",
        "The account is in a country outside the SEPA area; direct debit is not possible.",
        "Lastschriften sind nur von Konten im SEPA-Raum möglich.",
        "Direct debit is possible only from accounts in the SEPA area.",
    )
    MANDATE_NOT_ACCEPTED = (
        "MANDATE_NOT_ACCEPTED",
        "Direct debit needs the SEPA mandate accepted, in its current version.",
        "Bitte erteilen Sie das SEPA-Lastschriftmandat in der aktuellen Fassung.",
        "Please accept the SEPA direct debit mandate in its current version.",
    )
    NOT_ALLOWED_FOR_TRANSFER = (
        "NOT_ALLOWED_FOR_TRANSFER",
        "Payment by transfer takes no IBAN, holder or mandate.",
        "Bei Überweisung werden keine Kontodaten benötigt.",
        "Payment by transfer takes no account details.",
    )
    UNCHANGED = (
        "UNCHANGED",
        "The new bank details are the current ones.",
        "Das sind bereits Ihre aktuellen Zahlungsdaten.",
        "These are your current payment details already.",
    )
    LINK_INVALID = (
        "LINK_INVALID",
        "The link is unknown, used already, or too late: the change was passed on to billing.",
        "Der Link ist ungültig oder wurde schon verwendet, oder die Änderung wurde bereits "
        "weitergegeben. Bitte wenden Sie sich an den Kundenservice.",
        "The link is invalid or was used already, or the change was passed on already. "
        "Please contact customer service.",
    )
    REAUTHENTICATION_REQUIRED = (
        "REAUTHENTICATION_REQUIRED",
        "The current password is missing or wrong; changing bank details always needs it.",
        "Bitte bestätigen Sie die Änderung mit Ihrem aktuellen Passwort.",
        "Please confirm this change with your current password.",
    )

    def message(self, locale: str, **params: Any) -> str:
        german, english = self.messages  # type: ignore[attr-defined]
        template = english if locale == "en" else german
        return template.format(**params) if params else template


@dataclass(frozen=True)
class MoneyProblem:
    code: MoneyCode
    params: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------ budget billing

_EUROS = re.compile(r"\d{1,7}(?:[.,]\d{1,2})?")
INSTALLMENTS_PER_YEAR = {Rhythm.MONTHLY: 12, Rhythm.BIMONTHLY: 6, Rhythm.QUARTERLY: 4}


def parse_euros(text: str) -> int | MoneyProblem:
    """An installment as a customer types it, in whole euros: `85`, `85,00` or `85.00`.

    Letters, signs and thousands separators are not an amount; cents other than
    `00` are refused (the utility sets installments in whole euros). Returns cents.
    """
    text = text.strip()
    if not _EUROS.fullmatch(text):
        return MoneyProblem(MoneyCode.NOT_AN_AMOUNT)
    value = Decimal(text.replace(",", "."))
    if value != value.to_integral_value():
        return MoneyProblem(MoneyCode.AMOUNT_NOT_WHOLE_EUROS)
    return int(value) * 100


def euros(cents: int) -> str:
    """Whole euros as shown in messages: `1.200` (German thousands dot)."""
    return f"{cents // 100:,}".replace(",", ".")


def check_installment(
    cents: int, *, minimum: int, maximum: int, current: int
) -> MoneyProblem | None:
    """A requested installment lies within the utility's bounds and differs from today's."""
    if not minimum <= cents <= maximum:
        return MoneyProblem(
            MoneyCode.AMOUNT_OUT_OF_RANGE, {"minimumCents": minimum, "maximumCents": maximum}
        )
    if cents == current:
        return MoneyProblem(MoneyCode.AMOUNT_UNCHANGED)
    return None


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def due_dates(first_due_on: dt.date, rhythm: Rhythm) -> list[dt.date]:
    """The plan's due dates for one year from the first: 12, 6 or 4 of them."""
    step = 12 // INSTALLMENTS_PER_YEAR[rhythm]
    return [_add_months(first_due_on, step * i) for i in range(INSTALLMENTS_PER_YEAR[rhythm])]


def effective_due_date(dates: list[dt.date], today: dt.date, lead_days: int) -> dt.date | None:
    """A change applies from the first due date at least `lead_days` after today, if any."""
    earliest = today + dt.timedelta(days=lead_days)
    return next((d for d in sorted(dates) if d >= earliest), None)


@dataclass(frozen=True)
class Projection:
    """What a year of installments would leave against the expected cost (not a promise)."""

    expected_cost_cents: int
    paid_cents: int

    @property
    def balance_cents(self) -> int:
        """Positive: a credit is to be expected with the annual bill; negative: a back payment."""
        return self.paid_cents - self.expected_cost_cents


def project_balance(
    amount_cents: int, rhythm: Rhythm, consumption_m3: Decimal, price_per_m3: Decimal
) -> Projection:
    """Expected cost = last year's consumption × today's price per m³ (all-in, gross);
    paid = installment × installments per year. Rounded to whole cents."""
    expected = (consumption_m3 * price_per_m3 * 100).quantize(Decimal(1))
    return Projection(int(expected), amount_cents * INSTALLMENTS_PER_YEAR[rhythm])


# -------------------------------------------------------------------- bank details


@dataclass(frozen=True)
class CheckedIban:
    """An IBAN that passed every check, with what the bank registry says about it."""

    compact: str
    masked: str
    bic: str
    bank_name: str


def mask_iban(compact: str) -> str:
    """`DE89 **** **** **** **30 00`: country and check digits, the last four, grouped by four."""
    hidden = compact[:4] + "*" * (len(compact) - 8) + compact[-4:]
    return " ".join(hidden[i : i + 4] for i in range(0, len(hidden), 4))


def check_iban(text: str) -> CheckedIban | MoneyProblem:
    """An IBAN for a SEPA direct debit: checksum and national format by schwifty, SEPA only."""
    try:
        iban = IBAN(text.strip())
    except InvalidChecksumDigits:
        return MoneyProblem(MoneyCode.IBAN_CHECKSUM)
    except SchwiftyException:
        return MoneyProblem(MoneyCode.IBAN_INVALID)
    if not iban.in_sepa_zone:
        return MoneyProblem(MoneyCode.IBAN_NOT_SEPA)
    bic = iban.bic
    return CheckedIban(
        compact=iban.compact,
        masked=mask_iban(iban.compact),
        bic=str(bic) if bic is not None else "",
        bank_name=(iban.bank_name or "")[:200],
    )


HOLDER_MAX = 70  # SEPA: the debtor's name has at most 70 characters


def check_holder(name: str) -> MoneyProblem | None:
    """The account holder is required and fits a SEPA message."""
    name = name.strip()
    if not name:
        return MoneyProblem(MoneyCode.REQUIRED)
    if len(name) > HOLDER_MAX:
        return MoneyProblem(MoneyCode.TOO_LONG, {"maximum": HOLDER_MAX})
    return None


def mandate_reference(customer_number: str, on: dt.datetime) -> str:
    """Mandatsreferenz (at most 35 characters, set by the utility): unique per customer and
    second, made of the characters SEPA allows."""
    return f"KP-{customer_number}-{on:%Y%m%d%H%M%S}"[:35]


def exportable_at(requested_at: dt.datetime, cooling_off_hours: int) -> dt.datetime:
    """A bank details change goes to billing only after the cooling-off time without objection."""
    return requested_at + dt.timedelta(hours=cooling_off_hours)


def mandate_text(locale: str, *, creditor: str, creditor_id: str) -> str:
    """The SEPA direct debit mandate as customers accept it (wording of the German banks'
    standard form), naming the utility and its Gläubiger-Identifikationsnummer."""
    if locale == "en":
        return (
            f"I authorise {creditor} (creditor identifier {creditor_id}) to collect payments "
            "from my account by direct debit. At the same time I instruct my bank to debit my "
            f"account in accordance with the instructions from {creditor}. Note: I may demand a "
            "refund of the debited amount within eight weeks, starting with the date of the "
            "debit. The conditions agreed with my bank apply. The mandate reference will be "
            "given to me separately."
        )
    return (
        f"Ich ermächtige {creditor} (Gläubiger-Identifikationsnummer {creditor_id}), Zahlungen "
        "von meinem Konto mittels Lastschrift einzuziehen. Zugleich weise ich mein "
        f"Kreditinstitut an, die von {creditor} auf mein Konto gezogenen Lastschriften "
        "einzulösen. Hinweis: Ich kann innerhalb von acht Wochen, beginnend mit dem "
        "Belastungsdatum, die Erstattung des belasteten Betrages verlangen. Es gelten dabei die "
        "mit meinem Kreditinstitut vereinbarten Bedingungen. Die Mandatsreferenz wird mir "
        "gesondert mitgeteilt."
    )
