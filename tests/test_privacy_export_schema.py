"""The data export (`myDataExport`) has a published shape: docs/my-data-export.schema.json.
A real export of a customer with everything the portal can hold is checked against it, with
a small JSON Schema validator of our own (the subset the schema uses)."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from models import (
    BaseDataChange,
    ContactMessage,
    Customer,
    Login,
    Meter,
    MeterPhoto,
    MeterReading,
    ReadingSource,
    ReminderOptOut,
)
from tests.conftest import gql
from tests.factories import (
    NOW,
    make_budget_plan,
    make_direct_debit,
    make_reading,
    register_and_login,
    reported_move_out,
)
from tests.second_factor_flows import add_app
from tests.test_money_api import CHANGE_PAYMENT, REQUEST_CHANGE, _debit

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "docs" / "my-data-export.schema.json"
EXPORT = "{ myDataExport }"

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def _is(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, TYPES[kind])


def validate(
    value: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "$"
) -> list[str]:
    """What in `value` breaks `schema` (draft 2020-12: $ref to $defs, type, enum, const,
    properties, required, additionalProperties false, items, pattern, format date and
    date-time, minimum, oneOf); empty when it fits."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return validate(value, root["$defs"][name], root, path)
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(value, k) for k in kinds):
            return [f"{path}: {value!r} is not of type {kinds}"]
    if "oneOf" in schema:
        fitting = [b for b in schema["oneOf"] if not validate(value, b, root, path)]
        if len(fitting) != 1:
            return [f"{path}: {value!r} fits {len(fitting)} of the oneOf branches, not one"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {value!r} is not one of {schema['enum']}"]
    if "const" in schema and value != schema["const"]:
        return [f"{path}: {value!r} is not {schema['const']!r}"]
    found: list[str] = []
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{path}: {value!r} does not match {schema['pattern']}")
        form = {"date": DATE, "date-time": DATE_TIME}.get(schema.get("format", ""))
        if form is not None and not form.match(value):
            found.append(f"{path}: {value!r} is no {schema['format']}")
    if _is(value, "number") and "minimum" in schema and value < schema["minimum"]:
        found.append(f"{path}: {value!r} is below {schema['minimum']}")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                found.append(f"{path}: {name!r} is missing")
        for name, item in value.items():
            if name in properties:
                found += validate(item, properties[name], root, f"{path}.{name}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{path}: {name!r} is not in the schema")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += validate(item, schema["items"], root, f"{path}[{i}]")
    return found


def keys(value: Any) -> set[str]:
    """Every key of every object in `value`."""
    if isinstance(value, dict):
        return set(value) | {k for item in value.values() for k in keys(item)}
    if isinstance(value, list):
        return {k for item in value for k in keys(item)}
    return set()


async def _customer_with_everything(client, mailbox, settings) -> str:
    """A login through the API (sessions, audit events), with readings, a photo, invoices, a
    budget plan and a change request, bank details, an authenticator app, a base data change,
    a contact message, a move-out and reminders switched off."""
    token = await register_and_login(client, mailbox)
    login = await Login.get(email_key="erika@example.org")
    customer = await Customer.get(number="100001")
    meter = await Meter.get(customer_id=customer.id, is_main=True)
    await make_reading(meter, "980.5", dt.date(2024, 3, 1))
    reading = await MeterReading.create(
        meter=meter,
        value=Decimal("1001.250"),
        read_on=NOW.date(),
        source=ReadingSource.CUSTOMER,
        submitted_by_id=login.id,
    )
    await MeterPhoto.create(
        reading=reading,
        storage_key="meter-photos/export-test",
        content_type="image/jpeg",
        width=640,
        height=480,
        size_bytes=12345,
        sha256="a" * 64,
        uploaded_by_login_id=login.id,
        created_at=NOW,
    )
    await make_budget_plan(customer)
    await gql(client, REQUEST_CHANGE, {"input": {"amount": "60"}}, token=token)
    changed = await gql(client, CHANGE_PAYMENT, {"input": _debit()}, token=token)
    assert changed.data["changePaymentDetails"]["errors"] == [], changed.data
    await add_app(client, token)
    await BaseDataChange.create(
        customer=customer,
        login=login,
        changes={
            "postal_code": {"old": "12345", "new": "54321"},
            "online_consent": {"old": False, "new": True},
        },
        created_at=NOW,
        expires_at=NOW + dt.timedelta(minutes=30),
    )
    await ContactMessage.create(
        department="billing",
        name="Erika Mustermann",
        customer_number=customer.number,
        email=login.email,
        subject="Abschlag",
        text="Bitte prüfen.",
    )
    await reported_move_out(customer, NOW.date() + dt.timedelta(days=20))
    await ReminderOptOut.create(customer=customer, login_id=login.id, created_at=NOW)
    await make_direct_debit(
        customer, settings, mandate_reference="KP-100001-1", mandate_signed_on=dt.date(2024, 5, 1)
    )
    return token


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
    return schema


async def test_a_full_export_fits_the_published_schema(clock, client, mailbox, settings):
    # given a customer with everything the portal holds
    token = await _customer_with_everything(client, mailbox, settings)

    # when the export is downloaded
    result = await gql(client, EXPORT, token=token)

    # then it fits the schema in docs/, every part filled
    assert result.errors is None
    export = result.data["myDataExport"]
    assert validate(export, _schema(), _schema()) == []
    customer = export["customers"][0]
    readings = [r for m in customer["meters"] for r in m["readings"]]
    assert any(r["photo"] for r in readings)
    money = export["money"]
    filled = [
        customer["moveOut"],
        customer["invoices"],
        money["budgetPlans"],
        money["budgetChangeRequests"],
        money["paymentDetails"],
        money["paymentDetailsChanges"],
        export["secondFactor"]["authenticatorApp"],
        export["baseDataChangeRequests"],
        export["contactMessages"],
    ]
    assert all(filled)


async def test_every_key_is_camel_case_and_every_code_upper_snake(clock, client, mailbox, settings):
    token = await _customer_with_everything(client, mailbox, settings)

    export = (await gql(client, EXPORT, token=token)).data["myDataExport"]

    assert {k for k in keys(export) if not CAMEL.match(k)} == set()
    assert export["login"]["preferredLanguage"] == "DE"
    assert export["money"]["paymentDetails"][0]["method"] == "DIRECT_DEBIT"
    assert export["baseDataChangeRequests"][0]["changes"] == [
        {"field": "POSTAL_CODE", "old": "12345", "new": "54321"},
        {"field": "ONLINE_CONSENT", "old": False, "new": True},
    ]
    actions = {e["action"] for e in export["securityEvents"]}
    assert {"REGISTER", "LOGIN", "BANK_DETAILS_CHANGE"} <= actions


def test_the_validator_reports_what_does_not_fit():
    schema = _schema()
    wrong = {"exportedAt": "yesterday", "login": {"email": "a@b", "state": "active"}}
    found = "\n".join(validate(wrong, schema, schema))
    assert "$.exportedAt: 'yesterday' is no date-time" in found
    assert "$.login.state: 'active' is not one of" in found
    assert "$: 'sessions' is missing" in found
    assert "$.login: 'preferredLanguage' is missing" in found
