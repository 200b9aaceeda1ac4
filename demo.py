"""Demo data for a newcomer's machine: enough to walk through every rule once."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from tortoise.transactions import in_transaction

import clock
from documents.sample import invoice_pdf
from documents.store import INVOICE_PDFS, content_key, open_store
from models import (
    BankAccount,
    BudgetPlan,
    Customer,
    Invoice,
    InvoiceDocument,
    InvoiceKind,
    Meter,
    MeterKind,
    MeterReading,
    MoveOut,
    PaymentMethod,
    ReadingPeriod,
    ReadingSource,
    Rhythm,
)
from models.money_rules import CheckedIban, check_iban
from security.bankdata import cipher_for
from settings import Settings

DEMO_PASSWORD_HINT = "Wasser!2024 (or any password with upper, lower, digit and special)"


async def seed_demo(today: dt.date) -> str:
    """Create the demo customers if missing; return instructions for registering."""
    year = today.year
    async with in_transaction():
        if await Customer.filter(number="100001").exists():
            return "Demo data is already loaded.\n" + _instructions()
        erika = await Customer.create(
            number="100001",
            name="Erika Mustermann",
            street="Hauptstraße 1",
            postal_code="12345",
            city="Musterstadt",
            phone="+49 30 1234567",
            email="erika@example.org",
        )
        await Invoice.create(
            customer=erika,
            number="R-2023-100001",
            date=dt.date(year - 2, 1, 20),
            kind=InvoiceKind.ANNUAL,
            amount_cents=41250,
        )
        await Invoice.create(
            customer=erika,
            number="R-2024-100001",
            date=dt.date(year - 1, 1, 20),
            kind=InvoiceKind.ANNUAL,
            amount_cents=43890,
        )
        main = await Meter.create(
            customer=erika,
            number="Z-100001",
            is_main=True,
            kind=MeterKind.MANUAL,
            installed_on=dt.date(2015, 3, 1),
        )
        garden = await Meter.create(
            customer=erika,
            number="F-100001",
            is_main=False,
            kind=MeterKind.RADIO,
            installed_on=dt.date(2019, 5, 1),
        )
        await ReadingPeriod.create(
            meter=main,
            starts_on=today - dt.timedelta(days=10),
            ends_on=today + dt.timedelta(days=20),
            key_date=today + dt.timedelta(days=20),
        )
        await ReadingPeriod.create(
            meter=garden,
            starts_on=today - dt.timedelta(days=10),
            ends_on=today + dt.timedelta(days=20),
            key_date=today + dt.timedelta(days=20),
        )
        for years_ago, value in ((3, "812.000"), (2, "905.500"), (1, "1001.250")):
            await MeterReading.create(
                meter=main,
                value=Decimal(value),
                source=ReadingSource.STAFF,
                read_on=dt.date(year - years_ago, 12, 15),
            )

        max_ = await Customer.create(
            number="100002",
            name="Max Mustermann",
            street="Bahnhofstraße 7",
            postal_code="12345",
            city="Musterstadt",
            email="max@example.org",
        )
        await Invoice.create(
            customer=max_,
            number="R-2024-100002",
            date=dt.date(year - 1, 2, 3),
            kind=InvoiceKind.ANNUAL,
            amount_cents=29900,
        )
        max_main = await Meter.create(
            customer=max_,
            number="Z-100002",
            is_main=True,
            kind=MeterKind.MANUAL,
            installed_on=dt.date(2012, 1, 1),
        )
        await ReadingPeriod.create(
            meter=max_main,
            starts_on=today - dt.timedelta(days=60),
            ends_on=today - dt.timedelta(days=30),
            key_date=today - dt.timedelta(days=30),
        )
        await ReadingPeriod.create(
            meter=max_main,
            starts_on=today + dt.timedelta(days=300),
            ends_on=today + dt.timedelta(days=330),
            key_date=today + dt.timedelta(days=330),
        )

        new = await Customer.create(
            number="100003",
            name="Nina Neukundin",
            street="Am Wasserturm 3",
            postal_code="12345",
            city="Musterstadt",
        )
        await Invoice.create(
            customer=new,
            number="A-2025-100003",
            date=today - dt.timedelta(days=40),
            kind=InvoiceKind.OTHER,
            amount_cents=15000,
        )
        await Meter.create(
            customer=new,
            number="Z-100003",
            is_main=True,
            kind=MeterKind.MANUAL,
            installed_on=today - dt.timedelta(days=50),
        )

        radio = await Customer.create(
            number="100004",
            name="Rita Funk",
            street="Ringweg 4",
            postal_code="12345",
            city="Musterstadt",
        )
        await Invoice.create(
            customer=radio,
            number="R-2024-100004",
            date=dt.date(year - 1, 3, 1),
            kind=InvoiceKind.ANNUAL,
            amount_cents=35500,
        )
        radio_main = await Meter.create(
            customer=radio,
            number="F-100004",
            is_main=True,
            kind=MeterKind.RADIO,
            installed_on=dt.date(2018, 1, 1),
        )
        await ReadingPeriod.create(
            meter=radio_main,
            starts_on=today - dt.timedelta(days=10),
            ends_on=today + dt.timedelta(days=20),
            key_date=today + dt.timedelta(days=20),
        )
        await _seed_moving(today)
    return "Demo data loaded.\n" + _instructions()


async def _seed_moving(today: dt.date) -> None:
    """100005 can report a move-out (its manual meter takes a final reading); 100006
    moved out and got its final invoice: readable, but read-only."""
    for number, name, street in (
        ("100005", "Paul Packer", "Umzugsweg 5"),
        ("100006", "Greta Gegangen", "Altbau 6"),
    ):
        customer = await Customer.create(
            number=number, name=name, street=street, postal_code="12345", city="Musterstadt"
        )
        await Invoice.create(
            customer=customer,
            number=f"R-{today.year - 1}-{number}",
            date=dt.date(today.year - 1, 1, 20),
            kind=InvoiceKind.ANNUAL,
            amount_cents=31200,
        )
        meter = await Meter.create(
            customer=customer,
            number=f"Z-{number}",
            is_main=True,
            kind=MeterKind.MANUAL,
            installed_on=dt.date(2016, 4, 1),
        )
        await MeterReading.create(
            meter=meter,
            value=Decimal("532.000"),
            source=ReadingSource.STAFF,
            read_on=dt.date(today.year - 1, 12, 15),
        )
    gone = await Customer.get(number="100006")
    await MoveOut.create(
        customer=gone,
        move_out_on=today - dt.timedelta(days=40),
        forwarding_name="Greta Gegangen",
        forwarding_street="Neubau 9",
        forwarding_postal_code="54321",
        forwarding_city="Anderswo",
        reported_at=clock.now() - dt.timedelta(days=50),
        final_invoice_number=f"S-{today.year}-100006",
        final_invoiced_on=today - dt.timedelta(days=10),
    )


def _instructions() -> str:
    return f"""
Register at /graphql of the server (`serve` logs its address as "Uvicorn running on …")
with one of:
  customer 100001  latest invoice R-2024-100001  or main meter Z-100001  (open reading period;
                   also a radio meter F-100001)
  customer 100002  latest invoice R-2024-100002  or main meter Z-100002  (reading period closed)
  customer 100004  latest invoice R-2024-100004  or main meter F-100004  (radio main meter)
  customer 100003  has no annual bill yet: registration is refused (R2)
  customer 100005  main meter Z-100005  (report a move-out, then its final reading)
  customer 100006  main meter Z-100006  (moved out, final invoice sent: read-only)
Give online consent as 100001, then `kundenportal reading-reminders` mails the reading reminder.
Password: {DEMO_PASSWORD_HINT}
The PIN arrives as a mail file in var/mail/ and is logged on the console in dev.
"""


async def seed_money_demo(settings: Settings, today: dt.date) -> str:
    """Budget plans, bank details and invoice PDFs for the demo customers, if missing.

    The PDFs are small real ones (fpdf2), put into the document store like an import.
    """
    if await BudgetPlan.exists():
        return "Money demo data is already loaded."
    store = open_store(settings)
    cipher = cipher_for(settings)
    customers = {c.number: c for c in await Customer.filter(number__in=list(DEMO_PLANS))}
    first_due = dt.date(today.year, today.month, 15)
    async with in_transaction():
        for number, (cents, rhythm, consumption) in DEMO_PLANS.items():
            if (customer := customers.get(number)) is None:
                continue
            await BudgetPlan.create(
                customer=customer,
                amount_cents=cents,
                rhythm=rhythm,
                first_due_on=first_due,
                calculated_cents=cents,
                minimum_cents=cents // 2 // 100 * 100,
                maximum_cents=cents * 3,
                consumption_m3=Decimal(consumption),
                price_per_m3=Decimal("4.2500"),
            )
        if (erika := customers.get("100001")) is not None:
            iban = check_iban("DE89370400440532013000")
            assert isinstance(iban, CheckedIban)
            await BankAccount.create(
                customer=erika,
                method=PaymentMethod.DIRECT_DEBIT,
                iban_encrypted=cipher.encrypt(iban.compact),
                iban_masked=iban.masked,
                holder="Erika Mustermann",
                bic=iban.bic,
                bank_name=iban.bank_name,
                mandate_reference="KP-100001-20190301",
                mandate_signed_on=dt.date(2019, 3, 1),
            )
        if (max_ := customers.get("100002")) is not None:
            await BankAccount.create(customer=max_, method=PaymentMethod.TRANSFER)
        for invoice in await Invoice.filter(customer__number__in=list(customers)).select_related(
            "customer"
        ):
            pdf = invoice_pdf(
                invoice.number,
                invoice.customer.name,
                f"{invoice.amount_cents / 100:.2f}".replace(".", ","),
                invoice.date,
            )
            await store.put(key := content_key(INVOICE_PDFS, pdf), pdf)
            await InvoiceDocument.create(
                invoice=invoice,
                storage_key=key,
                sha256=hashlib.sha256(pdf).hexdigest(),
                size=len(pdf),
                due_on=invoice.date + dt.timedelta(days=14),
                imported_at=clock.now(),
            )
    return (
        "Money demo data loaded: budget plans (100001, 100002, 100004), bank details (100001 "
        "direct debit, 100002 transfer) and a PDF for each of their invoices."
    )


DEMO_PLANS = {
    "100001": (4000, Rhythm.MONTHLY, "105"),
    "100002": (7500, Rhythm.BIMONTHLY, "160"),
    "100004": (9000, Rhythm.QUARTERLY, "85"),
}
