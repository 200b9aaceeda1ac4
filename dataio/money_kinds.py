"""Kinds of file about money the billing system delivers: plans, and its decisions.

`budget-plans` upserts each customer's installment plan; `budget-decisions` and
`bank-details-results` answer the requests the portal exported. They follow the
import's conventions (all or nothing, idempotent, `FILE:LINE: reason`): a
decision that is already recorded is unchanged, a row that contradicts an
earlier decision, or names a request the portal does not know, stops the file.
A decision that is new mails the customer's login, in the import's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from tortoise.backends.base.client import BaseDBAsyncClient

import clock
from dataio.bulk import Bulk, Upsert
from dataio.csvformat import Problem, parse_choice, parse_date, parse_decimal
from dataio.import_kinds import Fields, Kind, customer_ids, unknown_customers
from mailers.outbox import queue_mail
from models import (
    BankAccount,
    BankDetailsChange,
    BudgetChangeRequest,
    LoginCustomer,
    Rhythm,
)
from models.money_rules import euros
from settings import Settings

RHYTHMS = {
    "monatlich": Rhythm.MONTHLY,
    "monthly": Rhythm.MONTHLY,
    "zweimonatlich": Rhythm.BIMONTHLY,
    "bimonthly": Rhythm.BIMONTHLY,
    "vierteljaehrlich": Rhythm.QUARTERLY,
    "vierteljährlich": Rhythm.QUARTERLY,
    "quarterly": Rhythm.QUARTERLY,
}
MAX_CENTS = 2**31 - 1  # INT columns


class Decision(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"


DECISIONS = {
    "angenommen": Decision.ACCEPTED,
    "accepted": Decision.ACCEPTED,
    "abgelehnt": Decision.REFUSED,
    "refused": Decision.REFUSED,
}


def _cents(f: Fields, column: str, *, required: bool = True) -> int | None:
    amount = f.parsed(column, parse_decimal, 2, required=required)
    if amount is None:
        return None
    cents = int(amount * 100)
    f.check(0 <= cents <= MAX_CENTS, f"{column} {f.values[column]} is out of range")
    return cents


@dataclass(slots=True)
class PlanRow:
    line: int
    customer_number: str
    amount_cents: int | None
    rhythm: Rhythm | None
    first_due_on: dt.date | None
    calculated_cents: int | None
    minimum_cents: int | None
    maximum_cents: int | None
    consumption_m3: Decimal | None
    price_per_m3: Decimal | None
    customer_id: int = 0


class BudgetPlans(Kind):
    """Abschlagspläne: one row per customer, the plan the last annual bill set."""

    name = "budget-plans"
    required = (
        "kundennummer",
        "abschlag",
        "rhythmus",
        "erste_faelligkeit",
        "berechneter_abschlag",
        "minimum",
        "maximum",
    )
    optional = ("verbrauch_vorjahr", "preis_je_m3")

    def parse(self, f: Fields, line: int) -> PlanRow:
        minimum, maximum = _cents(f, "minimum"), _cents(f, "maximum")
        if minimum is not None and maximum is not None:
            f.check(minimum <= maximum, "minimum is greater than maximum")
        consumption = f.parsed("verbrauch_vorjahr", parse_decimal, 3, required=False)
        price = f.parsed("preis_je_m3", parse_decimal, 4, required=False)
        f.check(
            (consumption is None) == (price is None),
            "give verbrauch_vorjahr and preis_je_m3 together (the projection needs both)",
        )
        return PlanRow(
            line,
            customer_number=f.key("kundennummer", max_length=20),
            amount_cents=_cents(f, "abschlag"),
            rhythm=f.parsed("rhythmus", parse_choice, RHYTHMS),
            first_due_on=f.parsed("erste_faelligkeit", parse_date),
            calculated_cents=_cents(f, "berechneter_abschlag"),
            minimum_cents=minimum,
            maximum_cents=maximum,
            consumption_m3=consumption,
            price_per_m3=price,
        )

    def key(self, record: PlanRow) -> str:
        return record.customer_number

    def describe(self, key: str) -> str:
        return f"the plan of customer number {key}"

    async def check(self, records: list[PlanRow], bulk: Bulk, today: dt.date) -> list[Problem]:
        ids = await customer_ids(bulk, (r.customer_number for r in records))
        return unknown_customers(records, ids)

    async def existing(self, records: list[PlanRow], bulk: Bulk) -> int:
        rows = await bulk.select_in(
            'SELECT "customer_id" FROM "budget_plan" WHERE "customer_id" {keys}',
            [r.customer_id for r in records],
        )
        return len(rows)

    async def write(
        self, records: list[PlanRow], bulk: Bulk, columns: set[str], advance: Callable[[int], None]
    ) -> int:
        upsert = Upsert(
            table="budget_plan",
            columns=(
                ("customer_id", "int"),
                ("amount_cents", "int"),
                ("rhythm", "varchar"),
                ("first_due_on", "date"),
                ("calculated_cents", "int"),
                ("minimum_cents", "int"),
                ("maximum_cents", "int"),
                ("consumption_m3", "numeric"),
                ("price_per_m3", "numeric"),
            ),
            conflict=("customer_id",),
            update=(
                "amount_cents",
                "rhythm",
                "first_due_on",
                "calculated_cents",
                "minimum_cents",
                "maximum_cents",
                "consumption_m3",
                "price_per_m3",
            ),
            constants=(("updated_at", "timestamptz"),),
            touch=("updated_at",),
        )
        postgres = bulk.postgres

        def number(value: Decimal | None) -> Any:
            return value if value is None or postgres else str(value)

        rows = [
            (
                r.customer_id,
                r.amount_cents,
                str(r.rhythm),
                r.first_due_on,
                r.calculated_cents,
                r.minimum_cents,
                r.maximum_cents,
                number(r.consumption_m3),
                number(r.price_per_m3),
            )
            for r in records
        ]
        return await bulk.upsert(
            upsert,
            rows,
            [r.line for r in records],
            (clock.now(),),
            advance=advance,
        )


@dataclass(slots=True)
class DecisionRow:
    line: int
    request_id: int | None
    decision: Decision | None
    reason: str
    customer_id: int = 0
    changed: bool = False


def _request_id(f: Fields, column: str) -> int | None:
    value = f.text(column, max_length=12, required=True)
    if value and not value.isdigit():
        f.check(False, f"{column} '{value}' is not a number")
        return None
    return int(value) if value else None


class Decisions(Kind):
    """The billing system's answer to requests the portal exported: accepted or refused."""

    table: str
    id_column: str
    what: str
    mail_kind: str
    open_statuses: tuple[str, ...]
    required: ClassVar[tuple[str, ...]] = ("entscheidung",)
    optional = ("grund",)

    def parse(self, f: Fields, line: int) -> DecisionRow:
        decision = f.parsed("entscheidung", parse_choice, DECISIONS)
        reason = f.text("grund", max_length=500)
        f.check(
            decision != Decision.REFUSED or bool(reason),
            "grund is empty: a refusal needs its reason (the customer is told)",
        )
        return DecisionRow(line, _request_id(f, self.id_column), decision, reason)

    def key(self, record: DecisionRow) -> Hashable:
        return record.request_id

    def describe(self, key: int) -> str:
        return f"{self.what} {key}"

    async def check(self, records: list[DecisionRow], bulk: Bulk, today: dt.date) -> list[Problem]:
        sql = f'SELECT "id", "customer_id", "status" FROM "{self.table}" WHERE "id" {{keys}}'  # noqa: S608
        known = {r["id"]: r for r in await bulk.select_in(sql, [r.request_id for r in records])}
        problems = []
        for record in records:
            row = known.get(record.request_id)
            if row is None:
                problems.append(Problem(record.line, f"{self.what} {record.request_id} is unknown"))
                continue
            record.customer_id = row["customer_id"]
            status = row["status"]
            if status in self.open_statuses:
                record.changed = True
            elif status != record.decision:
                problems.append(
                    Problem(
                        record.line,
                        f"{self.what} {record.request_id} is {status} already; "
                        f"it cannot become {record.decision}",
                    )
                )
        return problems

    async def existing(self, records: list[DecisionRow], bulk: Bulk) -> int:
        return len(records)

    async def write(
        self,
        records: list[DecisionRow],
        bulk: Bulk,
        columns: set[str],
        advance: Callable[[int], None],
    ) -> int:
        now = clock.now()
        marks = [f"${i}" for i in range(1, 5)] if bulk.postgres else ["?"] * 4
        statuses = ", ".join(f"'{s}'" for s in self.open_statuses)
        sql = (
            f'UPDATE "{self.table}" SET "status" = {marks[0]}, "reason" = {marks[1]}, '  # noqa: S608
            f'"closed_at" = {marks[2]} WHERE "id" = {marks[3]} AND "status" IN ({statuses})'
        )
        written = 0
        for record in records:
            if record.changed:
                await bulk.connection.execute_query(
                    sql, [str(record.decision), record.reason, now, record.request_id]
                )
                await self.apply(record, bulk.connection)
                written += 1
            advance(1)
        return written

    async def apply(self, record: DecisionRow, connection: BaseDBAsyncClient) -> None:
        """What an accepted decision changes beyond the request itself."""

    async def notify(
        self, records: Sequence[DecisionRow], connection: BaseDBAsyncClient, settings: Settings
    ) -> None:
        """Mail each decision that is new to the login holding the customer, if any."""
        for record in records:
            if not record.changed:
                continue
            link = (
                await LoginCustomer.filter(customer_id=record.customer_id)
                .using_db(connection)
                .select_related("login", "customer")
                .first()
            )
            if link is None:
                continue
            data: dict[str, Any] = {}
            if self.table == "budget_change_request":
                request = (
                    await BudgetChangeRequest.filter(id=record.request_id)
                    .using_db(connection)
                    .get()
                )
                data = {
                    "amount": euros(request.amount_cents),
                    "effective_on": request.effective_on.strftime("%d.%m.%Y"),
                }
            await queue_mail(
                self.mail_kind,
                to=link.login.email,
                locale=link.login.locale,
                settings=settings,
                using_db=connection,
                name=link.customer.name,
                customer_number=link.customer.number,
                accepted=record.decision == Decision.ACCEPTED,
                reason=record.reason,
                **data,
            )


class BudgetDecisions(Decisions):
    name = "budget-decisions"
    table = "budget_change_request"
    id_column = "anfrage_id"
    what = "budget request"
    mail_kind = "budget_request_decided"
    open_statuses = ("pending",)
    required = ("anfrage_id", "entscheidung")


class BankDetailsResults(Decisions):
    """An accepted change becomes the customer's bank account as the portal shows it."""

    name = "bank-details-results"
    table = "bank_details_change"
    id_column = "aenderung_id"
    what = "bank details change"
    mail_kind = "bank_details_decided"
    open_statuses = ("exported",)
    required = ("aenderung_id", "entscheidung")

    async def apply(self, record: DecisionRow, connection: BaseDBAsyncClient) -> None:
        if record.decision != Decision.ACCEPTED:
            return
        change = await BankDetailsChange.filter(id=record.request_id).using_db(connection).get()
        values = {
            "method": change.method,
            "iban_encrypted": change.iban_encrypted,
            "iban_masked": change.iban_masked,
            "holder": change.holder,
            "bic": change.bic,
            "bank_name": change.bank_name,
            "mandate_reference": change.mandate_reference,
            "mandate_signed_on": change.mandate_accepted_at.date()
            if change.mandate_accepted_at
            else None,
        }
        await BankAccount.update_or_create(
            defaults=values, customer_id=change.customer_id, using_db=connection
        )


MONEY_KINDS: dict[str, Kind] = {
    kind.name: kind for kind in (BudgetPlans(), BudgetDecisions(), BankDetailsResults())
}
