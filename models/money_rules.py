"""Rules of budget billing and bank details, as pure functions (no database, no clock).

Each rule is one function and has a test named after it. Problems come back as
data (a `Problem` with its code and parameters, no field yet), never as
exceptions, so that services can return them with the field the client sent.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from schwifty import IBAN
from schwifty.exceptions import InvalidChecksumDigits, SchwiftyException

from models.errors import Problem
from models.money import Rhythm
from models.money_codes import MoneyErrorCode

# ------------------------------------------------------------------ budget billing

_EUROS = re.compile(r"\d{1,7}(?:[.,]\d{1,2})?")
INSTALLMENTS_PER_YEAR = {Rhythm.MONTHLY: 12, Rhythm.BIMONTHLY: 6, Rhythm.QUARTERLY: 4}


def parse_euros(text: str) -> int | Problem:
    """An installment as a customer types it, in whole euros: `85`, `85,00` or `85.00`.

    Letters, signs and thousands separators are not an amount; cents other than
    `00` are refused (the utility sets installments in whole euros). Returns cents.
    """
    text = text.strip()
    if not _EUROS.fullmatch(text):
        return Problem(MoneyErrorCode.NOT_AN_AMOUNT)
    value = Decimal(text.replace(",", "."))
    if value != value.to_integral_value():
        return Problem(MoneyErrorCode.AMOUNT_NOT_WHOLE_EUROS)
    return int(value) * 100


def euros(cents: int) -> str:
    """Whole euros as shown in messages: `1.200` (German thousands dot)."""
    return f"{cents // 100:,}".replace(",", ".")


def check_installment(cents: int, *, minimum: int, maximum: int, current: int) -> Problem | None:
    """A requested installment lies within the utility's bounds and differs from today's."""
    if not minimum <= cents <= maximum:
        return Problem(
            MoneyErrorCode.AMOUNT_OUT_OF_RANGE,
            None,
            {"minimumCents": minimum, "maximumCents": maximum},
        )
    if cents == current:
        return Problem(MoneyErrorCode.NOTHING_CHANGED)
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


def check_iban(text: str) -> CheckedIban | Problem:
    """An IBAN for a SEPA direct debit: checksum and national format by schwifty, SEPA only."""
    try:
        iban = IBAN(text.strip())
    except InvalidChecksumDigits:
        return Problem(MoneyErrorCode.IBAN_CHECKSUM)
    except SchwiftyException:
        return Problem(MoneyErrorCode.IBAN_INVALID)
    if not iban.in_sepa_zone:
        return Problem(MoneyErrorCode.IBAN_NOT_SEPA)
    bic = iban.bic
    return CheckedIban(
        compact=iban.compact,
        masked=mask_iban(iban.compact),
        bic=str(bic) if bic is not None else "",
        bank_name=(iban.bank_name or "")[:200],
    )


HOLDER_MAX = 70  # SEPA: the debtor's name has at most 70 characters


def check_holder(name: str) -> Problem | None:
    """The account holder is required and fits a SEPA message."""
    name = name.strip()
    if not name:
        return Problem(MoneyErrorCode.REQUIRED)
    if len(name) > HOLDER_MAX:
        return Problem(MoneyErrorCode.TOO_LONG, None, {"maximum": HOLDER_MAX})
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
