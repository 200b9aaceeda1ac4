"""The customer area's queries and mutations (R9–R15), with their inputs and payloads:
switching, adding and removing customer numbers, base data and online consent, and
submitting readings. The object types are in `schema.customer_types`, the error type
in `schema.customer_errors`."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import strawberry
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionSetNode,
    value_from_ast_untyped,
)
from strawberry.file_uploads import Upload

from models import Customer
from models.errors import Outcome
from models.request_codes import MAX_PAGE_SIZE
from resolvers import base_data, customer_context, customer_numbers, dashboard, readings
from schema.connections import DEFAULT_PAGE_SIZE
from schema.context import Info
from schema.customer_errors import CustomerError
from schema.customer_types import BaseDataChangeType, CustomerType, MeterType, ReadingType
from schema.errors import ADDRESS, CUSTOMER, PHOTO, SENSITIVE, declare_errors, inputs, payload
from schema.ids import CustomerRef, customer_choice, customer_field, decode_id
from schema.uploads import read_upload

P = TypeVar("P")

# ---------------------------------------------------------------------- inputs

_CURRENT_PASSWORD = (
    "The current password; needed when the session logged in more than a few minutes ago "
    "(REAUTHENTICATION_REQUIRED)."
)


@strawberry.input(description="The customer number to work on from now on.")
class SwitchCustomerInput:
    customer_number: str = strawberry.field(description="One of the login's customer numbers.")


@strawberry.input(description="The customer number to remove from the login.")
class RemoveCustomerNumberInput:
    customer_number: str = strawberry.field(description="One of the login's customer numbers.")


@strawberry.input(description="A customer number to add, with the proof asked at registration.")
class AddCustomerNumberInput:
    customer_number: str = strawberry.field(description="Customer number (Kundennummer).")
    invoice_number: str | None = strawberry.field(
        default=None, description="Number of the customer's latest invoice; or give `meterNumber`."
    )
    meter_number: str | None = strawberry.field(
        default=None, description="Number of the customer's main meter; or give `invoiceNumber`."
    )


@strawberry.input(
    description="New base data of a customer; fields left out (null) stay as they are."
)
class RequestBaseDataChangeInput:
    customer: CustomerRef | None = customer_field()
    name: str | None = strawberry.field(default=None, description="Name.")
    street: str | None = strawberry.field(default=None, description="Street and house number.")
    postal_code: str | None = strawberry.field(default=None, description="Postal code, 5 digits.")
    city: str | None = strawberry.field(default=None, description="City.")
    phone: str | None = strawberry.field(
        default=None, description="Phone number, 6 to 15 digits; empty string removes it."
    )
    email: str | None = strawberry.field(
        default=None, description="Correspondence e-mail address; empty string removes it."
    )
    online_consent: bool | None = strawberry.field(
        default=None, description="Give (true) or withdraw (false) the online consent (R11)."
    )


@strawberry.input(description="The requested change to confirm.")
class ConfirmBaseDataChangeInput:
    customer: CustomerRef | None = customer_field()
    id: strawberry.ID = strawberry.field(description="ID of the change (`change.id`).")
    current_password: str | None = strawberry.field(default=None, description=_CURRENT_PASSWORD)


@strawberry.input(description="The consent to online communication, given or withdrawn.")
class SetOnlineCustomerInput:
    customer: CustomerRef | None = customer_field()
    consent: bool = strawberry.field(description="True gives the consent, false withdraws it.")
    current_password: str | None = strawberry.field(default=None, description=_CURRENT_PASSWORD)


@strawberry.input(description="A meter reading of a meter of the customer.")
class SubmitReadingInput:
    customer: CustomerRef | None = customer_field()
    meter_id: strawberry.ID | None = strawberry.field(
        default=None, description="The meter's ID; or give `meterNumber`."
    )
    meter_number: str | None = strawberry.field(
        default=None, description="The meter's number; or give `meterId`."
    )
    value: Decimal = strawberry.field(description="The value the meter shows, in m³.")
    confirm_unusual: bool = strawberry.field(
        default=False,
        description="Set after an UNUSUAL_CONSUMPTION error, when the value is right.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="A key of the client's choosing (e.g. a UUID, at most 100 characters): "
        "sending the same submission again with it is answered as the first time and "
        "stores nothing new.",
    )
    photo: Upload | None = strawberry.field(
        default=None,
        description="A photo of the meter (JPEG, PNG or WebP), sent as a file of a multipart "
        "request (GraphQL multipart request specification); stored without its metadata.",
    )


# --------------------------------------------------------------------- payloads


def _errors() -> list[CustomerError]:
    return strawberry.field(description="Why the operation failed; empty on success.")


def _mailed_to() -> str | None:
    return strawberry.field(description="The address the confirmation was mailed to, masked (R19).")


@strawberry.type(description="Result of switchCustomer.")
class SwitchCustomerPayload:
    errors: list[CustomerError] = _errors()
    customer: CustomerType | None = strawberry.field(description="The now active customer.")


@strawberry.type(description="Result of addCustomerNumber.")
class AddCustomerNumberPayload:
    errors: list[CustomerError] = _errors()
    customer: CustomerType | None = strawberry.field(description="The customer added.")


@strawberry.type(description="Result of removeCustomerNumber.")
class RemoveCustomerNumberPayload:
    errors: list[CustomerError] = _errors()
    removed_number: str | None = strawberry.field(description="The customer number removed.")

    @strawberry.field(description="The login's customer numbers after the removal.")
    async def customers(self, info: Info) -> list[CustomerType]:
        return [
            CustomerType.from_model(c)
            for c in await customer_context.linked_customers(info.context)
        ]


@strawberry.type(
    description="Result of requestBaseDataChange: what will change, nothing changed yet."
)
class RequestBaseDataChangePayload:
    errors: list[CustomerError] = _errors()
    change: BaseDataChangeType | None = strawberry.field(
        description="The pending change; confirm it with confirmBaseDataChange."
    )


@strawberry.type(description="A confirmed change of customer data.")
class CustomerChangedFields:
    errors: list[CustomerError] = _errors()
    customer: CustomerType | None = strawberry.field(description="The customer as it is now.")
    mailed_to: str | None = _mailed_to()


@strawberry.type(description="Result of confirmBaseDataChange.")
class ConfirmBaseDataChangePayload(CustomerChangedFields):
    pass


@strawberry.type(description="Result of setOnlineCustomer.")
class SetOnlineCustomerPayload(CustomerChangedFields):
    pass


@strawberry.type(description="Result of submitReading.")
class SubmitReadingPayload:
    errors: list[CustomerError] = _errors()
    reading: ReadingType | None = strawberry.field(description="The reading as stored.")
    corrected_reading: ReadingType | None = strawberry.field(
        description="The earlier reading of this period that this one corrected, if any."
    )
    meter: MeterType | None = strawberry.field(description="The meter read.")
    mailed_to: str | None = _mailed_to()


def _customer_payload(cls: Callable[..., P], info: Info, outcome: Outcome[Customer]) -> P:
    """A payload whose `customer` is the outcome's customer."""
    return payload(
        cls,
        outcome,
        info.context.locale,
        customer=CustomerType.from_model(outcome.value) if outcome.value else None,
    )


# ------------------------------------------------------------ query, mutation


def _input(description: str) -> Any:
    return strawberry.argument(description=description)


def _wish_tree(info: Info) -> None:
    """Look ahead: when the customers' invoices or meters are asked for, let the login's
    customers come with the whole dashboard tree (`resolvers.dashboard`). Reads the
    document's nodes one level down (strawberry's `selected_fields` converts the whole
    subtree, a quarter of a millisecond per dashboard)."""
    raw = info._raw_info
    wanted, first = _looked_ahead(raw.field_nodes[0].selection_set, raw)
    if wanted:
        dashboard.want_tree(info.context, first)


def _looked_ahead(
    selection_set: SelectionSetNode | None, raw: GraphQLResolveInfo
) -> tuple[bool, int]:
    wanted, first = False, 0
    for node in selection_set.selections if selection_set else ():
        if isinstance(node, FragmentSpreadNode):
            fragment = raw.fragments.get(node.name.value)
            more, most = _looked_ahead(fragment.selection_set if fragment else None, raw)
        elif isinstance(node, InlineFragmentNode):
            more, most = _looked_ahead(node.selection_set, raw)
        elif isinstance(node, FieldNode) and node.name.value in ("meters", "invoices"):
            more, most = True, _first_invoices(node, raw.variable_values)
        else:
            continue
        wanted, first = wanted or more, max(first, most)
    return wanted, first


def _first_invoices(node: FieldNode, variables: Any) -> int:
    """The `first` of an `invoices` field that starts at the top of the list, else 0."""
    if node.name.value != "invoices":
        return 0
    given = {
        argument.name.value: value_from_ast_untyped(argument.value, variables)
        for argument in node.arguments or ()
    }
    asked = given.get("first", DEFAULT_PAGE_SIZE)
    if given.get("after") is not None or not isinstance(asked, int):
        return 0
    return min(max(asked, 0), MAX_PAGE_SIZE)


@strawberry.type
class CustomerQuery:
    @strawberry.field(
        description="The login's customer numbers with their data, first added first."
    )
    async def customers(self, info: Info) -> list[CustomerType]:
        _wish_tree(info)
        return [
            CustomerType.from_model(c)
            for c in await customer_context.linked_customers(info.context)
        ]

    @strawberry.field(
        description="One customer number's view: the one named if it is the login's (else a "
        "NOT_FOUND error and no data), without `ref` the session's active one (R10). A tab "
        "that names its customer is not affected by `switchCustomer` in another. Null if the "
        "login holds no customer number."
    )
    async def customer(
        self,
        info: Info,
        ref: Annotated[
            CustomerRef | None,
            strawberry.argument(description="The customer number; default the active one."),
        ] = None,
    ) -> CustomerType | None:
        _wish_tree(info)
        if ref is None:
            row = await customer_context.active_customer(info.context)
        else:
            row = await customer_context.chosen_customer(info.context, ref.pk(), ref.given_number())
        return CustomerType.from_model(row) if row else None


@strawberry.type
class CustomerMutation:
    @declare_errors(NOT_FOUND="input.customerNumber")
    @strawberry.mutation(
        description="Make one of the login's customer numbers the active one of this session (R10)."
    )
    async def switch_customer(
        self, info: Info, input: Annotated[SwitchCustomerInput, _input("The customer number.")]
    ) -> SwitchCustomerPayload:
        outcome = await customer_context.switch_customer(info.context, input.customer_number)
        return _customer_payload(SwitchCustomerPayload, info, outcome)

    @declare_errors(
        REQUIRED="input.customerNumber",
        PROOF_REQUIRED=None,
        CUSTOMER_NOT_VERIFIED=None,
        ALREADY_ADDED="input.customerNumber",
        CUSTOMER_NUMBER_TAKEN="input.customerNumber",
    )
    @strawberry.mutation(
        description="Add a customer number to the login, with the latest invoice's number or "
        "the main meter's number (R9)."
    )
    async def add_customer_number(
        self,
        info: Info,
        input: Annotated[AddCustomerNumberInput, _input("The customer number and its proof.")],
    ) -> AddCustomerNumberPayload:
        outcome = await customer_numbers.add_customer_number(
            info.context, input.customer_number, input.invoice_number, input.meter_number
        )
        return _customer_payload(AddCustomerNumberPayload, info, outcome)

    @declare_errors(NOT_FOUND="input.customerNumber", LAST_CUSTOMER_NUMBER="input.customerNumber")
    @strawberry.mutation(description="Remove a customer number from the login; never the last one.")
    async def remove_customer_number(
        self,
        info: Info,
        input: Annotated[RemoveCustomerNumberInput, _input("The customer number.")],
    ) -> RemoveCustomerNumberPayload:
        outcome = await customer_numbers.remove_customer_number(info.context, input.customer_number)
        return payload(
            RemoveCustomerNumberPayload, outcome, info.context.locale, removed_number=outcome.value
        )

    @declare_errors(
        NOT_FOUND=CUSTOMER,
        CUSTOMER_CLOSED=None,
        REQUIRED=inputs(*ADDRESS),
        TOO_LONG=inputs(*ADDRESS, "phone", "email"),
        POSTAL_CODE_INVALID="input.postalCode",
        PHONE_INVALID="input.phone",
        EMAIL_INVALID="input.email",
        NOTHING_CHANGED="input",
    )
    @strawberry.mutation(
        description="Start a change of a customer's base data or online consent (R11): "
        "answers what will change and changes nothing until confirmed."
    )
    async def request_base_data_change(
        self,
        info: Info,
        input: Annotated[
            RequestBaseDataChangeInput,
            _input("The base data as it should become; omitted fields stay."),
        ],
    ) -> RequestBaseDataChangePayload:
        values = {
            "name": input.name,
            "street": input.street,
            "postal_code": input.postal_code,
            "city": input.city,
            "phone": input.phone,
            "email": input.email,
        }
        choice = customer_choice(input.customer)
        outcome = await base_data.request_base_data_change(
            info.context, choice, values, input.online_consent
        )
        change = None
        if outcome.value is not None:
            customer = await customer_context.named_customer(info.context, choice)
            number = customer.number if customer else ""
            change = BaseDataChangeType.from_model(outcome.value, number)
        return payload(RequestBaseDataChangePayload, outcome, info.context.locale, change=change)

    @declare_errors(
        NOT_FOUND=(*CUSTOMER, "input.id"),
        CUSTOMER_CLOSED=None,
        CHANGE_ALREADY_CONFIRMED="input.id",
        CHANGE_EXPIRED="input.id",
        CHANGE_OUTDATED="input.id",
        **SENSITIVE,
    )
    @strawberry.mutation(
        description="Confirm a requested base data change: it applies now and a confirmation "
        "mail lists what changed (R11, R12)."
    )
    async def confirm_base_data_change(
        self,
        info: Info,
        input: Annotated[ConfirmBaseDataChangeInput, _input("The change and re-authentication.")],
    ) -> ConfirmBaseDataChangePayload:
        outcome = await base_data.confirm_base_data_change(
            info.context,
            customer_choice(input.customer),
            decode_id(input.id, "BaseDataChange"),
            input.current_password,
        )
        return _customer_payload(ConfirmBaseDataChangePayload, info, outcome)

    @declare_errors(NOT_FOUND=CUSTOMER, CUSTOMER_CLOSED=None, **SENSITIVE)
    @strawberry.mutation(
        description="Give or withdraw a customer's consent to online communication "
        "(Onlinekunde, R11); records time, login and wording version and confirms by mail."
    )
    async def set_online_customer(
        self,
        info: Info,
        input: Annotated[SetOnlineCustomerInput, _input("The consent and re-authentication.")],
    ) -> SetOnlineCustomerPayload:
        outcome = await base_data.set_online_customer(
            info.context, customer_choice(input.customer), input.consent, input.current_password
        )
        return _customer_payload(SetOnlineCustomerPayload, info, outcome)

    @declare_errors(
        NOT_FOUND=(*CUSTOMER, "input.meterId", "input.meterNumber"),
        CHOICE_REQUIRED=None,
        CUSTOMER_CLOSED=None,
        VALUE_INVALID="input.value",
        TOO_LONG="input.idempotencyKey",
        IDEMPOTENCY_KEY_REUSED="input.idempotencyKey",
        **PHOTO,
        RADIO_METER=("input.meterId", "input.meterNumber"),
        METER_REMOVED=("input.meterId", "input.meterNumber"),
        OUTSIDE_READING_PERIOD=None,
        BELOW_LAST_READING="input.value",
        UNUSUAL_CONSUMPTION="input.confirmUnusual",
    )
    @strawberry.mutation(
        description="Submit a reading of a meter of a customer (R13–R15), confirmed by mail. "
        "Within the open period a second submission corrects the first."
    )
    async def submit_reading(
        self,
        info: Info,
        input: Annotated[
            SubmitReadingInput, _input("The meter, the value and the options of the submission.")
        ],
    ) -> SubmitReadingPayload:
        meter_pk = None
        if input.meter_id is not None:
            # An ID that is not a meter's is a meter that is not found, not a missing one.
            meter_pk = decode_id(input.meter_id, "Meter") or -1
        outcome = await readings.submit_reading(
            info.context,
            meter_pk=meter_pk,
            meter_number=input.meter_number,
            value=input.value,
            confirm_unusual=input.confirm_unusual,
            idempotency_key=input.idempotency_key,
            photo=await read_upload(input.photo, info.context.settings.photo_max_bytes)
            if input.photo is not None
            else None,
            choice=customer_choice(input.customer),
        )
        done = outcome.value
        return payload(
            SubmitReadingPayload,
            outcome,
            info.context.locale,
            reading=ReadingType.from_model(done.reading) if done else None,
            corrected_reading=ReadingType.from_model(done.corrected)
            if done and done.corrected
            else None,
            meter=MeterType.from_model(done.meter) if done else None,
        )
