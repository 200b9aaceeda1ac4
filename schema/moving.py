"""GraphQL operations of moving out and in and of the reading reminders.

Part of the customer area: their errors are `CustomerError`s, their objects the
customer area's types (`MoveOut`, `Meter`, `Reading`); what a customer shows of
them hangs off `Customer` (`moveOut`, `dueMeters`, `readingReminders`). Every
mutation takes one `input`; a customer-scoped one has an optional `customer`, by
default the session's active one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from resolvers import moving
from schema.context import Info
from schema.customer_errors import CustomerError
from schema.customer_types import CustomerType, MeterType, MoveOutType, ReadingType
from schema.errors import ADDRESS, CUSTOMER, PHOTO, declare_errors, inputs, payload
from schema.ids import CustomerRef, customer_choice, customer_field
from schema.uploads import read_upload


@strawberry.input(description="The address the final invoice goes to.")
class ForwardingAddressInput:
    name: str = strawberry.field(description="Name of the recipient.")
    street: str = strawberry.field(description="Street and house number.")
    postal_code: str = strawberry.field(description="Postal code (5 digits in Germany).")
    city: str = strawberry.field(description="City.")
    country: str = strawberry.field(
        default="DE", description="Country as an ISO 3166 two-letter code; default DE."
    )


@strawberry.input(description="A move-out from the supply address.")
class ReportMoveOutInput:
    customer: CustomerRef | None = customer_field()
    move_out_on: dt.date = strawberry.field(
        description="The move-out date: up to 4 weeks back, up to 6 months ahead (settings)."
    )
    forwarding_address: ForwardingAddressInput = strawberry.field(
        description="Where the final invoice goes."
    )


@strawberry.type(description="Result of reportMoveOut.")
class ReportMoveOutPayload:
    errors: list[CustomerError] = strawberry.field(description="Empty on success.")
    move_out: MoveOutType | None = strawberry.field(description="The move-out as recorded.")
    mailed_to: str | None = strawberry.field(
        description="The address the confirmation was mailed to, masked (R19)."
    )


@strawberry.input(description="The final reading of a meter, within the final-reading window.")
class SubmitFinalReadingInput:
    customer: CustomerRef | None = customer_field()
    meter_number: str = strawberry.field(description="The meter's number.")
    value: Decimal = strawberry.field(description="The value the meter shows, in m³.")
    confirm_unusual: bool = strawberry.field(
        default=False,
        description="Set after an UNUSUAL_CONSUMPTION error, when the value is right.",
    )
    photo: Upload | None = strawberry.field(
        default=None,
        description="A photo of the meter (JPEG, PNG or WebP), sent as a file of a multipart "
        "request (GraphQL multipart request specification); stored without its metadata.",
    )


@strawberry.type(description="Result of submitFinalReading.")
class SubmitFinalReadingPayload:
    errors: list[CustomerError] = strawberry.field(description="Empty on success.")
    reading: ReadingType | None = strawberry.field(description="The final reading as stored.")
    meter: MeterType | None = strawberry.field(description="The meter read.")
    mailed_to: str | None = strawberry.field(
        description="The address the confirmation was mailed to, masked (R19)."
    )


@strawberry.input(description="Reading reminders of a customer number on or off.")
class SetReadingRemindersInput:
    customer: CustomerRef | None = customer_field()
    enabled: bool = strawberry.field(description="True: reminders are mailed; false: never.")


@strawberry.type(description="Result of setReadingReminders.")
class SetReadingRemindersPayload:
    errors: list[CustomerError] = strawberry.field(description="Empty on success.")
    customer: CustomerType | None = strawberry.field(description="The customer as it is now.")


@strawberry.input(description="A request to move in, passed on to customer service.")
class RequestMoveInInput:
    name: str = strawberry.field(description="Name of the person moving in.")
    street: str = strawberry.field(description="Street and house number of the new address.")
    postal_code: str = strawberry.field(description="Postal code of the new address (5 digits).")
    city: str = strawberry.field(description="City of the new address.")
    move_in_on: dt.date = strawberry.field(description="The move-in date.")
    email: str | None = strawberry.field(
        default=None, description="Where customer service answers; default the login's address."
    )
    phone: str | None = strawberry.field(default=None, description="A phone number, optional.")
    message: str | None = strawberry.field(default=None, description="Anything else, optional.")
    customer_number: str | None = strawberry.field(
        default=None, description="A customer number the person has already, optional."
    )


@strawberry.type(description="Result of requestMoveIn.")
class RequestMoveInPayload:
    errors: list[CustomerError] = strawberry.field(description="Empty on success.")
    reference: int | None = strawberry.field(
        description="Reference number of the request at customer service."
    )
    mailed_to: str | None = strawberry.field(
        description="Customer service's address the request went to, masked."
    )


FORWARDING = inputs(*ADDRESS, under="input.forwardingAddress")
"""The parts of a forwarding address that are required and limited in length."""


@strawberry.type
class MovingMutation:
    @declare_errors(
        NOT_FOUND=CUSTOMER,
        MOVE_OUT_ALREADY_REPORTED=CUSTOMER,
        DATE_OUT_OF_RANGE="input.moveOutOn",
        REQUIRED=FORWARDING,
        TOO_LONG=FORWARDING,
        COUNTRY_INVALID="input.forwardingAddress.country",
        POSTAL_CODE_INVALID="input.forwardingAddress.postalCode",
    )
    @strawberry.mutation(
        description="Report moving out of the supply address: the date and where the final "
        "invoice goes; confirmed by mail. Final readings follow with submitFinalReading."
    )
    async def report_move_out(
        self,
        info: Info,
        input: Annotated[ReportMoveOutInput, strawberry.argument(description="The move-out.")],
    ) -> ReportMoveOutPayload:
        ctx = info.context
        given = input.forwarding_address
        address = moving.ForwardingAddress(
            given.name, given.street, given.postal_code, given.city, given.country
        )
        outcome = await moving.report_move_out(
            ctx, customer_choice(input.customer), input.move_out_on, address
        )
        done = outcome.value
        days = ctx.settings.final_reading_window_days
        return payload(
            ReportMoveOutPayload,
            outcome,
            ctx.locale,
            move_out=MoveOutType.from_model(done, days) if done else None,
        )

    @declare_errors(
        NOT_FOUND=(*CUSTOMER, "input.meterNumber"),
        NO_MOVE_OUT=CUSTOMER,
        CUSTOMER_CLOSED=None,
        RADIO_METER="input.meterNumber",
        METER_REMOVED="input.meterNumber",
        VALUE_INVALID="input.value",
        OUTSIDE_FINAL_READING_WINDOW=None,
        **PHOTO,
        BELOW_LAST_READING="input.value",
        UNUSUAL_CONSUMPTION="input.confirmUnusual",
    )
    @strawberry.mutation(
        description="Give the final reading (Schlusszählerstand) of a meter after reporting a "
        "move-out: taken from a set number of days before to after the move-out date, reading "
        "period or not, with the checks of every reading. A second one replaces the first."
    )
    async def submit_final_reading(
        self,
        info: Info,
        input: Annotated[
            SubmitFinalReadingInput, strawberry.argument(description="The meter and its value.")
        ],
    ) -> SubmitFinalReadingPayload:
        ctx = info.context
        photo = None
        if input.photo is not None:
            photo = await read_upload(input.photo, ctx.settings.photo_max_bytes)
        outcome = await moving.submit_final_reading(
            ctx,
            customer_choice(input.customer),
            input.meter_number,
            input.value,
            confirm_unusual=input.confirm_unusual,
            photo=photo,
        )
        done = outcome.value
        return payload(
            SubmitFinalReadingPayload,
            outcome,
            ctx.locale,
            reading=ReadingType.from_model(done.reading) if done else None,
            meter=MeterType.from_model(done.meter) if done else None,
        )

    @declare_errors(NOT_FOUND=CUSTOMER)
    @strawberry.mutation(
        description="Switch the reading reminder mails of a customer number on or off."
    )
    async def set_reading_reminders(
        self,
        info: Info,
        input: Annotated[
            SetReadingRemindersInput, strawberry.argument(description="On or off, and for whom.")
        ],
    ) -> SetReadingRemindersPayload:
        outcome = await moving.set_reading_reminders(
            info.context, customer_choice(input.customer), input.enabled
        )
        done = outcome.value
        return payload(
            SetReadingRemindersPayload,
            outcome,
            info.context.locale,
            customer=CustomerType.from_model(done) if done else None,
        )

    @declare_errors(
        REQUIRED=inputs(*ADDRESS),
        TOO_LONG=inputs(*ADDRESS, "phone", "message"),
        POSTAL_CODE_INVALID="input.postalCode",
        EMAIL_INVALID="input.email",
        DATE_OUT_OF_RANGE="input.moveInOn",
    )
    @strawberry.mutation(
        description="Ask customer service to set up supply at a new address (moving in is a "
        "new contract, not self-service); also without a login. Rate-limited per client."
    )
    async def request_move_in(
        self,
        info: Info,
        input: Annotated[RequestMoveInInput, strawberry.argument(description="The request.")],
    ) -> RequestMoveInPayload:
        outcome = await moving.request_move_in(
            info.context,
            moving.MoveInRequest(
                name=input.name,
                street=input.street,
                postal_code=input.postal_code,
                city=input.city,
                move_in_on=input.move_in_on,
                email=input.email,
                phone=input.phone,
                message=input.message,
                customer_number=input.customer_number,
            ),
        )
        return payload(RequestMoveInPayload, outcome, info.context.locale, reference=outcome.value)
