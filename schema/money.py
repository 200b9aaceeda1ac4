"""The money area's operations (budget billing requests, payment details changes, the
SEPA mandate, IBAN checks) with their inputs and payloads. The object types are in
`schema.money_types`, the error type in `schema.money_errors`."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from resolvers import money as ops
from schema.context import Info
from schema.errors import CUSTOMER, SENSITIVE, declare_errors, payload
from schema.ids import CustomerRef, customer_choice, customer_field, decode_id
from schema.money_errors import MoneyError
from schema.money_types import (
    BankChangeType,
    BudgetChangeRequestType,
    PaymentMethodEnum,
    SepaMandate,
)

# ----------------------------------------------------------------------- inputs


@strawberry.input(description="A new installment for the customer's budget plan.")
class RequestBudgetChangeInput:
    customer: CustomerRef | None = customer_field()
    amount: str = strawberry.field(description="Whole euros, e.g. `85` (or `85,00`).")


@strawberry.input(description="The pending change request to withdraw.")
class CancelBudgetChangeInput:
    customer: CustomerRef | None = customer_field()
    request_id: strawberry.ID = strawberry.field(description="ID of the request.")


@strawberry.input(description="New payment details: an account for direct debit, or transfer.")
class ChangePaymentDetailsInput:
    customer: CustomerRef | None = customer_field()
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


@strawberry.input(description="The token of the 'this was not me' link in the notice mail.")
class StopPaymentDetailsChangeInput:
    token: str = strawberry.field(description="The `token` parameter of the link.")


# ---------------------------------------------------------------------- payloads


@strawberry.type(description="Result of requestBudgetChange.")
class RequestBudgetChangePayload:
    errors: list[MoneyError] = strawberry.field(description="Empty on success.")
    request: BudgetChangeRequestType | None = strawberry.field(description="The new request.")
    mailed_to: str | None = strawberry.field(description="Confirmation mailed here (masked).")


@strawberry.type(description="Result of cancelBudgetChange.")
class CancelBudgetChangePayload:
    errors: list[MoneyError] = strawberry.field(description="Empty on success.")
    request: BudgetChangeRequestType | None = strawberry.field(description="The request.")


@strawberry.type(description="Result of changePaymentDetails.")
class ChangePaymentDetailsPayload:
    errors: list[MoneyError] = strawberry.field(description="Empty on success.")
    change: BankChangeType | None = strawberry.field(description="The change, cooling off.")
    mailed_to: str | None = strawberry.field(description="Security notice mailed here (masked).")


@strawberry.type(description="Result of stopPaymentDetailsChange.")
class StopPaymentDetailsChangePayload:
    errors: list[MoneyError] = strawberry.field(description="Empty on success.")
    stopped: bool = strawberry.field(description="True when the change was stopped.")


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
        mandate = ops.sepa_mandate(info.context)
        return SepaMandate(
            text=mandate.text,
            version=mandate.version,
            creditor_id=mandate.creditor_id,
            creditor_name=mandate.creditor_name,
        )

    @declare_errors(IBAN_CHECKSUM="iban", IBAN_INVALID="iban", IBAN_NOT_SEPA="iban")
    @strawberry.field(
        description="Check an IBAN before submitting it: bank and BIC, or why it is refused "
        "(checksum, format, not in the SEPA area). Needs a login."
    )
    def iban_details(
        self, info: Info, iban: Annotated[str, strawberry.argument(description="The IBAN.")]
    ) -> IbanDetails:
        outcome = ops.iban_details(info.context, iban)
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
    @declare_errors(
        NOT_FOUND=CUSTOMER,
        NOT_AN_AMOUNT="input.amount",
        AMOUNT_NOT_WHOLE_EUROS="input.amount",
        AMOUNT_OUT_OF_RANGE="input.amount",
        NOTHING_CHANGED="input.amount",
        REQUEST_PENDING=None,
        NO_DUE_DATE=None,
    )
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
        outcome = await ops.request_budget_change(
            info.context, customer_choice(input.customer), input.amount
        )
        return payload(
            RequestBudgetChangePayload,
            outcome,
            info.context.locale,
            request=_request(outcome.value),
        )

    @declare_errors(NOT_FOUND=(*CUSTOMER, "input.requestId"), NOT_PENDING="input.requestId")
    @strawberry.mutation(description="Withdraw a pending installment change request.")
    async def cancel_budget_change(
        self,
        info: Info,
        input: Annotated[
            CancelBudgetChangeInput, strawberry.argument(description="The request to withdraw.")
        ],
    ) -> CancelBudgetChangePayload:
        outcome = await ops.cancel_budget_change(
            info.context,
            customer_choice(input.customer),
            decode_id(input.request_id, "BudgetChangeRequest"),
        )
        return payload(
            CancelBudgetChangePayload, outcome, info.context.locale, request=_request(outcome.value)
        )

    @declare_errors(
        NOT_FOUND=CUSTOMER,
        NOT_ALLOWED_FOR_TRANSFER=(
            "input.iban",
            "input.accountHolder",
            "input.acceptedMandateVersion",
        ),
        REQUIRED=("input.iban", "input.accountHolder"),
        IBAN_CHECKSUM="input.iban",
        IBAN_INVALID="input.iban",
        IBAN_NOT_SEPA="input.iban",
        TOO_LONG="input.accountHolder",
        MANDATE_NOT_ACCEPTED="input.acceptedMandateVersion",
        **SENSITIVE,
        NOTHING_CHANGED=None,
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
            info.context,
            customer_choice(input.customer),
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

    @declare_errors(LINK_INVALID="input.token")
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
        outcome = await ops.stop_payment_details_change(info.context, input.token)
        return payload(
            StopPaymentDetailsChangePayload, outcome, info.context.locale, stopped=outcome.ok
        )
