"""GDPR right of access and portability (R18): everything held about a login, as JSON."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Any

import clock
from models import (
    AuditEvent,
    BaseDataChange,
    ContactMessage,
    Customer,
    Invoice,
    Login,
    LoginCustomer,
    Meter,
    MeterPhoto,
    MeterReading,
    MoveOut,
    ReadingPeriod,
    ReminderOptOut,
    Session,
)
from resolvers.money import money_data_export
from resolvers.second_factor.manage import export_second_factor


def camel(name: str) -> str:
    """A column name as the export's key: camelCase, as everywhere in the API."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def upper_snake(value: str) -> str:
    """A stored code (`direct_debit`, `bank_details.change`) as the API writes enum values."""
    return value.upper().replace(".", "_")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.name
    return value


def _row(model: Any, fields: list[str], codes: tuple[str, ...] = ()) -> dict[str, Any]:
    """The `fields` of `model` under camelCase keys; enum members by name, and the plain
    strings in `codes` (stored codes that are no enum column) in the same UPPER_SNAKE form."""
    row = {camel(name): _plain(getattr(model, name)) for name in fields}
    for name in codes:
        value = getattr(model, name)
        row[camel(name)] = upper_snake(value) if isinstance(value, str) else value
    return row


def _changes(changes: dict[str, Any]) -> list[dict[str, Any]]:
    """A base data change's fields, as `BaseDataChange.changes` answers them: the field as
    the `BaseDataField` enum value, the values typed (text, or true/false for the consent)."""
    return [
        {"field": upper_snake(name), "old": diff["old"], "new": diff["new"]}
        for name, diff in changes.items()
    ]


def _photo(photo: MeterPhoto | None) -> dict[str, Any] | None:
    """A meter photo, listed: what it is and its checksum (the image stays in the storage)."""
    if photo is None:
        return None
    fields = ["content_type", "width", "height", "size_bytes", "sha256", "created_at"]
    return _row(photo, fields)


def _move_out(move_out: MoveOut | None) -> dict[str, Any] | None:
    if move_out is None:
        return None
    fields = [
        "move_out_on",
        "forwarding_name",
        "forwarding_street",
        "forwarding_postal_code",
        "forwarding_city",
        "forwarding_country",
        "reported_at",
        "final_invoice_number",
        "final_invoiced_on",
    ]
    return _row(move_out, fields)


async def export_login_data(login: Login) -> dict[str, Any]:
    """Everything stored about `login` and the customers it holds; no secret or hash."""
    links = await LoginCustomer.filter(login_id=login.id).order_by("id")
    customer_ids = [link.customer_id for link in links]
    customers = await Customer.filter(id__in=customer_ids).order_by("number")
    meters = await Meter.filter(customer_id__in=customer_ids).order_by("number")
    meter_ids = [m.id for m in meters]
    invoices = await Invoice.filter(customer_id__in=customer_ids).order_by("-date")
    readings = await MeterReading.filter(meter_id__in=meter_ids).order_by("read_on", "id")
    periods = await ReadingPeriod.filter(meter_id__in=meter_ids).order_by("starts_on")
    photos = {
        p.reading_id: p for p in await MeterPhoto.filter(reading_id__in=[r.id for r in readings])
    }
    move_outs = {m.customer_id: m for m in await MoveOut.filter(customer_id__in=customer_ids)}
    opted_out = set(
        await ReminderOptOut.filter(customer_id__in=customer_ids).values_list(
            "customer_id", flat=True
        )
    )
    sessions = await Session.filter(login_id=login.id).order_by("created_at")
    changes = await BaseDataChange.filter(login_id=login.id).order_by("created_at")
    messages = await ContactMessage.filter(email__iexact=login.email).order_by("created_at")
    audit = await AuditEvent.filter(login_id=login.id).order_by("at")
    meter_numbers = {m.id: m.number for m in meters}
    customer_numbers = {c.id: c.number for c in customers}
    return {
        "exportedAt": clock.now().isoformat(),
        "login": _row(
            login,
            [
                "email",
                "state",
                "preferred_language",
                "created_at",
                "confirmed_at",
                "password_changed_at",
                "last_login_at",
            ],
        ),
        "sessions": [
            _row(s, ["created_at", "last_used_at", "expires_at", "client", "client_address"])
            for s in sessions
        ],
        "secondFactor": await export_second_factor(login.id),
        "customers": [
            {
                **_row(
                    c,
                    [
                        "number",
                        "name",
                        "street",
                        "postal_code",
                        "city",
                        "phone",
                        "email",
                        "online_consent",
                        "online_consent_at",
                        "online_consent_version",
                    ],
                ),
                "readingReminders": c.id not in opted_out,
                "moveOut": _move_out(move_outs.get(c.id)),
                "invoices": [
                    _row(i, ["number", "date", "kind", "amount_cents"])
                    for i in invoices
                    if i.customer_id == c.id
                ],
                "meters": [
                    {
                        **_row(
                            m, ["number", "is_main", "kind", "unit", "installed_on", "removed_on"]
                        ),
                        "readingPeriods": [
                            _row(p, ["starts_on", "ends_on", "key_date"])
                            for p in periods
                            if p.meter_id == m.id
                        ],
                        "readings": [
                            {
                                **_row(r, ["value", "read_on", "source", "created_at"]),
                                "submittedByYou": r.submitted_by_id == login.id,
                                "corrected": r.replaced_by_id is not None,
                                "photo": _photo(photos.get(r.id)),
                            }
                            for r in readings
                            if r.meter_id == m.id
                        ],
                    }
                    for m in meters
                    if m.customer_id == c.id
                ],
            }
            for c in customers
        ],
        "baseDataChangeRequests": [
            {
                "customerNumber": customer_numbers.get(ch.customer_id),
                "changes": _changes(ch.changes),
                **_row(ch, ["created_at", "expires_at", "confirmed_at"]),
            }
            for ch in changes
        ],
        "contactMessages": [
            _row(
                m,
                ["name", "customer_number", "subject", "text", "status", "created_at"],
                codes=("department",),
            )
            for m in messages
        ],
        "securityEvents": [
            _row(e, ["at", "client_address"], codes=("action", "outcome")) for e in audit
        ],
        "meterNumbers": sorted(meter_numbers.values()),
        "money": await money_data_export(login, customer_ids),
    }
