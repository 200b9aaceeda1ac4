"""GraphQL object types and enums of the customer area: customers, base data, online
consent, invoices, meters and readings (R9–R15).

Types map models explicitly (`from_model`, the row kept private); relation
fields go through the per-request loaders, so a dashboard over many customer
numbers costs a fixed number of SQL statements. Everything under a `Customer`
is that customer's only: it is reached through the login's own links.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import strawberry

from models import BaseDataChange as BaseDataChangeRow
from models import Customer, Invoice, Meter, MeterReading, MoveOut
from models.customer_codes import CustomerErrorCode
from models.customers import ReadingWindow
from models.errors import PublicError
from resolvers import customer_context, moving, readings
from resolvers.loaders import invoice_pages, meters_by_customer, peek, reading_pages
from resolvers.pages import Slice
from schema import money_types
from schema.connections import (
    DEFAULT_PAGE_SIZE,
    INVOICES,
    READINGS,
    After,
    Connection,
    First,
    PageRequest,
    page_request,
)
from schema.context import Info, later
from schema.ids import InvoiceRef, MeterRef, Node, encode_id
from schema.money_types import BudgetPlanType, InvoiceDocumentType, PaymentDetails

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
class InvoiceType(Node):
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
        return await money_types.invoice_document(info, self.row)


@strawberry.type(name="Reading", description="A meter reading (Zählerstand) in m³.")
class ReadingType(Node):
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

    @classmethod
    def from_window(cls, window: ReadingWindow) -> ReadingWindowType:
        return cls(
            state=ReadingWindowStateEnum(window.state.value),
            starts_on=window.starts_on,
            ends_on=window.ends_on,
            key_date=window.key_date,
            accepts_readings=window.accepts_readings,
        )


@strawberry.type(description="Water used in one calendar year, for charts.")
class YearlyConsumption:
    year: int = strawberry.field(description="Calendar year.")
    consumption: Decimal = strawberry.field(
        description="m³ used between the readings that fall in this year and the ones before."
    )


@strawberry.type(name="Meter", description="A water meter (Zähler) of the customer.")
class MeterType(Node):
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

    # The fields a dashboard shows answer synchronously when their data is loaded (see
    # `schema.context.later`), and load it otherwise.
    @strawberry.field(description="Whether a reading can be submitted today, or why not and when.")
    def reading_window(self, info: Info) -> ReadingWindowType:
        window = readings.known_reading_window(info.context, self.row)
        if window is None:
            return later(self._reading_window(info))
        return ReadingWindowType.from_window(window)

    async def _reading_window(self, info: Info) -> ReadingWindowType:
        return ReadingWindowType.from_window(await readings.reading_window(info.context, self.row))

    @strawberry.field(description="The latest reading that stands (corrections applied).")
    def last_reading(self, info: Info) -> ReadingType | None:
        known = readings.known_last_reading(info.context, self.row)
        if known is None:
            return later(self._last_reading(info))
        return ReadingType.from_model(known.value) if known.value else None

    async def _last_reading(self, info: Info) -> ReadingType | None:
        row = await readings.last_reading(info.context, self.row)
        return ReadingType.from_model(row) if row else None

    @strawberry.field(
        description="Reading history, newest first; corrected values stay in it, marked."
    )
    async def readings(
        self, info: Info, first: First = DEFAULT_PAGE_SIZE, after: After = None
    ) -> Connection[ReadingType]:
        page = page_request(READINGS, first, after, info.context.locale)
        found = await reading_pages(info.context).load((self.row.id, page.first, page.after))
        return Connection.of(found, page, ReadingType.from_model)

    @strawberry.field(description="Water used per calendar year, oldest year first, for charts.")
    async def yearly_consumption(self, info: Info) -> list[YearlyConsumption]:
        rows = await readings.reading_history(info.context, self.row)
        return [
            YearlyConsumption(year=year, consumption=amount)
            for year, amount in self.row.yearly_consumption(rows)
        ]


@strawberry.type(description="The address the final invoice (Schlussrechnung) goes to.")
class ForwardingAddress:
    name: str = strawberry.field(description="Name of the recipient.")
    street: str = strawberry.field(description="Street and house number.")
    postal_code: str = strawberry.field(description="Postal code.")
    city: str = strawberry.field(description="City.")
    country: str = strawberry.field(description="Country as an ISO 3166 two-letter code.")


@strawberry.type(
    name="FinalReading", description="The final reading (Schlusszählerstand) of one meter."
)
class FinalReadingType:
    meter: MeterType = strawberry.field(description="The meter.")
    reading: ReadingType = strawberry.field(description="The reading taken as the final one.")


@strawberry.type(
    name="MoveOut",
    description="A reported move-out (Auszug): date, forwarding address, final readings.",
)
class MoveOutType(Node):
    id: strawberry.ID = strawberry.field(description="Opaque ID of the move-out.")
    move_out_on: dt.date = strawberry.field(description="The move-out date.")
    reported_at: dt.datetime = strawberry.field(description="When it was reported (UTC).")
    forwarding_address: ForwardingAddress = strawberry.field(
        description="Where the final invoice goes."
    )
    final_reading_from: dt.date = strawberry.field(
        description="First day a final reading is taken (submitFinalReading)."
    )
    final_reading_until: dt.date = strawberry.field(
        description="Last day a final reading is taken."
    )
    final_invoice_number: str | None = strawberry.field(
        description="The final invoice once the billing system sent it; from then on the "
        "customer number can be viewed but not changed (CUSTOMER_CLOSED)."
    )
    row: strawberry.Private[MoveOut]

    @classmethod
    def from_model(cls, row: MoveOut, window_days: int) -> MoveOutType:
        window = row.reading_window(days=window_days)
        return cls(
            id=encode_id("MoveOut", row.id),
            move_out_on=row.move_out_on,
            reported_at=row.reported_at,
            forwarding_address=ForwardingAddress(
                name=row.forwarding_name,
                street=row.forwarding_street,
                postal_code=row.forwarding_postal_code,
                city=row.forwarding_city,
                country=row.forwarding_country,
            ),
            final_reading_from=window.starts_on,
            final_reading_until=window.ends_on,
            final_invoice_number=row.final_invoice_number,
            row=row,
        )

    @strawberry.field(description="The final readings given so far, by meter number.")
    async def final_readings(self) -> list[FinalReadingType]:
        return [
            FinalReadingType(meter=MeterType.from_model(m), reading=ReadingType.from_model(r))
            for m, r in await moving.final_readings(self.row)
        ]


@strawberry.type(
    description="A manual meter whose reading period is open and that has no reading in it yet."
)
class DueMeter:
    meter: MeterType = strawberry.field(description="The meter.")
    starts_on: dt.date = strawberry.field(description="First day of the open reading period.")
    ends_on: dt.date = strawberry.field(description="Last day a reading is taken.")
    reminded_at: dt.datetime | None = strawberry.field(
        description="When the latest reminder mail for this period went out; null if none did."
    )


@strawberry.type(
    name="Customer",
    description="One customer number of the login and everything under it. All fields "
    "are this customer's only.",
)
class CustomerType(Node):
    id: strawberry.ID = strawberry.field(description="Opaque ID of the customer.")
    number: str = strawberry.field(description="Customer number (Kundennummer).")
    row: strawberry.Private[Customer]

    @classmethod
    def from_model(cls, row: Customer) -> CustomerType:
        return cls(id=encode_id("Customer", row.id), number=row.number, row=row)

    @strawberry.field(description="True for the customer number the session works on (R10).")
    def is_active(self, info: Info) -> bool:
        known = customer_context.known_active_customer(info.context)
        if known is None:
            return later(self._is_active(info))
        return known.value is not None and known.value.id == self.row.id

    async def _is_active(self, info: Info) -> bool:
        active = await customer_context.active_customer(info.context)
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
    async def budget_plan(self, info: Info) -> BudgetPlanType | None:
        return await money_types.budget_plan_of(info, self.row)

    @strawberry.field(description="How the customer pays, and a change not yet decided.")
    async def payment_details(self, info: Info) -> PaymentDetails:
        return await money_types.payment_details_of(info, self.row)

    @strawberry.field(description="Invoices, newest first.")
    def invoices(
        self, info: Info, first: First = DEFAULT_PAGE_SIZE, after: After = None
    ) -> Connection[InvoiceType]:
        page = page_request(INVOICES, first, after, info.context.locale)
        loader = invoice_pages(info.context)
        key = (self.row.id, page.first, page.after)
        known = peek(loader, key)
        if known is None:
            return later(self._invoices(loader.load(key), page))
        return Connection.of(known.value, page, InvoiceType.from_model)

    @staticmethod
    async def _invoices(
        loading: Awaitable[Slice[Invoice]], page: PageRequest
    ) -> Connection[InvoiceType]:
        return Connection.of(await loading, page, InvoiceType.from_model)

    @strawberry.field(
        description="One invoice of this customer by ID or number; NOT_FOUND error if it is "
        "not this customer's."
    )
    async def invoice(
        self,
        info: Info,
        ref: Annotated[InvoiceRef, strawberry.argument(description="The invoice.")],
    ) -> InvoiceType | None:
        row = await customer_context.find_invoice(self.row, ref.pk(), ref.given_number())
        if row is None:
            raise PublicError(CustomerErrorCode.NOT_FOUND, info.context.locale)
        return InvoiceType.from_model(row)

    @strawberry.field(description="The reported move-out, if any.")
    async def move_out(self, info: Info) -> MoveOutType | None:
        row = await moving.move_out_of(self.row)
        days = info.context.settings.final_reading_window_days
        return MoveOutType.from_model(row, days) if row else None

    @strawberry.field(
        description="Meters due for a reading: an open reading period and no reading in it "
        "yet; until when, and whether a reminder mail went out."
    )
    async def due_meters(self, info: Info) -> list[DueMeter]:
        return [
            DueMeter(
                meter=MeterType.from_model(due.meter),
                starts_on=due.period.starts_on,
                ends_on=due.period.ends_on,
                reminded_at=max(due.reminders.values()) if due.reminders else None,
            )
            for due in await moving.due_meters(info.context, self.row)
        ]

    @strawberry.field(
        description="Whether reading reminders are mailed for this customer number (they go "
        "out only with the consent to online communication, R11); setReadingReminders "
        "switches them."
    )
    async def reading_reminders(self) -> bool:
        return await moving.reminders_enabled(self.row)

    @strawberry.field(
        description="Why this customer number can be viewed but no longer changed (after the "
        "final invoice of a move-out), in the request's language; null while it can be."
    )
    async def read_only_reason(self, info: Info) -> str | None:
        closed = await customer_context.closed_problem(self.row)
        return closed.code.message(info.context.locale, **closed.params) if closed else None

    @strawberry.field(description="Meters, the main meter first.")
    def meters(self, info: Info) -> list[MeterType]:
        loader = meters_by_customer(info.context)
        known = peek(loader, self.row.id)
        if known is None:
            return later(self._meters(loader.load(self.row.id)))
        return [MeterType.from_model(m) for m in known.value]

    @staticmethod
    async def _meters(loading: Awaitable[list[Meter]]) -> list[MeterType]:
        return [MeterType.from_model(m) for m in await loading]

    @strawberry.field(
        description="One meter of this customer by ID or number; NOT_FOUND error if it is not "
        "this customer's."
    )
    async def meter(
        self,
        info: Info,
        ref: Annotated[MeterRef, strawberry.argument(description="The meter.")],
    ) -> MeterType | None:
        row = await customer_context.find_meter(
            info.context, self.row, ref.pk(), ref.given_number()
        )
        if row is None:
            raise PublicError(CustomerErrorCode.NOT_FOUND, info.context.locale)
        return MeterType.from_model(row)


@strawberry.type(
    description="One field of a base data change: the value now and the new one, typed by the "
    "field's kind. Exactly one pair is set: `oldBoolean`/`newBoolean` for ONLINE_CONSENT, "
    "`oldText`/`newText` for every other field (an empty text: no value, e.g. no phone)."
)
class FieldChange:
    field: BaseDataFieldEnum = strawberry.field(description="The field that changes.")
    old_text: str | None = strawberry.field(
        description="Text now; null when the field is a yes/no field (ONLINE_CONSENT)."
    )
    new_text: str | None = strawberry.field(
        description="Text after confirmation; null when the field is a yes/no field."
    )
    old_boolean: bool | None = strawberry.field(
        description="Yes/no now (ONLINE_CONSENT); null for text fields."
    )
    new_boolean: bool | None = strawberry.field(
        description="Yes/no after confirmation (ONLINE_CONSENT); null for text fields."
    )

    @classmethod
    def of(cls, name: Any, old: Any, new: Any) -> FieldChange:
        """From a stored change: text fields hold strings, the consent a boolean."""
        field = BaseDataFieldEnum(name)
        if field is BaseDataFieldEnum.ONLINE_CONSENT:
            return cls(field=field, old_text=None, new_text=None, old_boolean=old, new_boolean=new)
        return cls(field=field, old_text=old, new_text=new, old_boolean=None, new_boolean=None)


@strawberry.type(
    name="BaseDataChange",
    description="A requested change of base data that applies only when confirmed (R11).",
)
class BaseDataChangeType(Node):
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
                FieldChange.of(name, row.changes[name]["old"], row.changes[name]["new"])
                for name in order
                if name in row.changes
            ],
            expires_at=row.expires_at,
        )
