"""GraphQL types of the customer area: customer numbers, base data, online
consent, invoices, meters and readings (R9–R15).

Types map models explicitly (`from_model`, the row kept private); relation
fields go through the per-request loaders, so a dashboard over many customer
numbers costs a fixed number of SQL statements. Everything under a `Customer`
is that customer's only: it is reached through the login's own links.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import strawberry

from models import BaseDataChange as BaseDataChangeRow
from models import Customer, Invoice, Meter, MeterReading
from resolvers import customers as ops
from resolvers import readings
from resolvers.context import Info
from resolvers.customers import (
    NO_KEY_DATE_MESSAGE,
    NO_NEXT_PERIOD_MESSAGE,
    CustomerErrorCode,
    Problem,
)
from resolvers.loaders import invoices_by_customer, meters_by_customer
from schema import money
from schema.errors import PublicError, UserError, message
from schema.ids import decode_id, encode_id
from schema.money import BudgetPlanType, InvoiceDocumentType, PaymentDetails
from schema.pagination import DEFAULT_PAGE_SIZE, Page, PageLimit, PageOffset, page_window

# ------------------------------------------------------------------------ enums


@strawberry.enum(name="InvoiceKind", description="What an invoice is for.")
class InvoiceKindEnum(Enum):
    ANNUAL = strawberry.enum_value(
        "annual", description="Annual consumption bill (Jahresverbrauchsabrechnung)."
    )
    OTHER = strawberry.enum_value("other", description="Any other invoice.")


@strawberry.enum(name="MeterKind", description="How a meter is read.")
class MeterKindEnum(Enum):
    MANUAL = strawberry.enum_value("manual", description="The customer submits readings.")
    RADIO = strawberry.enum_value(
        "radio", description="Radio meter: the utility reads it remotely on the key date (R14)."
    )


@strawberry.enum(name="ReadingSource", description="Where a meter reading came from.")
class ReadingSourceEnum(Enum):
    CUSTOMER = strawberry.enum_value("customer", description="Submitted by the customer.")
    RADIO = strawberry.enum_value("radio", description="Read remotely from a radio meter.")
    STAFF = strawberry.enum_value("staff", description="Read by the utility's staff.")
    ESTIMATE = strawberry.enum_value("estimate", description="Estimated by the utility.")


@strawberry.enum(
    name="ReadingWindowState", description="Whether a meter takes a customer reading now (R15)."
)
class ReadingWindowStateEnum(Enum):
    OPEN = strawberry.enum_value(
        "open", description="A reading period is open: readings are taken until `endsOn`."
    )
    UPCOMING = strawberry.enum_value(
        "upcoming", description="No period is open; the next is from `startsOn` to `endsOn`."
    )
    NONE = strawberry.enum_value(
        "none", description="No period is open and the next has not been set yet."
    )
    RADIO = strawberry.enum_value(
        "radio", description="Radio meter: read remotely by the utility on `keyDate`."
    )
    REMOVED = strawberry.enum_value("removed", description="The meter has been removed.")


@strawberry.enum(name="BaseDataField", description="A field of a customer's base data.")
class BaseDataFieldEnum(Enum):
    NAME = strawberry.enum_value("name", description="Name.")
    STREET = strawberry.enum_value("street", description="Street and house number.")
    POSTAL_CODE = strawberry.enum_value("postal_code", description="Postal code (5 digits).")
    CITY = strawberry.enum_value("city", description="City.")
    PHONE = strawberry.enum_value("phone", description="Phone number.")
    EMAIL = strawberry.enum_value("email", description="Correspondence e-mail address.")
    ONLINE_CONSENT = strawberry.enum_value(
        "online_consent", description="Consent to online communication (Onlinekunde)."
    )


# ------------------------------------------------------------------------ types


@strawberry.type(description="Name, postal address, phone and correspondence e-mail.")
class BaseData:
    name: str = strawberry.field(description="Name of the customer.")
    street: str = strawberry.field(description="Street and house number.")
    postal_code: str = strawberry.field(description="Postal code.")
    city: str = strawberry.field(description="City.")
    phone: str = strawberry.field(description="Phone number; empty if none.")
    email: str = strawberry.field(description="Correspondence e-mail address; empty if none.")


@strawberry.type(description="The consent to online communication (Onlinekunde, R11).")
class OnlineConsent:
    given: bool = strawberry.field(
        description="True: invoices and letters by portal and e-mail instead of paper."
    )
    changed_at: dt.datetime | None = strawberry.field(
        description="When the consent was last given or withdrawn (UTC)."
    )
    wording_version: str | None = strawberry.field(
        description="Version of the consent wording that was shown when it was last changed."
    )


@strawberry.type(name="Invoice", description="An invoice of the customer.")
class InvoiceType:
    id: strawberry.ID = strawberry.field(description="Opaque ID of the invoice.")
    number: str = strawberry.field(description="Invoice number (Rechnungsnummer).")
    date: dt.date = strawberry.field(description="Invoice date.")
    kind: InvoiceKindEnum = strawberry.field(description="Annual bill or other invoice.")
    amount_cents: int = strawberry.field(description="Amount in euro cents.")
    row: strawberry.Private[Invoice]

    @classmethod
    def from_model(cls, row: Invoice) -> InvoiceType:
        return cls(
            id=encode_id("Invoice", row.id),
            number=row.number,
            date=row.date,
            kind=InvoiceKindEnum(row.kind),
            amount_cents=row.amount_cents,
            row=row,
        )

    @strawberry.field(
        description="The invoice's PDF with a download link for this login that works a few "
        "minutes; null when billing has sent no PDF."
    )
    async def document(self, info: Info) -> InvoiceDocumentType | None:
        return await money.invoice_document(info, self.row)


@strawberry.type(name="Reading", description="A meter reading (Zählerstand) in m³.")
class ReadingType:
    id: strawberry.ID = strawberry.field(description="Opaque ID of the reading.")
    value: Decimal = strawberry.field(description="Meter value in m³ (up to 3 decimals).")
    read_on: dt.date = strawberry.field(description="Day the meter showed this value.")
    source: ReadingSourceEnum = strawberry.field(description="Who read the meter.")
    recorded_at: dt.datetime = strawberry.field(description="When the reading was recorded (UTC).")
    corrected: bool = strawberry.field(
        description="True if a later correction replaced this value; kept for the history."
    )

    @classmethod
    def from_model(cls, row: MeterReading) -> ReadingType:
        return cls(
            id=encode_id("Reading", row.id),
            value=Decimal(row.value),
            read_on=row.read_on,
            source=ReadingSourceEnum(row.source),
            recorded_at=row.created_at,
            corrected=row.replaced_by_id is not None,
        )


@strawberry.type(
    name="ReadingWindow",
    description="Whether the meter takes a customer reading today, and if not, why and when "
    "(R13–R15).",
)
class ReadingWindowType:
    state: ReadingWindowStateEnum = strawberry.field(description="Where the meter stands.")
    starts_on: dt.date | None = strawberry.field(
        description="First day of the open or next reading period."
    )
    ends_on: dt.date | None = strawberry.field(
        description="Last day of the open or next reading period."
    )
    key_date: dt.date | None = strawberry.field(
        description="Key date (Stichtag) of the period; for radio meters the day they are read."
    )
    accepts_readings: bool = strawberry.field(
        description="True if `submitReading` takes a reading of this meter today."
    )


@strawberry.type(description="Water used in one calendar year, for charts.")
class YearlyConsumption:
    year: int = strawberry.field(description="Calendar year.")
    consumption: Decimal = strawberry.field(
        description="m³ used between the readings that fall in this year and the ones before."
    )


@strawberry.type(name="Meter", description="A water meter (Zähler) of the customer.")
class MeterType:
    id: strawberry.ID = strawberry.field(description="Opaque ID of the meter.")
    number: str = strawberry.field(description="Meter number (Zählernummer).")
    is_main: bool = strawberry.field(description="True for the customer's main meter.")
    kind: MeterKindEnum = strawberry.field(description="Manual or radio meter.")
    unit: str = strawberry.field(description="Unit of the values: always m3.")
    installed_on: dt.date = strawberry.field(description="When the present device was installed.")
    removed_on: dt.date | None = strawberry.field(description="When the meter was removed.")
    row: strawberry.Private[Meter]

    @classmethod
    def from_model(cls, row: Meter) -> MeterType:
        return cls(
            id=encode_id("Meter", row.id),
            number=row.number,
            is_main=row.is_main,
            kind=MeterKindEnum(row.kind),
            unit=row.unit,
            installed_on=row.installed_on,
            removed_on=row.removed_on,
            row=row,
        )

    @strawberry.field(description="Whether a reading can be submitted today, or why not and when.")
    async def reading_window(self, info: Info) -> ReadingWindowType:
        window = await readings.reading_window(info, self.row)
        return ReadingWindowType(
            state=ReadingWindowStateEnum(window.state.value),
            starts_on=window.starts_on,
            ends_on=window.ends_on,
            key_date=window.key_date,
            accepts_readings=window.accepts_readings,
        )

    @strawberry.field(description="The latest reading that stands (corrections applied).")
    async def last_reading(self, info: Info) -> ReadingType | None:
        row = await readings.last_reading(info, self.row)
        return ReadingType.from_model(row) if row else None

    @strawberry.field(
        description="Reading history, newest first; corrected values stay in it, marked."
    )
    async def readings(
        self, info: Info, limit: PageLimit = DEFAULT_PAGE_SIZE, offset: PageOffset = 0
    ) -> Page[ReadingType]:
        window = page_window(limit, offset, info.context.locale)
        rows = await readings.reading_history(info, self.row)
        return Page.of(rows, window, ReadingType.from_model)

    @strawberry.field(description="Water used per calendar year, oldest year first, for charts.")
    async def yearly_consumption(self, info: Info) -> list[YearlyConsumption]:
        rows = await readings.reading_history(info, self.row)
        return [
            YearlyConsumption(year=year, consumption=amount)
            for year, amount in self.row.yearly_consumption(rows)
        ]


IdArgument = Annotated[
    strawberry.ID | None, strawberry.argument(description="Opaque ID; give this or `number`.")
]
NumberArgument = Annotated[
    str | None, strawberry.argument(description="The number; give this or `id`.")
]


@strawberry.type(
    name="Customer",
    description="One customer number of the login and everything under it. All fields "
    "are this customer's only.",
)
class CustomerType:
    id: strawberry.ID = strawberry.field(description="Opaque ID of the customer.")
    number: str = strawberry.field(description="Customer number (Kundennummer).")
    row: strawberry.Private[Customer]

    @classmethod
    def from_model(cls, row: Customer) -> CustomerType:
        return cls(id=encode_id("Customer", row.id), number=row.number, row=row)

    @strawberry.field(description="True for the customer number the session works on (R10).")
    async def is_active(self, info: Info) -> bool:
        active = await ops.active_customer(info)
        return active is not None and active.id == self.row.id

    @strawberry.field(description="Name, postal address, phone and correspondence e-mail.")
    def base_data(self) -> BaseData:
        row = self.row
        return BaseData(
            name=row.name,
            street=row.street,
            postal_code=row.postal_code,
            city=row.city,
            phone=row.phone,
            email=row.email,
        )

    @strawberry.field(description="The consent to online communication (R11).")
    def online_consent(self) -> OnlineConsent:
        row = self.row
        return OnlineConsent(
            given=row.online_consent,
            changed_at=row.online_consent_at,
            wording_version=row.online_consent_version,
        )

    @strawberry.field(
        description="The budget billing plan (Abschlagsplan); null when billing sent none."
    )
    async def budget_plan(self) -> BudgetPlanType | None:
        return await money.budget_plan_of(self.row)

    @strawberry.field(description="How the customer pays, and a change not yet decided.")
    async def payment_details(self) -> PaymentDetails:
        return await money.payment_details_of(self.row)

    @strawberry.field(description="Invoices, newest first.")
    async def invoices(
        self, info: Info, limit: PageLimit = DEFAULT_PAGE_SIZE, offset: PageOffset = 0
    ) -> Page[InvoiceType]:
        window = page_window(limit, offset, info.context.locale)
        rows = await invoices_by_customer(info).load(self.row.id)
        return Page.of(rows, window, InvoiceType.from_model)

    @strawberry.field(
        description="One invoice of this customer by ID or number; NOT_FOUND error if it is "
        "not this customer's."
    )
    async def invoice(
        self, info: Info, id: IdArgument = None, number: NumberArgument = None
    ) -> InvoiceType | None:
        if id is not None:
            row = await ops.find_invoice(self.row, decode_id(id, "Invoice"), None)
        else:
            row = await ops.find_invoice(self.row, None, number)
        if row is None:
            raise PublicError(CustomerErrorCode.NOT_FOUND, info.context.locale)
        return InvoiceType.from_model(row)

    @strawberry.field(description="Meters, the main meter first.")
    async def meters(self, info: Info) -> list[MeterType]:
        return [MeterType.from_model(m) for m in await meters_by_customer(info).load(self.row.id)]

    @strawberry.field(
        description="One meter of this customer by ID or number; NOT_FOUND error if it is not "
        "this customer's."
    )
    async def meter(
        self, info: Info, id: IdArgument = None, number: NumberArgument = None
    ) -> MeterType | None:
        if id is not None:
            row = await ops.find_meter(info, self.row, decode_id(id, "Meter"), None)
        else:
            row = await ops.find_meter(info, self.row, None, number)
        if row is None:
            raise PublicError(CustomerErrorCode.NOT_FOUND, info.context.locale)
        return MeterType.from_model(row)


@strawberry.type(description="One field of a base data change: the value now and the new one.")
class FieldChange:
    field: BaseDataFieldEnum = strawberry.field(description="The field that changes.")
    old_value: str = strawberry.field(
        description="Value now; `true`/`false` for the online consent."
    )
    new_value: str = strawberry.field(
        description="Value after confirmation; `true`/`false` for the online consent."
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@strawberry.type(
    name="BaseDataChange",
    description="A requested change of base data that applies only when confirmed (R11).",
)
class BaseDataChangeType:
    id: strawberry.ID = strawberry.field(description="Opaque ID; pass it to confirmBaseDataChange.")
    customer_number: str = strawberry.field(description="The customer number it changes.")
    changes: list[FieldChange] = strawberry.field(description="What will change.")
    expires_at: dt.datetime = strawberry.field(
        description="Confirm before this moment (UTC), else start again."
    )

    @classmethod
    def from_model(cls, row: BaseDataChangeRow, customer_number: str) -> BaseDataChangeType:
        order = [f.value for f in BaseDataFieldEnum]
        return cls(
            id=encode_id("BaseDataChange", row.id),
            customer_number=customer_number,
            changes=[
                FieldChange(
                    field=BaseDataFieldEnum(name),
                    old_value=_text(row.changes[name]["old"]),
                    new_value=_text(row.changes[name]["new"]),
                )
                for name in order
                if name in row.changes
            ],
            expires_at=row.expires_at,
        )


# ----------------------------------------------------------------------- errors


@strawberry.type(description="An expected failure of a customer, base data or reading operation.")
class CustomerError(UserError):
    code: CustomerErrorCode = strawberry.field(description="What went wrong; switch on this.")
    starts_on: dt.date | None = strawberry.field(
        default=None, description="OUTSIDE_READING_PERIOD: first day of the next period."
    )
    ends_on: dt.date | None = strawberry.field(
        default=None, description="OUTSIDE_READING_PERIOD: last day of the next period."
    )
    key_date: dt.date | None = strawberry.field(
        default=None, description="RADIO_METER: the key date the meter is read remotely on."
    )
    last_value: Decimal | None = strawberry.field(
        default=None, description="BELOW_LAST_READING: the last reading's value in m³."
    )
    last_read_on: dt.date | None = strawberry.field(
        default=None, description="BELOW_LAST_READING: the last reading's day."
    )
    usual_maximum: Decimal | None = strawberry.field(
        default=None,
        description="UNUSUAL_CONSUMPTION: the highest value taken without confirmation.",
    )


def _shown(value: Any, locale: str) -> str:
    if isinstance(value, dt.date):
        return readings.format_day(value, locale)
    if isinstance(value, Decimal):
        return readings.format_m3(value, locale)
    return str(value)


def _message(problem: Problem, locale: str) -> str:
    params = problem.params
    german_english = None
    if problem.code == CustomerErrorCode.OUTSIDE_READING_PERIOD and not params.get("startsOn"):
        german_english = NO_NEXT_PERIOD_MESSAGE
    if problem.code == CustomerErrorCode.RADIO_METER and not params.get("keyDate"):
        german_english = NO_KEY_DATE_MESSAGE
    if german_english:
        return german_english[1] if locale == "en" else german_english[0]
    shown = {k: _shown(v, locale) for k, v in params.items() if v is not None}
    return message(problem.code, locale, **shown)


def errors_of(info: Info, problems: list[Problem]) -> list[CustomerError]:
    locale = info.context.locale
    errors = []
    for problem in problems:
        p = problem.params
        errors.append(
            CustomerError(
                code=problem.code,
                field=list(problem.field) if problem.field else None,
                message=_message(problem, locale),
                starts_on=p.get("startsOn"),
                ends_on=p.get("endsOn"),
                key_date=p.get("keyDate"),
                last_value=p.get("lastValue"),
                last_read_on=p.get("lastReadOn"),
                usual_maximum=p.get("usualMaximum"),
            )
        )
    return errors


# ---------------------------------------------------------------------- inputs


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
    description="New base data of the active customer; fields left out (null) stay as they are."
)
class BaseDataInput:
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


@strawberry.input(description="A meter reading of a meter of the active customer.")
class SubmitReadingInput:
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


# --------------------------------------------------------------------- payloads


@strawberry.type(description="Result of switchCustomer.")
class SwitchCustomerPayload:
    customer: CustomerType | None = strawberry.field(description="The now active customer.")
    errors: list[CustomerError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Result of addCustomerNumber.")
class AddCustomerNumberPayload:
    customer: CustomerType | None = strawberry.field(description="The customer added.")
    errors: list[CustomerError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Result of removeCustomerNumber.")
class RemoveCustomerNumberPayload:
    removed_number: str | None = strawberry.field(description="The customer number removed.")
    errors: list[CustomerError] = strawberry.field(description="Empty on success.")

    @strawberry.field(description="The login's customer numbers after the removal.")
    async def customers(self, info: Info) -> list[CustomerType]:
        return [CustomerType.from_model(c) for c in await ops.linked_customers(info)]


@strawberry.type(
    description="Result of requestBaseDataChange: what will change, nothing changed yet."
)
class RequestBaseDataChangePayload:
    change: BaseDataChangeType | None = strawberry.field(
        description="The pending change; confirm it with confirmBaseDataChange."
    )
    errors: list[CustomerError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Result of a confirmed change of customer data.")
class CustomerChangePayload:
    customer: CustomerType | None = strawberry.field(description="The customer as it is now.")
    mailed_to: str | None = strawberry.field(
        description="The address the confirmation was mailed to, masked (R19)."
    )
    errors: list[CustomerError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Result of submitReading.")
class SubmitReadingPayload:
    reading: ReadingType | None = strawberry.field(description="The reading as stored.")
    corrected_reading: ReadingType | None = strawberry.field(
        description="The earlier reading of this period that this one corrected, if any."
    )
    meter: MeterType | None = strawberry.field(description="The meter read.")
    mailed_to: str | None = strawberry.field(
        description="The address the confirmation was mailed to, masked (R19)."
    )
    errors: list[CustomerError] = strawberry.field(description="Empty on success.")


def _change_payload(info: Info, outcome: ops.Outcome[Customer]) -> CustomerChangePayload:
    return CustomerChangePayload(
        customer=CustomerType.from_model(outcome.value) if outcome.value else None,
        mailed_to=outcome.mailed_to,
        errors=errors_of(info, outcome.problems),
    )


# ------------------------------------------------------------ query, mutation

PasswordArgument = Annotated[
    str | None,
    strawberry.argument(
        description="The current password; needed when the session logged in more than a "
        "few minutes ago (REAUTHENTICATION_REQUIRED)."
    ),
]


@strawberry.type
class CustomerQuery:
    @strawberry.field(
        description="The login's customer numbers with their data, first added first."
    )
    async def customers(self, info: Info) -> list[CustomerType]:
        return [CustomerType.from_model(c) for c in await ops.linked_customers(info)]

    @strawberry.field(
        description="One customer number's view: the given one if it is the login's (else a "
        "NOT_FOUND error and no data), without a number the active one (R10). Null if the "
        "login holds no customer number."
    )
    async def customer(
        self,
        info: Info,
        number: Annotated[
            str | None, strawberry.argument(description="Customer number; default the active one.")
        ] = None,
    ) -> CustomerType | None:
        row = await ops.customer_in_context(info, number)
        return CustomerType.from_model(row) if row else None


@strawberry.type
class CustomerMutation:
    @strawberry.mutation(
        description="Make one of the login's customer numbers the active one of this session (R10)."
    )
    async def switch_customer(
        self,
        info: Info,
        number: Annotated[str, strawberry.argument(description="Customer number.")],
    ) -> SwitchCustomerPayload:
        outcome = await ops.switch_customer(info, number)
        return SwitchCustomerPayload(
            customer=CustomerType.from_model(outcome.value) if outcome.value else None,
            errors=errors_of(info, outcome.problems),
        )

    @strawberry.mutation(
        description="Add a customer number to the login, with the latest invoice's number or "
        "the main meter's number (R9)."
    )
    async def add_customer_number(
        self,
        info: Info,
        input: Annotated[
            AddCustomerNumberInput,
            strawberry.argument(description="The customer number to add and its proof."),
        ],
    ) -> AddCustomerNumberPayload:
        outcome = await ops.add_customer_number(
            info, input.customer_number, input.invoice_number, input.meter_number
        )
        return AddCustomerNumberPayload(
            customer=CustomerType.from_model(outcome.value) if outcome.value else None,
            errors=errors_of(info, outcome.problems),
        )

    @strawberry.mutation(description="Remove a customer number from the login; never the last one.")
    async def remove_customer_number(
        self,
        info: Info,
        number: Annotated[str, strawberry.argument(description="Customer number.")],
    ) -> RemoveCustomerNumberPayload:
        outcome = await ops.remove_customer_number(info, number)
        return RemoveCustomerNumberPayload(
            removed_number=outcome.value, errors=errors_of(info, outcome.problems)
        )

    @strawberry.mutation(
        description="Start a change of the active customer's base data or online consent "
        "(R11): answers what will change and changes nothing until confirmed."
    )
    async def request_base_data_change(
        self,
        info: Info,
        input: Annotated[
            BaseDataInput,
            strawberry.argument(
                description="The base data as it should become; omitted fields stay."
            ),
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
        outcome = await ops.request_base_data_change(info, values, input.online_consent)
        change = None
        if outcome.value is not None:
            active = await ops.require_active_customer(info)
            change = BaseDataChangeType.from_model(outcome.value, active.number)
        return RequestBaseDataChangePayload(change=change, errors=errors_of(info, outcome.problems))

    @strawberry.mutation(
        description="Confirm a requested base data change: it applies now and a confirmation "
        "mail lists what changed (R11, R12)."
    )
    async def confirm_base_data_change(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="ID of the change.")],
        password: PasswordArgument = None,
    ) -> CustomerChangePayload:
        outcome = await ops.confirm_base_data_change(
            info, decode_id(id, "BaseDataChange"), password
        )
        return _change_payload(info, outcome)

    @strawberry.mutation(
        description="Give or withdraw the active customer's consent to online communication "
        "(Onlinekunde, R11); records time, login and wording version and confirms by mail."
    )
    async def set_online_customer(
        self,
        info: Info,
        consent: Annotated[
            bool, strawberry.argument(description="True gives the consent, false withdraws it.")
        ],
        password: PasswordArgument = None,
    ) -> CustomerChangePayload:
        outcome = await ops.set_online_customer(info, consent, password)
        return _change_payload(info, outcome)

    @strawberry.mutation(
        description="Submit a reading of a meter of the active customer (R13–R15), confirmed by "
        "mail. Within the open period a second submission corrects the first."
    )
    async def submit_reading(
        self,
        info: Info,
        input: Annotated[
            SubmitReadingInput,
            strawberry.argument(
                description="The meter, the value and the options of the submission."
            ),
        ],
    ) -> SubmitReadingPayload:
        meter_pk = None
        if input.meter_id is not None:
            # An ID that is not a meter's is a meter that is not found, not a missing one.
            meter_pk = decode_id(input.meter_id, "Meter") or -1
        outcome = await readings.submit_reading(
            info,
            meter_pk=meter_pk,
            meter_number=input.meter_number,
            value=input.value,
            confirm_unusual=input.confirm_unusual,
            idempotency_key=input.idempotency_key,
        )
        done = outcome.value
        return SubmitReadingPayload(
            reading=ReadingType.from_model(done.reading) if done else None,
            corrected_reading=ReadingType.from_model(done.corrected)
            if done and done.corrected
            else None,
            meter=MeterType.from_model(done.meter) if done else None,
            mailed_to=outcome.mailed_to,
            errors=errors_of(info, outcome.problems),
        )
