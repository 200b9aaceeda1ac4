"""Exports about money for the billing system: requests, bank details changes, online invoices.

Each writes the billing system's CSV (`;`, decimal comma, `TT.MM.JJJJ`). The
bank details export holds full IBANs: it is the one place they are decrypted,
its file is written readable by its owner only, and it takes only changes whose
cooling-off time has passed without objection, marking them exported first
(if writing the file then fails, `--repeat DATE` writes that day's rows once
more; billing recognises them by `aenderung_id`).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import TextIO

from dataio.csvformat import format_date, format_datetime, table_writer
from dataio.exporter import start_of_day
from models import (
    BankChangeStatus,
    BankDetailsChange,
    BudgetChangeRequest,
    Customer,
    PaymentMethod,
    RequestStatus,
)
from models.money_rules import euros
from security.bankdata import BankDataCipher

BUDGET_COLUMNS = (
    "anfrage_id",
    "kundennummer",
    "abschlag_neu",
    "abschlag_bisher",
    "gueltig_ab",
    "status",
    "erfasst_am",
)
BANK_COLUMNS = (
    "aenderung_id",
    "kundennummer",
    "zahlungsweise",
    "iban",
    "bic",
    "kontoinhaber",
    "mandatsreferenz",
    "mandat_erteilt_am",
    "mandat_fassung",
    "glaeubiger_id",
)
ONLINE_COLUMNS = ("kundennummer", "papierrechnung", "onlinekunde_seit")
STATUS_WORDS = {RequestStatus.PENDING: "offen", RequestStatus.CANCELLED: "zurueckgezogen"}
METHOD_WORDS = {PaymentMethod.DIRECT_DEBIT: "lastschrift", PaymentMethod.TRANSFER: "ueberweisung"}


async def export_budget_requests(
    stream: TextIO, since: dt.date, timezone: str, *, now: dt.datetime
) -> int:
    """Requests made on or after `since` (a local date) still open or withdrawn since;
    pending ones are marked exported."""
    zone = zoneinfo.ZoneInfo(timezone)
    writer = table_writer(stream, BUDGET_COLUMNS)
    requests = (
        await BudgetChangeRequest.filter(
            created_at__gte=start_of_day(since, timezone),
            status__in=(RequestStatus.PENDING, RequestStatus.CANCELLED),
        )
        .order_by("id")
        .select_related("customer")
    )
    for request in requests:
        writer.writerow(
            [
                str(request.id),
                request.customer.number,
                euros(request.amount_cents),
                euros(request.previous_cents),
                format_date(request.effective_on),
                STATUS_WORDS[request.status],
                format_datetime(request.created_at.astimezone(zone)),
            ]
        )
    pending = [r.id for r in requests if r.status == RequestStatus.PENDING]
    await BudgetChangeRequest.filter(id__in=pending, exported_at=None).update(exported_at=now)
    return len(requests)


async def claim_due_bank_changes(now: dt.datetime) -> list[BankDetailsChange]:
    """Mark the changes whose cooling-off time is over without a stop as exported, and
    return them: one UPDATE decides, so a stop arriving meanwhile either wins or finds
    the change exported (and is refused)."""
    await BankDetailsChange.filter(
        status=BankChangeStatus.COOLING_OFF, exportable_at__lte=now
    ).update(status=BankChangeStatus.EXPORTED, exported_at=now)
    return (
        await BankDetailsChange.filter(status=BankChangeStatus.EXPORTED, exported_at=now)
        .order_by("id")
        .select_related("customer")
    )


async def exported_bank_changes(on: dt.date, timezone: str) -> list[BankDetailsChange]:
    """The changes an export on local date `on` took, to write them once more."""
    start = start_of_day(on, timezone)
    return (
        await BankDetailsChange.filter(
            exported_at__gte=start,
            exported_at__lt=start_of_day(on + dt.timedelta(days=1), timezone),
        )
        .order_by("id")
        .select_related("customer")
    )


def write_bank_changes(
    stream: TextIO,
    changes: list[BankDetailsChange],
    cipher: BankDataCipher,
    *,
    creditor_id: str,
    timezone: str,
) -> None:
    zone = zoneinfo.ZoneInfo(timezone)
    writer = table_writer(stream, BANK_COLUMNS)
    for change in changes:
        debit = change.method == PaymentMethod.DIRECT_DEBIT
        accepted = change.mandate_accepted_at
        writer.writerow(
            [
                str(change.id),
                change.customer.number,
                METHOD_WORDS[change.method],
                cipher.decrypt(change.iban_encrypted) if change.iban_encrypted else "",
                change.bic,
                change.holder,
                change.mandate_reference,
                format_date(accepted.astimezone(zone).date()) if accepted else "",
                change.mandate_version or "",
                creditor_id if debit else "",
            ]
        )


async def export_online_customers(stream: TextIO, timezone: str) -> int:
    """Customers who gave the consent to online communication (R11) get no paper invoice."""
    zone = zoneinfo.ZoneInfo(timezone)
    writer = table_writer(stream, ONLINE_COLUMNS)
    count = 0
    for customer in await Customer.filter(online_consent=True).order_by("number"):
        since = customer.online_consent_at
        writer.writerow(
            [
                customer.number,
                "nein",
                format_date(since.astimezone(zone).date()) if since else "",
            ]
        )
        count += 1
    return count
