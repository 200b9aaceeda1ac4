"""GraphQL types of the money area: the budget plan and change requests, payment details
with the SEPA mandate, and invoice documents behind signed links.

Everything hangs off a `Customer` reached through the login's own links, or
names the customer explicitly (`customerNumber`, default the active one). The
full IBAN is accepted as input and never returned: every type shows it masked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import Enum
from typing import Annotated, Any

import strawberry

from models import (
    BankAccount,
    BankDetailsChange,
    BudgetChangeRequest,
    BudgetPlan,
    Customer,
    Invoice,
)
from models.money_rules import MoneyCode, euros
from resolvers import money as ops
from resolvers.context import Info
from resolvers.money import Outcome, Refusal
from schema.errors import UserError
from schema.ids import decode_id, encode_id

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
class BudgetChangeRequestType:
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
    async def pending_request(self) -> BudgetChangeRequestType | None:
        row = await ops.pending_budget_request(self.row.customer_id)
        return BudgetChangeRequestType.from_model(row) if row else None

    @strawberry.field(description="Every change request of this customer, newest first.")
    async def requests(self) -> list[BudgetChangeRequestType]:
        return [
            BudgetChangeRequestType.from_model(r)
            for r in await ops.budget_requests(self.row.customer_id)
        ]


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


async def budget_plan_of(customer: Customer) -> BudgetPlanType | None:
    row = await ops.budget_plan(customer)
    return BudgetPlanType.from_model(row) if row else None


async def payment_details_of(customer: Customer) -> PaymentDetails:
    return PaymentDetails.of(await ops.bank_account(customer), await ops.open_bank_change(customer))


async def invoice_document(info: Info, invoice: Invoice) -> InvoiceDocumentType | None:
    """`Invoice.document`: a fresh signed link, or null when billing sent no PDF."""
    link = await ops.document_link(info, invoice)
    if link is None:
        return None
    return InvoiceDocumentType(
        url=link.url, expires_at=link.expires_at, size=link.size, file_name=link.file_name
    )


# ----------------------------------------------------------------------- errors


_CODES: Any = Enum(  # type: ignore[misc]  # functional API: the GraphQL enum of the codes
    "MoneyErrorCode",
    [(c.name, strawberry.enum_value(c.name, description=c.description)) for c in MoneyCode],  # type: ignore[attr-defined]
)
MoneyErrorCodeEnum = strawberry.enum(
    _CODES, description="What went wrong in a budget billing or payment operation."
)


@strawberry.type(description="An expected failure of a budget billing or payment operation.")
class MoneyError(UserError):
    code: Enum = strawberry.field(
        graphql_type=MoneyErrorCodeEnum, description="What went wrong; switch on this."
    )
    minimum_euros: int | None = strawberry.field(
        default=None, description="AMOUNT_OUT_OF_RANGE: the smallest allowed installment."
    )
    maximum_euros: int | None = strawberry.field(
        default=None, description="AMOUNT_OUT_OF_RANGE: the largest allowed installment."
    )

    @classmethod
    def from_problem(cls, problem: Refusal, locale: str) -> MoneyError:
        p = problem.params
        shown = {
            key.removesuffix("Cents"): euros(value) if key.endswith("Cents") else value
            for key, value in p.items()
        }
        return cls(
            code=MoneyErrorCodeEnum[problem.code.name],  # type: ignore[index]
            field=list(problem.field) if problem.field else None,
            message=problem.code.message(locale, **shown),
            minimum_euros=p["minimumCents"] // 100 if "minimumCents" in p else None,
            maximum_euros=p["maximumCents"] // 100 if "maximumCents" in p else None,
        )


def payload(cls: Any, outcome: Outcome[Any], locale: str, **fields: Any) -> Any:
    """An operation's outcome as its payload: errors from the refusals, the rest given."""
    names = {f.name for f in dataclasses.fields(cls)}
    if "mailed_to" in names:
        fields.setdefault("mailed_to", outcome.mailed_to)
    errors = [MoneyError.from_problem(p, locale) for p in outcome.problems]
    return cls(errors=errors, **fields)


# ----------------------------------------------------------------------- inputs


@strawberry.input(description="A new installment for the customer's budget plan.")
class RequestBudgetChangeInput:
    amount: str = strawberry.field(description="Whole euros, e.g. `85` (or `85,00`).")
    customer_number: str | None = strawberry.field(
        default=None, description="Customer number; default the session's active one (R10)."
    )


@strawberry.input(description="The pending change request to withdraw.")
class CancelBudgetChangeInput:
    request_id: strawberry.ID = strawberry.field(description="ID of the request.")
    customer_number: str | None = strawberry.field(
        default=None, description="Customer number; default the session's active one (R10)."
    )


@strawberry.input(description="New payment details: an account for direct debit, or transfer.")
class ChangePaymentDetailsInput:
    method: PaymentMethodEnum = strawberry.field(description="How the customer will pay.")
    iban: str | None = strawberry.field(
        default=None, description="DIRECT_DEBIT: the IBAN (blanks allowed). Never returned."
    )
    account_holder: str | None = strawberry.field(
        default=None, description="DIRECT_DEBIT: the account holder's name (at most 70)."
    )
    accepted_mandate_version: str | None = strawberry.field(
        default=None,
        description="DIRECT_DEBIT: the `sepaMandate.version` the customer was shown and accepted.",
    )
    current_password: str | None = strawberry.field(
        default=None, description="The login's current password: always required here."
    )
    customer_number: str | None = strawberry.field(
        default=None, description="Customer number; default the session's active one (R10)."
    )


@strawberry.input(description="The token of the 'this was not me' link in the notice mail.")
class StopPaymentDetailsChangeInput:
    token: str = strawberry.field(description="The `token` parameter of the link.")


# ---------------------------------------------------------------------- payloads


@strawberry.type(description="Result of requestBudgetChange.")
class RequestBudgetChangePayload:
    request: BudgetChangeRequestType | None = strawberry.field(description="The new request.")
    mailed_to: str | None = strawberry.field(description="Confirmation mailed here (masked).")
    errors: list[MoneyError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Result of cancelBudgetChange.")
class CancelBudgetChangePayload:
    request: BudgetChangeRequestType | None = strawberry.field(description="The request.")
    errors: list[MoneyError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Result of changePaymentDetails.")
class ChangePaymentDetailsPayload:
    change: BankChangeType | None = strawberry.field(description="The change, cooling off.")
    mailed_to: str | None = strawberry.field(description="Security notice mailed here (masked).")
    errors: list[MoneyError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Result of stopPaymentDetailsChange.")
class StopPaymentDetailsChangePayload:
    stopped: bool = strawberry.field(description="True when the change was stopped.")
    errors: list[MoneyError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="An IBAN as the bank registry knows it, or why it is not one.")
class IbanDetails:
    iban: str | None = strawberry.field(description="The IBAN, masked.")
    bank_name: str | None = strawberry.field(description="The bank's name, if known.")
    bic: str | None = strawberry.field(description="The bank's BIC, if known.")
    errors: list[MoneyError] = strawberry.field(description="Why it is not a usable IBAN.")


# ------------------------------------------------------------------ operations


@strawberry.type
class MoneyQuery:
    @strawberry.field(description="The SEPA direct debit mandate to show before accepting it.")
    def sepa_mandate(self, info: Info) -> SepaMandate:
        mandate = ops.sepa_mandate(info)
        return SepaMandate(
            text=mandate.text,
            version=mandate.version,
            creditor_id=mandate.creditor_id,
            creditor_name=mandate.creditor_name,
        )

    @strawberry.field(
        description="Check an IBAN before submitting it: bank and BIC, or why it is refused "
        "(checksum, format, not in the SEPA area). Needs a login."
    )
    def iban_details(
        self, info: Info, iban: Annotated[str, strawberry.argument(description="The IBAN.")]
    ) -> IbanDetails:
        outcome = ops.iban_details(info, iban)
        checked = outcome.value
        return payload(
            IbanDetails,
            outcome,
            info.context.locale,
            iban=checked.masked if checked else None,
            bank_name=checked.bank_name or None if checked else None,
            bic=checked.bic or None if checked else None,
        )


def _request(value: Any) -> BudgetChangeRequestType | None:
    return BudgetChangeRequestType.from_model(value) if value is not None else None


@strawberry.type
class MoneyMutation:
    @strawberry.mutation(
        description="Ask for a new installment within the plan's bounds, in whole euros; it "
        "applies from the first due date far enough away. Confirmed by mail; one pending "
        "request at a time."
    )
    async def request_budget_change(
        self,
        info: Info,
        input: Annotated[
            RequestBudgetChangeInput,
            strawberry.argument(description="The new installment and the customer."),
        ],
    ) -> RequestBudgetChangePayload:
        outcome = await ops.request_budget_change(info, input.customer_number, input.amount)
        return payload(
            RequestBudgetChangePayload,
            outcome,
            info.context.locale,
            request=_request(outcome.value),
        )

    @strawberry.mutation(description="Withdraw a pending installment change request.")
    async def cancel_budget_change(
        self,
        info: Info,
        input: Annotated[
            CancelBudgetChangeInput, strawberry.argument(description="The request to withdraw.")
        ],
    ) -> CancelBudgetChangePayload:
        outcome = await ops.cancel_budget_change(
            info,
            input.customer_number,
            decode_id(input.request_id, "BudgetChangeRequest"),
        )
        return payload(
            CancelBudgetChangePayload, outcome, info.context.locale, request=_request(outcome.value)
        )

    @strawberry.mutation(
        description="Change to a new account for SEPA direct debit (mandate accepted) or to "
        "transfer. Needs the current password; mailed as a security notice with a link that "
        "stops it; passed on to billing only after the cooling-off time."
    )
    async def change_payment_details(
        self,
        info: Info,
        input: Annotated[
            ChangePaymentDetailsInput,
            strawberry.argument(description="The new payment details and the current password."),
        ],
    ) -> ChangePaymentDetailsPayload:
        outcome = await ops.change_payment_details(
            info,
            input.customer_number,
            ops.BankDetailsInput(
                method=ops.PaymentMethod(str(input.method.value)),
                iban=input.iban,
                holder=input.account_holder,
                accepted_mandate_version=input.accepted_mandate_version,
            ),
            input.current_password,
        )
        change = outcome.value
        return payload(
            ChangePaymentDetailsPayload,
            outcome,
            info.context.locale,
            change=BankChangeType.from_model(change) if change is not None else None,
        )

    @strawberry.mutation(
        description="'This was not me': stop a payment details change from the notice mail's "
        "link before it is passed on; ends every session of the login. No login needed."
    )
    async def stop_payment_details_change(
        self,
        info: Info,
        input: Annotated[
            StopPaymentDetailsChangeInput,
            strawberry.argument(description="The token from the notice mail's link."),
        ],
    ) -> StopPaymentDetailsChangePayload:
        outcome = await ops.stop_payment_details_change(info, input.token)
        return payload(
            StopPaymentDetailsChangePayload, outcome, info.context.locale, stopped=outcome.ok
        )
