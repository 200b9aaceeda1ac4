"""Object types of the money area that hang off `Customer` and `Invoice`: the budget
plan and its requests, payment details, invoice documents. Kept apart from
`schema.money` (its operations) so that `schema.customer_types` can use them
while the areas stay independent.

The full IBAN is accepted as input and never returned: every type shows it masked.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry

from models import (
    BankAccount,
    BankDetailsChange,
    BudgetChangeRequest,
    BudgetPlan,
    Customer,
    Invoice,
)
from resolvers import money as ops
from schema.connections import (
    BUDGET_REQUESTS,
    DEFAULT_PAGE_SIZE,
    After,
    Connection,
    First,
    page_request,
)
from schema.context import Info
from schema.ids import Node, encode_id

# ------------------------------------------------------------------------ enums


@strawberry.enum(name="BudgetRhythm", description="How often the installment is due.")
class RhythmEnum(Enum):
    MONTHLY = strawberry.enum_value("monthly", description="Twelve times a year.")
    BIMONTHLY = strawberry.enum_value("bimonthly", description="Every two months.")
    QUARTERLY = strawberry.enum_value("quarterly", description="Four times a year.")


@strawberry.enum(name="BudgetRequestStatus", description="Where a change request stands.")
class RequestStatusEnum(Enum):
    PENDING = strawberry.enum_value("pending", description="Waiting for billing's decision.")
    CANCELLED = strawberry.enum_value("cancelled", description="Withdrawn by the customer.")
    ACCEPTED = strawberry.enum_value("accepted", description="Accepted by billing.")
    REFUSED = strawberry.enum_value("refused", description="Refused by billing (see reason).")


@strawberry.enum(name="PaymentMethod", description="How the customer pays.")
class PaymentMethodEnum(Enum):
    DIRECT_DEBIT = strawberry.enum_value(
        "direct_debit", description="SEPA direct debit (SEPA-Lastschrift) from an account."
    )
    TRANSFER = strawberry.enum_value("transfer", description="Bank transfer (Überweisung).")


@strawberry.enum(name="PaymentDetailsChangeStatus", description="Where a change stands.")
class BankChangeStatusEnum(Enum):
    COOLING_OFF = strawberry.enum_value(
        "cooling_off", description="Waiting out the cooling-off time; can still be stopped."
    )
    STOPPED = strawberry.enum_value("stopped", description="Stopped by 'this was not me'.")
    SUPERSEDED = strawberry.enum_value("superseded", description="Replaced by a newer change.")
    EXPORTED = strawberry.enum_value("exported", description="Passed on to billing.")
    ACCEPTED = strawberry.enum_value("accepted", description="Applied by billing.")
    REFUSED = strawberry.enum_value("refused", description="Refused by billing (see reason).")


# ------------------------------------------------------------------------ types


@strawberry.type(description="One due date (Fälligkeit) of the plan and the amount due then.")
class DueDate:
    due_on: dt.date = strawberry.field(description="Due date.")
    amount_cents: int = strawberry.field(description="Installment in euro cents.")


@strawberry.type(
    description="What a year of installments would leave against last year's consumption at "
    "today's price: a simple estimate, not a promise."
)
class BudgetProjection:
    expected_cost_cents: int = strawberry.field(
        description="Last year's consumption × price per m³, in cents."
    )
    paid_cents: int = strawberry.field(description="Installment × installments per year.")
    balance_cents: int = strawberry.field(
        description="Paid − expected: positive a credit to expect, negative a back payment."
    )


@strawberry.type(name="BudgetChangeRequest", description="A request for a new installment.")
class BudgetChangeRequestType(Node):
    id: strawberry.ID = strawberry.field(description="Opaque ID of the request.")
    amount_cents: int = strawberry.field(description="Requested installment in euro cents.")
    previous_amount_cents: int = strawberry.field(description="Installment when requested.")
    effective_on: dt.date = strawberry.field(description="First due date it would apply to.")
    status: RequestStatusEnum = strawberry.field(description="Where the request stands.")
    reason: str = strawberry.field(description="Billing's reason for a refusal; else empty.")
    created_at: dt.datetime = strawberry.field(description="When it was made (UTC).")

    @classmethod
    def from_model(cls, row: BudgetChangeRequest) -> BudgetChangeRequestType:
        return cls(
            id=encode_id("BudgetChangeRequest", row.id),
            amount_cents=row.amount_cents,
            previous_amount_cents=row.previous_cents,
            effective_on=row.effective_on,
            status=RequestStatusEnum(str(row.status)),
            reason=row.reason,
            created_at=row.created_at,
        )


@strawberry.type(name="BudgetPlan", description="The installment plan (Abschlagsplan).")
class BudgetPlanType:
    amount_cents: int = strawberry.field(description="Current installment in euro cents.")
    rhythm: RhythmEnum = strawberry.field(description="How often it is due.")
    calculated_amount_cents: int = strawberry.field(
        description="The installment the last annual bill calculated."
    )
    minimum_cents: int = strawberry.field(description="Smallest installment one may ask for.")
    maximum_cents: int = strawberry.field(description="Largest installment one may ask for.")
    row: strawberry.Private[BudgetPlan]

    @classmethod
    def from_model(cls, row: BudgetPlan) -> BudgetPlanType:
        return cls(
            amount_cents=row.amount_cents,
            rhythm=RhythmEnum(str(row.rhythm)),
            calculated_amount_cents=row.calculated_cents,
            minimum_cents=row.minimum_cents,
            maximum_cents=row.maximum_cents,
            row=row,
        )

    @strawberry.field(description="The plan's due dates from today on, with their amounts.")
    def next_due_dates(self, info: Info) -> list[DueDate]:
        return [
            DueDate(due_on=d, amount_cents=c)
            for d, c in ops.next_due_dates(info.context.settings, self.row)
        ]

    @strawberry.field(
        description="The first due date a change requested today would apply to; null when "
        "none of this plan is far enough away."
    )
    def change_effective_on(self, info: Info) -> dt.date | None:
        return ops.change_effective_on(info.context.settings, self.row)

    @strawberry.field(
        description="Estimated balance for a year at the given installment (default the "
        "current one); null when billing gave no consumption and price."
    )
    def projection(
        self,
        amount_euros: Annotated[
            int | None, strawberry.argument(description="Installment in whole euros.")
        ] = None,
    ) -> BudgetProjection | None:
        result = ops.projection(self.row, amount_euros)
        if result is None:
            return None
        return BudgetProjection(
            expected_cost_cents=result.expected_cost_cents,
            paid_cents=result.paid_cents,
            balance_cents=result.balance_cents,
        )

    @strawberry.field(description="The pending change request, if any.")
    async def pending_request(self, info: Info) -> BudgetChangeRequestType | None:
        row = await ops.shown_pending_request(info.context, self.row.customer_id)
        return BudgetChangeRequestType.from_model(row) if row else None

    @strawberry.field(description="The customer's change requests, newest first.")
    async def requests(
        self, info: Info, first: First = DEFAULT_PAGE_SIZE, after: After = None
    ) -> Connection[BudgetChangeRequestType]:
        page = page_request(BUDGET_REQUESTS, first, after, info.context.locale)
        found = await ops.budget_requests(self.row.customer_id, page.first, page.after)
        return Connection.of(found, page, BudgetChangeRequestType.from_model)


@strawberry.type(
    name="PaymentDetailsChange",
    description="A change of payment details: a request to billing after a cooling-off time.",
)
class BankChangeType:
    method: PaymentMethodEnum = strawberry.field(description="The new payment method.")
    iban: str | None = strawberry.field(description="The new IBAN, masked.")
    account_holder: str | None = strawberry.field(description="Account holder.")
    bank_name: str | None = strawberry.field(description="Bank of the IBAN.")
    bic: str | None = strawberry.field(description="BIC of the bank.")
    mandate_reference: str | None = strawberry.field(description="Mandatsreferenz.")
    status: BankChangeStatusEnum = strawberry.field(description="Where the change stands.")
    created_at: dt.datetime = strawberry.field(description="When it was made (UTC).")
    exportable_at: dt.datetime = strawberry.field(
        description="From when it is passed on to billing unless stopped (UTC)."
    )

    @classmethod
    def from_model(cls, row: BankDetailsChange) -> BankChangeType:
        debit = row.method == "direct_debit"
        return cls(
            method=PaymentMethodEnum(str(row.method)),
            iban=row.iban_masked if debit else None,
            account_holder=row.holder if debit else None,
            bank_name=row.bank_name if debit else None,
            bic=row.bic if debit else None,
            mandate_reference=row.mandate_reference if debit else None,
            status=BankChangeStatusEnum(str(row.status)),
            created_at=row.created_at,
            exportable_at=row.exportable_at,
        )


@strawberry.type(description="How the customer pays, as billing last confirmed it.")
class PaymentDetails:
    method: PaymentMethodEnum | None = strawberry.field(
        description="Payment method; null when billing has not told the portal."
    )
    iban: str | None = strawberry.field(description="IBAN, masked (DE89 **** … **30 00).")
    account_holder: str | None = strawberry.field(description="Account holder.")
    bank_name: str | None = strawberry.field(description="Bank of the IBAN.")
    bic: str | None = strawberry.field(description="BIC of the bank.")
    mandate_reference: str | None = strawberry.field(description="Mandatsreferenz.")
    mandate_signed_on: dt.date | None = strawberry.field(description="Date of the mandate.")
    pending_change: BankChangeType | None = strawberry.field(
        description="A change not yet decided by billing (cooling off or passed on)."
    )

    @classmethod
    def of(cls, account: BankAccount | None, change: BankDetailsChange | None) -> PaymentDetails:
        debit = account is not None and account.method == "direct_debit"
        return cls(
            method=PaymentMethodEnum(str(account.method)) if account else None,
            iban=account.iban_masked if debit and account else None,
            account_holder=account.holder if debit and account else None,
            bank_name=account.bank_name if debit and account else None,
            bic=account.bic if debit and account else None,
            mandate_reference=account.mandate_reference if debit and account else None,
            mandate_signed_on=account.mandate_signed_on if account else None,
            pending_change=BankChangeType.from_model(change) if change else None,
        )


@strawberry.type(description="The SEPA direct debit mandate to show before it is accepted.")
class SepaMandate:
    text: str = strawberry.field(description="The mandate's wording, in the request's language.")
    version: str = strawberry.field(
        description="Its version: send it back as `acceptedMandateVersion`."
    )
    creditor_id: str = strawberry.field(description="Gläubiger-Identifikationsnummer.")
    creditor_name: str = strawberry.field(description="Who collects the payments.")


@strawberry.type(name="InvoiceDocument", description="The PDF of an invoice.")
class InvoiceDocumentType:
    url: str = strawberry.field(
        description="Download link, for this login only and valid for a few minutes."
    )
    expires_at: dt.datetime = strawberry.field(description="When the link stops working (UTC).")
    size: int = strawberry.field(description="Size in bytes.")
    file_name: str = strawberry.field(description="Name the download is saved under.")


async def budget_plan_of(info: Info, customer: Customer) -> BudgetPlanType | None:
    row = await ops.shown_budget_plan(info.context, customer)
    return BudgetPlanType.from_model(row) if row else None


async def payment_details_of(info: Info, customer: Customer) -> PaymentDetails:
    return PaymentDetails.of(*await ops.shown_payment_details(info.context, customer))


async def invoice_document(info: Info, invoice: Invoice) -> InvoiceDocumentType | None:
    """`Invoice.document`: a fresh signed link, or null when billing sent no PDF."""
    link = await ops.document_link(info.context, invoice)
    if link is None:
        return None
    return InvoiceDocumentType(
        url=link.url, expires_at=link.expires_at, size=link.size, file_name=link.file_name
    )
