"""`kundenportal import-invoice-documents FOLDER`: the PDF of each invoice, from billing.

The folder holds the PDFs and an index CSV (`index.csv` unless named otherwise)
with the columns `rechnungsnummer;datei;sha256` and optionally `faellig_am`.
Like every import it is all or nothing: each row is checked first (a known
invoice, a plain file name in the folder, a PDF no larger than
INVOICE_PDF_MAX_BYTES whose SHA-256 is the index's), and one bad row imports
nothing. Files are then put into the document store (content-addressed, so the
same file is stored once) and attached in one transaction; re-importing the
same files changes nothing.

For an online customer (R11) a first PDF of an invoice is announced by mail
(no attachment: a link to the portal, amount and due date), in the same
transaction, to the login holding the customer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path

from tortoise.transactions import in_transaction

import clock
from dataio.csvformat import Problem, parse_date, read_table
from dataio.import_kinds import Fields
from dataio.importer import ImportReport
from documents.pdf import checksum_problem, pdf_problem
from documents.store import INVOICE_PDFS, DocumentStore, content_key
from mailers.outbox import queue_mail
from models import Invoice, InvoiceDocument, LoginCustomer
from settings import Settings

KIND = "invoice-documents"
REQUIRED = ("rechnungsnummer", "datei", "sha256")
OPTIONAL = ("faellig_am",)
_FILE_NAME = re.compile(r"[\w][\w.\- ]{0,199}")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(slots=True)
class DocumentRow:
    line: int
    invoice_number: str
    file_name: str
    sha256: str
    due_on: dt.date | None
    size: int = 0
    invoice_id: int = 0


def _parse(fields: Fields, line: int) -> DocumentRow:
    file_name = fields.text("datei", max_length=200, required=True)
    fields.check(
        not file_name or (_FILE_NAME.fullmatch(file_name) is not None and ".." not in file_name),
        f"datei '{file_name}' is not a plain file name in the folder",
    )
    sha256 = fields.text("sha256", max_length=64, required=True)
    fields.check(not sha256 or bool(_SHA256.fullmatch(sha256)), "sha256 is not 64 hex digits")
    return DocumentRow(
        line,
        invoice_number=fields.key("rechnungsnummer", max_length=30),
        file_name=file_name,
        sha256=sha256.lower(),
        due_on=fields.parsed("faellig_am", parse_date, required=False),
    )


def _file_problem(folder: Path, row: DocumentRow, max_bytes: int) -> str | None:
    path = folder / row.file_name
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return f"datei {row.file_name}: {size} bytes, more than the {max_bytes} allowed"
        data = path.read_bytes()
    except OSError as error:
        return f"datei {row.file_name}: {error.strerror or error}"
    problem = pdf_problem(data, max_bytes=max_bytes) or checksum_problem(data, row.sha256)
    row.size = len(data)
    return f"datei {row.file_name}: {problem}" if problem else None


async def import_invoice_documents(
    folder: Path,
    *,
    store: DocumentStore,
    settings: Settings,
    index: Path | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Check every row of the index and its file, then attach all or nothing.

    Raises OSError when the index cannot be read.
    """
    started = time.perf_counter()
    index = index or folder / "index.csv"
    report = ImportReport(kind=KIND, source=str(index), dry_run=dry_run)
    table = read_table(
        await asyncio.to_thread(index.read_bytes), required=REQUIRED, optional=OPTIONAL
    )
    problems = table.problems
    rows: list[DocumentRow] = []
    first_line: dict[str, int] = {}
    for raw in table.rows:
        fields = Fields(raw)
        row = _parse(fields, raw.line)
        if (first := first_line.get(row.invoice_number)) is not None:
            fields.errors.append(
                f"invoice number {row.invoice_number} appears twice (first on line {first})"
            )
        if not fields.errors and (
            problem := await asyncio.to_thread(
                _file_problem, folder, row, settings.invoice_pdf_max_bytes
            )
        ):
            fields.errors.append(problem)
        problems.extend(Problem(raw.line, error) for error in fields.errors)
        first_line.setdefault(row.invoice_number, raw.line)
        if not fields.errors:
            rows.append(row)
    report.rows = len(table.rows)

    invoices = {
        i.number: i
        for i in await Invoice.filter(number__in=[r.invoice_number for r in rows]).select_related(
            "customer"
        )
    }
    for row in rows:
        invoice = invoices.get(row.invoice_number)
        if invoice is None:
            problems.append(Problem(row.line, f"invoice number {row.invoice_number} is unknown"))
        else:
            row.invoice_id = invoice.id
    if problems:
        report.problems = sorted(dict.fromkeys(problems), key=lambda p: p.line)
        return _finish(report, started)
    if dry_run:
        return _finish(report, started)

    keys = {}
    for row in rows:
        data = await asyncio.to_thread((folder / row.file_name).read_bytes)
        if hashlib.sha256(data).hexdigest() != row.sha256:  # changed since the check
            report.problems = [
                Problem(row.line, f"datei {row.file_name} changed during the import")
            ]
            return _finish(report, started)
        keys[row.invoice_number] = content_key(INVOICE_PDFS, data)
        await store.put(keys[row.invoice_number], data)

    now = clock.now()
    replaced: list[str] = []
    async with in_transaction() as connection:
        existing = {
            d.invoice_id: d
            for d in await InvoiceDocument.filter(
                invoice_id__in=[r.invoice_id for r in rows]
            ).using_db(connection)
        }
        for row in rows:
            document = existing.get(row.invoice_id)
            if document is None:
                await InvoiceDocument.create(
                    invoice_id=row.invoice_id,
                    storage_key=keys[row.invoice_number],
                    sha256=row.sha256,
                    size=row.size,
                    due_on=row.due_on,
                    imported_at=now,
                    using_db=connection,
                )
                report.inserted += 1
                await _announce(invoices[row.invoice_number], row, settings, connection)
            elif (document.sha256, document.due_on) != (row.sha256, row.due_on):
                if document.storage_key != keys[row.invoice_number]:
                    replaced.append(document.storage_key)
                document.storage_key = keys[row.invoice_number]
                document.sha256, document.size, document.due_on = row.sha256, row.size, row.due_on
                document.imported_at = now
                await document.save(using_db=connection)
                report.updated += 1
            else:
                report.unchanged += 1
    await _forget_unreferenced(store, replaced)
    return _finish(report, started)


async def _forget_unreferenced(store: DocumentStore, keys: list[str]) -> None:
    """A corrected invoice's old PDF leaves the store once no document refers to it
    (keys are content hashes, so another invoice may share the very same file)."""
    if not keys:
        return
    still_used = set(
        await InvoiceDocument.filter(storage_key__in=keys).values_list("storage_key", flat=True)
    )
    for key in set(keys) - still_used:
        await store.delete(key)


async def _announce(invoice: Invoice, row: DocumentRow, settings: Settings, connection) -> None:
    """Online invoice: tell an online customer's login that the PDF is in the portal."""
    customer = invoice.customer
    if not customer.online_consent:
        return
    link = (
        await LoginCustomer.filter(customer_id=customer.id)
        .using_db(connection)
        .select_related("login")
        .first()
    )
    if link is None:
        return
    cents = invoice.amount_cents
    await queue_mail(
        "invoice_available",
        to=link.login.email,
        locale=link.login.locale,
        settings=settings,
        using_db=connection,
        name=customer.name,
        customer_number=customer.number,
        invoice_number=invoice.number,
        amount=format_cents(cents),
        due_on=row.due_on.strftime("%d.%m.%Y") if row.due_on else "",
        link=settings.portal_url.rstrip("/") + settings.invoices_path,
    )
    await (
        InvoiceDocument.filter(invoice_id=invoice.id)
        .using_db(connection)
        .update(announced_at=clock.now())
    )


def format_cents(cents: int) -> str:
    """`1.234,56`, as amounts read in German mails."""
    return f"{cents / 100:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


def _finish(report: ImportReport, started: float) -> ImportReport:
    report.seconds = time.perf_counter() - started
    return report
