"""Customer context (R10): a login's customer numbers, the active one, and what a
customer's view shows: base data, consent, invoices, meters and readings.
Another login's customer, meter or invoice is never found, by number or by ID."""

from __future__ import annotations

import datetime as dt

import pytest

from models import InvoiceKind, MeterKind, ReadingSource
from schema.ids import encode_id
from tests.conftest import gql
from tests.factories import (
    TODAY,
    logged_in,
    make_customer,
    make_household,
    make_invoice,
    make_login,
    make_meter,
    make_period,
    make_reading,
    session_token,
)

CUSTOMERS = """
query { customers { number isActive baseData { name street postalCode city phone email } } }
"""
CUSTOMER = """
query Customer($number: String) {
  customer(number: $number) {
    id number isActive
    baseData { name }
    onlineConsent { given changedAt wordingVersion }
  }
}
"""
SWITCH = """
mutation Switch($number: String!) {
  switchCustomer(input: { customerNumber: $number }) {
    customer { number isActive } errors { code field message }
  }
}
"""
INVOICES = """
query Invoices($limit: Int!, $offset: Int!) {
  customer {
    invoices(limit: $limit, offset: $offset) {
      items { id number date kind amountCents } totalCount hasNextPage limit offset
    }
  }
}
"""
INVOICE = """
query Invoice($id: ID, $number: String) {
  customer { number invoice(id: $id, number: $number) { number amountCents } }
}
"""
METER = """
query Meter($id: ID, $number: String) {
  customer { number meter(id: $id, number: $number) { number lastReading { value } } }
}
"""
METERS = """
query Meters {
  customer {
    meters {
      number isMain kind
      readingWindow { state startsOn endsOn keyDate acceptsReadings }
      lastReading { value readOn source }
      yearlyConsumption { year consumption }
    }
  }
}
"""
READINGS = """
query Readings($limit: Int!, $offset: Int!) {
  customer {
    meters {
      number
      readings(limit: $limit, offset: $offset) {
        items { value readOn source corrected } totalCount hasNextPage
      }
    }
  }
}
"""


def error_code(result) -> str:
    assert result.errors, result.data
    return result.errors[0]["extensions"]["code"]


async def test_customers_lists_the_logins_numbers_first_added_active(clock, client, settings):
    # given a login with two customer numbers, and another login's customer
    first = await make_customer("100001", name="Erika Mustermann")
    second = await make_customer("100002", name="Max Mustermann")
    await make_login(await make_customer("999999", name="Someone Else"))
    _, token = await logged_in(settings, first, second)

    # when
    result = await gql(client, CUSTOMERS, token=token)

    # then only the login's own numbers show, the first added is active
    assert result.errors is None
    assert [(c["number"], c["isActive"]) for c in result.data["customers"]] == [
        ("100001", True),
        ("100002", False),
    ]
    assert result.data["customers"][0]["baseData"] == {
        "name": "Erika Mustermann",
        "street": "Hauptstraße 1",
        "postalCode": "12345",
        "city": "Musterstadt",
        "phone": "+49 30 1234567",
        "email": "erika.post@example.org",
    }
    assert "Someone Else" not in result.response.text


async def test_switch_customer_changes_the_active_customer_of_this_session_only(
    clock, client, settings
):
    # given a login with two customer numbers and two sessions
    first = await make_customer("100001")
    second = await make_customer("100002", name="Max Mustermann")
    login, token = await logged_in(settings, first, second)
    other_session = await session_token(login, settings)

    # when one session switches to the second number
    switched = await gql(client, SWITCH, {"number": "100002"}, token=token)

    # then that session works on it, the other session still on the first
    assert switched.data["switchCustomer"] == {
        "customer": {"number": "100002", "isActive": True},
        "errors": [],
    }
    shown = await gql(client, CUSTOMER, token=token)
    assert shown.data["customer"]["number"] == "100002"
    assert shown.data["customer"]["baseData"]["name"] == "Max Mustermann"
    assert (await gql(client, CUSTOMER, token=other_session)).data["customer"]["number"] == "100001"


async def test_switch_to_another_logins_customer_number_is_not_found(clock, client, settings):
    # given
    await make_login(await make_customer("999999"))
    _, token = await logged_in(settings, await make_customer("100001"))

    # when
    result = await gql(client, SWITCH, {"number": "999999"}, token=token)

    # then
    payload = result.data["switchCustomer"]
    assert payload["customer"] is None
    assert payload["errors"] == [
        {"code": "NOT_FOUND", "field": ["input", "customerNumber"], "message": "Nicht gefunden."}
    ]
    assert (await gql(client, CUSTOMER, token=token)).data["customer"]["number"] == "100001"


async def test_customer_by_number_of_another_login_yields_an_error_and_no_data(
    clock, client, settings
):
    # given a customer of another login
    await make_login(await make_customer("999999", name="Someone Else"))
    _, token = await logged_in(settings, await make_customer("100001"))

    # when
    result = await gql(client, CUSTOMER, {"number": "999999"}, token=token)

    # then
    assert result.data == {"customer": None}
    assert error_code(result) == "NOT_FOUND"
    assert "Someone Else" not in result.response.text


async def test_customer_by_own_number_shows_that_customer_without_switching(
    clock, client, settings
):
    # given
    _, token = await logged_in(
        settings, await make_customer("100001"), await make_customer("100002", name="Max")
    )

    # when
    result = await gql(client, CUSTOMER, {"number": "100002"}, token=token)

    # then it is shown, but the session still works on the first number
    assert result.data["customer"]["baseData"]["name"] == "Max"
    assert result.data["customer"]["isActive"] is False
    assert (await gql(client, CUSTOMER, token=token)).data["customer"]["number"] == "100001"


@pytest.mark.parametrize("document", [CUSTOMERS, CUSTOMER])
async def test_anonymous_caller_gets_unauthenticated(client, document):
    result = await gql(client, document)
    assert result.data is None or not any(result.data.values())
    assert error_code(result) == "UNAUTHENTICATED"


async def test_invoices_are_paginated_newest_first_with_totals(clock, client, settings):
    # given five invoices of the customer
    customer = await make_customer("100001")
    for year in (2020, 2021, 2022, 2023, 2024):
        await make_invoice(customer, f"R-{year}", date=dt.date(year, 1, 20))
    await make_invoice(customer, "A-2024-7", date=dt.date(2024, 6, 1), kind=InvoiceKind.OTHER)
    _, token = await logged_in(settings, customer)

    # when the first two pages of two are asked for, and the last
    first = await gql(client, INVOICES, {"limit": 2, "offset": 0}, token=token)
    last = await gql(client, INVOICES, {"limit": 2, "offset": 4}, token=token)

    # then
    page = first.data["customer"]["invoices"]
    assert [i["number"] for i in page["items"]] == ["A-2024-7", "R-2024"]
    assert page["items"][0]["kind"] == "OTHER"
    assert (page["totalCount"], page["hasNextPage"], page["limit"], page["offset"]) == (
        6,
        True,
        2,
        0,
    )
    page = last.data["customer"]["invoices"]
    assert [i["number"] for i in page["items"]] == ["R-2021", "R-2020"]
    assert page["hasNextPage"] is False


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (101, 0), (10, -1)])
async def test_a_page_out_of_bounds_is_refused(clock, client, settings, limit, offset):
    _, token = await logged_in(settings, await make_customer())
    result = await gql(client, INVOICES, {"limit": limit, "offset": offset}, token=token)
    assert error_code(result) == "INVALID_PAGE"
    assert result.data["customer"] is None


async def _someone_elses_invoice_and_meter():
    stranger = await make_customer("999999")
    invoice = await make_invoice(stranger, "R-SECRET", amount_cents=99999)
    meter = await make_meter(stranger, "Z-SECRET", main=True)
    await make_reading(meter, "4711.000", dt.date(2024, 12, 1))
    await make_login(stranger)
    return invoice, meter


@pytest.mark.parametrize("by", ["id", "number"])
async def test_another_logins_invoice_yields_an_error_and_no_data(clock, client, settings, by):
    # given
    invoice, _ = await _someone_elses_invoice_and_meter()
    mine = await make_customer("100001")
    await make_invoice(mine, "R-MINE")
    _, token = await logged_in(settings, mine)
    variables = {"id": encode_id("Invoice", invoice.id)} if by == "id" else {"number": "R-SECRET"}

    # when
    result = await gql(client, INVOICE, variables, token=token)

    # then
    assert result.data == {"customer": {"number": "100001", "invoice": None}}
    assert error_code(result) == "NOT_FOUND"
    assert "99999" not in result.response.text


@pytest.mark.parametrize("by", ["id", "number"])
async def test_another_logins_meter_yields_an_error_and_no_data(clock, client, settings, by):
    # given
    _, meter = await _someone_elses_invoice_and_meter()
    _, token = await logged_in(settings, await make_customer("100001"))
    variables = {"id": encode_id("Meter", meter.id)} if by == "id" else {"number": "Z-SECRET"}

    # when
    result = await gql(client, METER, variables, token=token)

    # then
    assert result.data == {"customer": {"number": "100001", "meter": None}}
    assert error_code(result) == "NOT_FOUND"
    assert "4711" not in result.response.text


async def test_an_id_of_another_type_does_not_find_a_meter(clock, client, settings):
    # given an invoice whose primary key equals the meter's
    customer = await make_customer("100001")
    meter = await make_meter(customer, "Z-1", main=True)
    _, token = await logged_in(settings, customer)

    # when the meter is asked for with an invoice ID carrying the meter's key
    result = await gql(client, METER, {"id": encode_id("Invoice", meter.id)}, token=token)

    # then
    assert error_code(result) == "NOT_FOUND"


async def test_own_invoice_and_meter_are_found_by_id_and_number(clock, client, settings):
    customer = await make_customer("100001")
    invoice = await make_invoice(customer, "R-1", amount_cents=12345)
    meter = await make_meter(customer, "Z-1", main=True)
    await make_reading(meter, "10.5", dt.date(2024, 12, 1))
    _, token = await logged_in(settings, customer)

    by_id = await gql(client, INVOICE, {"id": encode_id("Invoice", invoice.id)}, token=token)
    by_number = await gql(client, METER, {"number": "Z-1"}, token=token)

    assert by_id.data["customer"]["invoice"] == {"number": "R-1", "amountCents": 12345}
    assert by_number.data["customer"]["meter"] == {
        "number": "Z-1",
        "lastReading": {"value": "10.500"},
    }


async def test_meters_tell_when_a_reading_can_be_submitted(clock, client, settings):
    # given meters in each state
    customer = await make_customer("100001")
    open_ = await make_meter(customer, "A-OPEN", main=True)
    await make_period(dt.date(2025, 3, 1), dt.date(2025, 3, 31), meter=open_)
    upcoming = await make_meter(customer, "B-NEXT")
    await make_period(dt.date(2024, 3, 1), dt.date(2024, 3, 31), meter=upcoming)
    await make_period(dt.date(2025, 9, 1), dt.date(2025, 9, 30), meter=upcoming)
    await make_meter(customer, "C-GROUP", group="NORD")
    await make_period(dt.date(2025, 3, 5), dt.date(2025, 3, 15), group="NORD")
    await make_meter(customer, "D-NONE")
    radio = await make_meter(customer, "E-RADIO", kind=MeterKind.RADIO)
    await make_period(
        dt.date(2025, 3, 20), dt.date(2025, 3, 31), meter=radio, key_date=dt.date(2025, 3, 31)
    )
    await make_meter(
        customer, "F-GONE", installed_on=dt.date(2015, 1, 1), removed_on=dt.date(2025, 1, 1)
    )
    _, token = await logged_in(settings, customer)

    # when
    result = await gql(client, METERS, token=token)

    # then
    windows = {m["number"]: m["readingWindow"] for m in result.data["customer"]["meters"]}
    assert windows["A-OPEN"] == {
        "state": "OPEN",
        "startsOn": "2025-03-01",
        "endsOn": "2025-03-31",
        "keyDate": "2025-03-31",
        "acceptsReadings": True,
    }
    assert windows["B-NEXT"]["state"] == "UPCOMING"
    assert (windows["B-NEXT"]["startsOn"], windows["B-NEXT"]["endsOn"]) == (
        "2025-09-01",
        "2025-09-30",
    )
    assert windows["C-GROUP"]["state"] == "OPEN"
    assert windows["C-GROUP"]["endsOn"] == "2025-03-15"
    assert windows["D-NONE"] == {
        "state": "NONE",
        "startsOn": None,
        "endsOn": None,
        "keyDate": None,
        "acceptsReadings": False,
    }
    assert windows["E-RADIO"]["state"] == "RADIO"
    assert windows["E-RADIO"]["keyDate"] == "2025-03-31"
    assert windows["E-RADIO"]["acceptsReadings"] is False
    assert windows["F-GONE"]["state"] == "REMOVED"
    assert next(m["number"] for m in result.data["customer"]["meters"]) == "A-OPEN"  # main first


async def test_meter_shows_last_reading_and_yearly_consumption(clock, client, settings):
    # given the demo household: readings of 812, 905.5 and 1001.25 m³ in three Decembers
    household = await make_household(TODAY, "100001")
    _, token = await logged_in(settings, household.customer)

    # when
    result = await gql(client, METERS, token=token)

    # then
    main = next(m for m in result.data["customer"]["meters"] if m["isMain"])
    assert main["lastReading"] == {"value": "1001.250", "readOn": "2024-12-15", "source": "STAFF"}
    assert main["yearlyConsumption"] == [
        {"year": 2023, "consumption": "93.500"},
        {"year": 2024, "consumption": "95.750"},
    ]


async def test_reading_history_is_paginated_newest_first(clock, client, settings):
    customer = await make_customer("100001")
    meter = await make_meter(customer, "Z-1", main=True)
    for year in range(2015, 2025):
        await make_reading(meter, str(100 * (year - 2014)), dt.date(year, 12, 1))
    await make_reading(meter, "1001", dt.date(2025, 1, 5), source=ReadingSource.ESTIMATE)
    _, token = await logged_in(settings, customer)

    result = await gql(client, READINGS, {"limit": 3, "offset": 0}, token=token)

    page = result.data["customer"]["meters"][0]["readings"]
    assert page["totalCount"] == 11
    assert page["hasNextPage"] is True
    assert [r["readOn"] for r in page["items"]] == ["2025-01-05", "2024-12-01", "2023-12-01"]
    assert page["items"][0]["source"] == "ESTIMATE"


async def test_errors_are_english_on_request(clock, client, settings):
    _, token = await logged_in(settings, await make_customer("100001"))
    result = await gql(
        client, SWITCH, {"number": "nope"}, token=token, headers={"Accept-Language": "en"}
    )
    assert result.data["switchCustomer"]["errors"][0]["message"] == "Not found."


@pytest.mark.parametrize("garbage", ["", "not base64 !", "TWV0ZXI6eA", "TWV0ZXI6LTE", "A" * 200])
async def test_malformed_ids_find_nothing(clock, client, settings, garbage):
    # given (TWV0ZXI6eA is "Meter:x", TWV0ZXI6LTE is "Meter:-1")
    customer = await make_customer("100001")
    await make_meter(customer, "Z-1", main=True)
    _, token = await logged_in(settings, customer)

    # when
    result = await gql(client, METER, {"id": garbage}, token=token)

    # then
    assert error_code(result) == "NOT_FOUND"
    assert result.data["customer"]["meter"] is None
