"""Money files from the billing system: plans, decisions, invoice PDFs, and the exports to it."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from decimal import Decimal
from pathlib import Path

from dataio.importer import ImportReport, import_data
from dataio.invoice_documents import import_invoice_documents
from dataio.money_exports import (
    claim_due_bank_changes,
    export_budget_requests,
    export_online_customers,
    write_bank_changes,
)
from documents.sample import invoice_pdf
from documents.store import open_store
from models import (
    BankAccount,
    BankChangeStatus,
    BankDetailsChange,
    BudgetChangeRequest,
    BudgetPlan,
    InvoiceDocument,
    OutboxMail,
    PaymentMethod,
    RequestStatus,
    Rhythm,
)
from security.bankdata import cipher_for
from tests.factories import make_customer, make_invoice, make_login

TODAY = dt.date(2027, 1, 5)
NOW = dt.datetime(2027, 1, 5, 9, 0, tzinfo=dt.UTC)
PLANS = (
    "kundennummer;abschlag;rhythmus;erste_faelligkeit;berechneter_abschlag;minimum;maximum;"
    "verbrauch_vorjahr;preis_je_m3",
    "200001;45,00;monatlich;15.01.2027;45,00;20,00;120,00;110;4,5000",
    "200002;130;vierteljährlich;01.02.2027;128,50;60;300;;",
)


async def run(kind: str, *lines: str, settings=None) -> ImportReport:
    data = "\r\n".join(lines).encode()
    return await import_data(kind, data, f"{kind}.csv", today=TODAY, settings=settings)


async def test_budget_plans_import_upserts_and_a_second_run_changes_nothing(outbox):
    await make_customer("200001")
    await make_customer("200002")

    first = await run("budget-plans", *PLANS)
    again = await run("budget-plans", *PLANS)

    assert first.ok, first.problems
    assert (first.inserted, again.inserted, again.updated, again.unchanged) == (2, 0, 0, 2)
    plan = await BudgetPlan.get(customer__number="200001")
    assert (plan.amount_cents, plan.rhythm, plan.minimum_cents, plan.maximum_cents) == (
        4500,
        Rhythm.MONTHLY,
        2000,
        12000,
    )
    assert Decimal(plan.consumption_m3) == 110
    assert Decimal(plan.price_per_m3) == Decimal("4.5")
    quarterly = await BudgetPlan.get(customer__number="200002")
    assert quarterly.rhythm == Rhythm.QUARTERLY
    assert quarterly.consumption_m3 is None


async def test_budget_plans_import_with_a_bad_row_imports_nothing(outbox):
    await make_customer("200001")

    report = await run(
        "budget-plans",
        PLANS[0],
        PLANS[1],
        "200009;45;monatlich;15.01.2027;45;20;120;;",
        "200001x;4a;jährlich;15.13.2027;45;200;120;110;",
    )

    assert sorted((p.line, p.message) for p in report.problems) == [
        (3, "customer number 200009 is unknown"),
        (4, "abschlag: '4a' is not a number (e.g. 1234,56)"),
        (4, "erste_faelligkeit: '15.13.2027' is not a valid date"),
        (4, "give verbrauch_vorjahr and preis_je_m3 together (the projection needs both)"),
        (4, "minimum is greater than maximum"),
        (
            4,
            "rhythmus: 'jährlich' is not one of: monatlich, monthly, zweimonatlich, bimonthly, "
            "vierteljaehrlich, vierteljährlich, quarterly",
        ),
    ]
    assert await BudgetPlan.all().count() == 0


async def _request(customer, status=RequestStatus.PENDING) -> BudgetChangeRequest:
    return await BudgetChangeRequest.create(
        customer=customer,
        amount_cents=6000,
        previous_cents=4500,
        effective_on=dt.date(2027, 2, 15),
        status=status,
        created_at=NOW,
    )


async def test_budget_decision_is_recorded_mailed_once_and_cannot_be_contradicted(outbox):
    customer = await make_customer("200001", name="Erika Mustermann")
    login = await make_login(customer, email="erika@example.org", locale="en")
    accepted = await _request(customer)
    other = await _request(await make_customer("200002"))
    decisions = (
        "anfrage_id;entscheidung;grund",
        f"{accepted.id};angenommen;",
        f"{other.id};abgelehnt;Zu niedrig",
    )

    first = await run("budget-decisions", *decisions, settings=outbox)
    again = await run("budget-decisions", *decisions, settings=outbox)
    contradicting = await run(
        "budget-decisions", "anfrage_id;entscheidung;grund", f"{accepted.id};abgelehnt;Doch nicht"
    )

    assert first.ok
    assert (first.updated, again.updated, again.unchanged) == (2, 0, 2)
    assert (await BudgetChangeRequest.get(id=accepted.id)).status == RequestStatus.ACCEPTED
    refused = await BudgetChangeRequest.get(id=other.id)
    assert (refused.status, refused.reason) == (RequestStatus.REFUSED, "Zu niedrig")
    mails = await OutboxMail.filter(recipient=login.email)
    assert len(mails) == 1  # the other customer has no login; the second run mails nobody
    assert mails[0].subject == "Your installment: change accepted"
    assert "€60" in mails[0].body_text
    assert "15.02.2027" in mails[0].body_text
    assert [p.message for p in contradicting.problems] == [
        f"budget request {accepted.id} is accepted already; it cannot become refused"
    ]


async def test_decision_for_an_unknown_or_withdrawn_request_imports_nothing(outbox):
    customer = await make_customer("200001")
    open_one = await _request(customer)
    withdrawn = await _request(customer, RequestStatus.CANCELLED)

    report = await run(
        "budget-decisions",
        "anfrage_id;entscheidung;grund",
        f"{open_one.id};angenommen;",
        "999999;angenommen;",
        f"{withdrawn.id};angenommen;",
        "12a;vielleicht;",
        f"{open_one.id};abgelehnt;",
    )

    assert [(p.line, p.message) for p in report.problems] == [
        (3, "budget request 999999 is unknown"),
        (4, f"budget request {withdrawn.id} is cancelled already; it cannot become accepted"),
        (5, "entscheidung: 'vielleicht' is not one of: angenommen, accepted, abgelehnt, refused"),
        (5, "anfrage_id '12a' is not a number"),
        (6, "grund is empty: a refusal needs its reason (the customer is told)"),
    ]
    assert (await BudgetChangeRequest.get(id=open_one.id)).status == RequestStatus.PENDING


async def test_bank_change_export_decrypts_once_and_the_result_becomes_the_account(outbox):
    customer = await make_customer("200001")
    cipher = cipher_for(outbox)
    change = await BankDetailsChange.create(
        customer=customer,
        method=PaymentMethod.DIRECT_DEBIT,
        iban_encrypted=cipher.encrypt("DE89370400440532013000"),
        iban_masked="DE89 **** **** **** **30 00",
        holder="Erika Mustermann",
        bic="COBADEFFXXX",
        bank_name="Commerzbank",
        mandate_reference="KP-200001-20270105090000",
        mandate_version="2026-01",
        mandate_accepted_at=NOW,
        stop_token_hash="a" * 64,
        created_at=NOW,
        exportable_at=NOW + dt.timedelta(hours=24),
    )

    early = await claim_due_bank_changes(NOW + dt.timedelta(hours=23))
    due = await claim_due_bank_changes(NOW + dt.timedelta(hours=24))
    text = io.StringIO()
    write_bank_changes(
        text, due, cipher, creditor_id="DE98ZZZ09999999999", timezone="Europe/Berlin"
    )
    result = await run(
        "bank-details-results", "aenderung_id;entscheidung;grund", f"{change.id};angenommen;"
    )

    assert early == []
    assert [c.id for c in due] == [change.id]
    assert text.getvalue().splitlines()[1] == (
        f"{change.id};200001;lastschrift;DE89370400440532013000;COBADEFFXXX;Erika Mustermann;"
        "KP-200001-20270105090000;05.01.2027;2026-01;DE98ZZZ09999999999"
    )
    assert result.ok
    assert (await BankDetailsChange.get(id=change.id)).status == BankChangeStatus.ACCEPTED
    account = await BankAccount.get(customer=customer)
    assert (account.method, account.iban_masked, account.mandate_signed_on) == (
        PaymentMethod.DIRECT_DEBIT,
        "DE89 **** **** **** **30 00",
        dt.date(2027, 1, 5),
    )
    assert cipher.decrypt(account.iban_encrypted) == "DE89370400440532013000"


async def test_budget_request_export_lists_requests_since_a_date_and_marks_them(outbox):
    customer = await make_customer("200001")
    request = await _request(customer)
    text = io.StringIO()

    count = await export_budget_requests(text, dt.date(2027, 1, 5), "Europe/Berlin", now=NOW)

    assert count == 1
    assert text.getvalue().splitlines() == [
        "anfrage_id;kundennummer;abschlag_neu;abschlag_bisher;gueltig_ab;status;erfasst_am",
        f"{request.id};200001;60;45;15.02.2027;offen;05.01.2027 10:00:00",
    ]
    assert (await BudgetChangeRequest.get(id=request.id)).exported_at == NOW


async def test_online_customers_export_says_who_gets_no_paper_invoice(outbox):
    await make_customer("200001", online_consent=True, online_consent_at=NOW)
    await make_customer("200002")
    text = io.StringIO()

    assert await export_online_customers(text, "Europe/Berlin") == 1
    assert text.getvalue().splitlines()[1] == "200001;nein;05.01.2027"


# ------------------------------------------------------------------ invoice PDFs


def write_folder(folder: Path, files: dict[str, bytes], rows: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / "index.csv").write_text(
        "\r\n".join(["rechnungsnummer;datei;sha256;faellig_am", *rows]), encoding="utf-8"
    )
    return folder


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_invoice_pdfs_are_attached_and_a_reimport_changes_nothing(
    app, settings, mailbox, tmp_path
):
    online = await make_customer(
        "200001", name="Erika Mustermann", online_consent=True, online_consent_at=NOW
    )
    await make_login(online, email="erika@example.org")
    paper = await make_customer("200002")
    await make_login(paper, email="max@example.org")
    first = await make_invoice(online, "R-2026-1", amount_cents=123456)
    second = await make_invoice(paper, "R-2026-2")
    pdf1 = invoice_pdf("R-2026-1", "Erika Mustermann", "1.234,56", dt.date(2026, 12, 1))
    pdf2 = invoice_pdf("R-2026-2", "Max Mustermann", "438,90", dt.date(2026, 12, 1))
    folder = write_folder(
        tmp_path / "in",
        {"r1.pdf": pdf1, "r2.pdf": pdf2},
        [f"R-2026-1;r1.pdf;{sha(pdf1)};15.12.2026", f"R-2026-2;r2.pdf;{sha(pdf2).upper()};"],
    )
    store = open_store(settings)

    report = await import_invoice_documents(folder, store=store, settings=settings)
    again = await import_invoice_documents(folder, store=store, settings=settings)

    assert report.ok, report.problems
    assert (report.inserted, again.inserted, again.unchanged) == (2, 0, 2)
    document = await InvoiceDocument.get(invoice=first)
    assert (document.sha256, document.size, document.due_on) == (
        sha(pdf1),
        len(pdf1),
        dt.date(2026, 12, 15),
    )
    assert document.storage_key == f"invoice-pdfs/{sha(pdf1)}"
    assert b"".join([c async for c in store.stream(document.storage_key)]) == pdf1
    assert await InvoiceDocument.filter(invoice=second).exists()
    text = await mailbox.last_text("erika@example.org")
    assert "R-2026-1" in text
    assert "1.234,56 €" in text
    assert "15.12.2026" in text
    assert "https://portal.wasser.example/rechnungen" in text
    assert list((await mailbox.wait_for("erika@example.org"))[0].iter_attachments()) == []
    assert mailbox.to("max@example.org") == []  # not an online customer: paper
    assert await OutboxMail.filter(kind="invoice_available").count() == 1


async def test_a_corrected_invoice_pdf_replaces_the_old_file_in_the_store(outbox, tmp_path):
    customer = await make_customer("200001")
    invoice = await make_invoice(customer, "R-1")
    wrong = invoice_pdf("R-1", "Erika", "1,00", dt.date(2026, 12, 1))
    right = invoice_pdf("R-1", "Erika", "2,00", dt.date(2026, 12, 1))
    store = open_store(outbox)
    await import_invoice_documents(
        write_folder(tmp_path / "a", {"r1.pdf": wrong}, [f"R-1;r1.pdf;{sha(wrong)};"]),
        store=store,
        settings=outbox,
    )

    report = await import_invoice_documents(
        write_folder(tmp_path / "b", {"r1.pdf": right}, [f"R-1;r1.pdf;{sha(right)};"]),
        store=store,
        settings=outbox,
    )

    assert report.updated == 1
    document = await InvoiceDocument.get(invoice=invoice)
    assert b"".join([c async for c in store.stream(document.storage_key)]) == right
    assert not await store.exists(f"invoice-pdfs/{sha(wrong)}")


async def test_invoice_pdf_import_refuses_bad_rows_and_attaches_nothing(outbox, tmp_path):
    customer = await make_customer("200001")
    await make_invoice(customer, "R-1")
    await make_invoice(customer, "R-2")
    await make_invoice(customer, "R-3")
    await make_invoice(customer, "R-4")
    good = invoice_pdf("R-1", "Erika", "1,00", dt.date(2026, 12, 1))
    big = invoice_pdf("R-3", "Erika " * 200, "1,00", dt.date(2026, 12, 1))
    outbox.invoice_pdf_max_bytes = len(big) - 1
    folder = write_folder(
        tmp_path / "in",
        {"good.pdf": good, "fake.pdf": b"GIF89a not a pdf %%EOF", "big.pdf": big},
        [
            f"R-1;good.pdf;{sha(good)};",
            f"R-2;fake.pdf;{sha(b'GIF89a not a pdf %%EOF')};",
            f"R-3;big.pdf;{sha(big)};",
            f"R-4;good.pdf;{'0' * 64};",
            f"R-404;good.pdf;{sha(good)};",
            f"R-1;../etc/passwd;{sha(good)};",
            f"R-5;missing.pdf;{sha(good)};31.02.2027",
        ],
    )

    report = await import_invoice_documents(folder, store=open_store(outbox), settings=outbox)

    messages = [(p.line, p.message) for p in report.problems]
    assert messages[0] == (3, "datei fake.pdf: the file is not a PDF (no %PDF- header)")
    assert messages[1] == (
        4,
        f"datei big.pdf: {len(big)} bytes, more than the {len(big) - 1} allowed",
    )
    assert messages[2] == (
        5,
        f"datei good.pdf: the file's SHA-256 is {sha(good)}, the index says {'0' * 64}",
    )
    assert messages[3] == (6, "invoice number R-404 is unknown")
    assert (7, "invoice number R-1 appears twice (first on line 2)") in messages
    assert (7, "datei '../etc/passwd' is not a plain file name in the folder") in messages
    assert (8, "faellig_am: '31.02.2027' is not a valid date") in messages
    assert await InvoiceDocument.all().count() == 0
    assert not outbox.document_dir.exists()
