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
query Customer($ref: CustomerRef) {
  customer(ref: $ref) {
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
query Invoices($first: Int!, $after: String) {
  customer {
    invoices(first: $first, after: $after) {
      edges { cursor node { id number date kind amountCents } }
      pageInfo { hasNextPage endCursor }
      totalCount
    }
  }
}
"""
INVOICE = """
query Invoice($ref: InvoiceRef!) {
  customer { number invoice(ref: $ref) { number amountCents } }
}
"""
METER = """
query Meter($ref: MeterRef!) {
  customer { number meter(ref: $ref) { number lastReading { value } } }
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
query Readings($first: Int!, $after: String) {
  customer {
    meters {
      number
      readings(first: $first, after: $after) {
        edges { node { value readOn source corrected } }
        pageInfo { hasNextPage endCursor }
        totalCount
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
    result = await gql(client, CUSTOMER, {"ref": {"number": "999999"}}, token=token)

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
    result = await gql(client, CUSTOMER, {"ref": {"number": "100002"}}, token=token)

    # then it is shown, but the session still works on the first number
    assert result.data["customer"]["baseData"]["name"] == "Max"
    assert result.data["customer"]["isActive"] is False
    assert (await gql(client, CUSTOMER, token=token)).data["customer"]["number"] == "100001"


@pytest.mark.parametrize("document", [CUSTOMERS, CUSTOMER])
async def test_anonymous_caller_gets_unauthenticated(client, document):
    result = await gql(client, document)
    assert result.data is None or not any(result.data.values())
    assert error_code(result) == "UNAUTHENTICATED"


def _numbers(connection) -> list[str]:
    return [edge["node"]["number"] for edge in connection["edges"]]


async def test_invoices_are_paged_newest_first_with_totals_and_cursors(clock, client, settings):
    # given six invoices of the customer
    customer = await make_customer("100001")
    for year in (2020, 2021, 2022, 2023, 2024):
        await make_invoice(customer, f"R-{year}", date=dt.date(year, 1, 20))
    await make_invoice(customer, "A-2024-7", date=dt.date(2024, 6, 1), kind=InvoiceKind.OTHER)
    _, token = await logged_in(settings, customer)

    # when pages of two are asked for, each after the page before's end cursor
    pages = []
    after = None
    for _ in range(3):
        result = await gql(client, INVOICES, {"first": 2, "after": after}, token=token)
        assert result.errors is None
        pages.append(result.data["customer"]["invoices"])
        after = pages[-1]["pageInfo"]["endCursor"]

    # then
    assert [_numbers(page) for page in pages] == [
        ["A-2024-7", "R-2024"],
        ["R-2023", "R-2022"],
        ["R-2021", "R-2020"],
    ]
    assert pages[0]["edges"][0]["node"]["kind"] == "OTHER"
    assert [page["totalCount"] for page in pages] == [6, 6, 6]
    assert [page["pageInfo"]["hasNextPage"] for page in pages] == [True, True, False]
    assert pages[0]["pageInfo"]["endCursor"] == pages[0]["edges"][-1]["cursor"]
    after_last = await gql(client, INVOICES, {"first": 2, "after": after}, token=token)
    assert after_last.data["customer"]["invoices"] == {
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "totalCount": 6,
    }


async def test_a_new_invoice_between_two_pages_neither_repeats_nor_skips_one(
    clock, client, settings
):
    # given four invoices and the first page of two read
    customer = await make_customer("100001")
    for year in (2021, 2022, 2023, 2024):
        await make_invoice(customer, f"R-{year}", date=dt.date(year, 1, 20))
    _, token = await logged_in(settings, customer)
    first = (await gql(client, INVOICES, {"first": 2}, token=token)).data["customer"]["invoices"]

    # when a newer invoice arrives and the second page is asked for with the cursor
    await make_invoice(customer, "R-2025", date=dt.date(2025, 1, 20))
    after = first["pageInfo"]["endCursor"]
    second = await gql(client, INVOICES, {"first": 2, "after": after}, token=token)

    # then the second page goes on where the first ended; the total counts the new one
    page = second.data["customer"]["invoices"]
    assert _numbers(first) == ["R-2024", "R-2023"]
    assert _numbers(page) == ["R-2022", "R-2021"]
    assert page["totalCount"] == 5
    assert page["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("first", [-1, 101])
async def test_a_page_size_out_of_bounds_is_refused(clock, client, settings, first):
    _, token = await logged_in(settings, await make_customer())
    result = await gql(client, INVOICES, {"first": first}, token=token)
    assert error_code(result) == "INVALID_PAGE"
    assert result.data["customer"] is None


async def test_first_zero_answers_the_total_only(clock, client, settings):
    customer = await make_customer()
    await make_invoice(customer, "R-1")
    _, token = await logged_in(settings, customer)
    result = await gql(client, INVOICES, {"first": 0}, token=token)
    page = result.data["customer"]["invoices"]
    assert (page["edges"], page["totalCount"], page["pageInfo"]["hasNextPage"]) == ([], 1, True)


READING_CURSOR = "UmVhZGluZzoyMDI0LTEyLTAxOjE"  # "Reading:2024-12-01:1": another list's


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64 !",
        READING_CURSOR,
        "SW52b2ljZTp5ZXN0ZXJkYXk6MQ",  # "Invoice:yesterday:1"
        "SW52b2ljZToyMDI0LTAxLTIwOng",  # "Invoice:2024-01-20:x"
        "A" * 300,
    ],
)
async def test_a_malformed_or_foreign_cursor_is_refused(clock, client, settings, cursor):
    # given
    customer = await make_customer()
    await make_invoice(customer, "R-1")
    _, token = await logged_in(settings, customer)

    # when
    result = await gql(client, INVOICES, {"first": 2, "after": cursor}, token=token)

    # then a typed request error, in the request's language
    assert error_code(result) == "INVALID_CURSOR"
    assert result.data["customer"] is None
    assert result.errors[0]["message"] == (
        "Die Position in der Liste ist ungültig. Bitte laden Sie die Liste neu."
    )


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
    ref = {"id": encode_id("Invoice", invoice.id)} if by == "id" else {"number": "R-SECRET"}

    # when
    result = await gql(client, INVOICE, {"ref": ref}, token=token)

    # then
    assert result.data == {"customer": {"number": "100001", "invoice": None}}
    assert error_code(result) == "NOT_FOUND"
    assert "99999" not in result.response.text


@pytest.mark.parametrize("by", ["id", "number"])
async def test_another_logins_meter_yields_an_error_and_no_data(clock, client, settings, by):
    # given
    _, meter = await _someone_elses_invoice_and_meter()
    _, token = await logged_in(settings, await make_customer("100001"))
    ref = {"id": encode_id("Meter", meter.id)} if by == "id" else {"number": "Z-SECRET"}

    # when
    result = await gql(client, METER, {"ref": ref}, token=token)

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
    result = await gql(client, METER, {"ref": {"id": encode_id("Invoice", meter.id)}}, token=token)

    # then
    assert error_code(result) == "NOT_FOUND"


async def test_own_invoice_and_meter_are_found_by_id_and_number(clock, client, settings):
    customer = await make_customer("100001")
    invoice = await make_invoice(customer, "R-1", amount_cents=12345)
    meter = await make_meter(customer, "Z-1", main=True)
    await make_reading(meter, "10.5", dt.date(2024, 12, 1))
    _, token = await logged_in(settings, customer)

    by_id = await gql(
        client, INVOICE, {"ref": {"id": encode_id("Invoice", invoice.id)}}, token=token
    )
    by_number = await gql(client, METER, {"ref": {"number": "Z-1"}}, token=token)

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


async def test_reading_history_is_paged_newest_first(clock, client, settings):
    customer = await make_customer("100001")
    meter = await make_meter(customer, "Z-1", main=True)
    for year in range(2015, 2025):
        await make_reading(meter, str(100 * (year - 2014)), dt.date(year, 12, 1))
    await make_reading(meter, "1001", dt.date(2025, 1, 5), source=ReadingSource.ESTIMATE)
    _, token = await logged_in(settings, customer)

    result = await gql(client, READINGS, {"first": 3}, token=token)

    page = result.data["customer"]["meters"][0]["readings"]
    assert page["totalCount"] == 11
    assert page["pageInfo"]["hasNextPage"] is True
    shown = [edge["node"] for edge in page["edges"]]
    assert [r["readOn"] for r in shown] == ["2025-01-05", "2024-12-01", "2023-12-01"]
    assert shown[0]["source"] == "ESTIMATE"


async def test_a_new_reading_between_two_pages_neither_repeats_nor_skips_one(
    clock, client, settings
):
    # given five readings, the first page of two read
    customer = await make_customer("100001")
    meter = await make_meter(customer, "Z-1", main=True)
    for year in range(2020, 2025):
        await make_reading(meter, str(100 * (year - 2019)), dt.date(year, 12, 1))
    _, token = await logged_in(settings, customer)
    first = await gql(client, READINGS, {"first": 2}, token=token)
    page_one = first.data["customer"]["meters"][0]["readings"]

    # when a newer reading arrives and the next pages are asked for with the cursors
    await make_reading(meter, "600", dt.date(2025, 1, 5), source=ReadingSource.ESTIMATE)
    after = page_one["pageInfo"]["endCursor"]
    second = await gql(client, READINGS, {"first": 2, "after": after}, token=token)
    page_two = second.data["customer"]["meters"][0]["readings"]
    after = page_two["pageInfo"]["endCursor"]
    third = await gql(client, READINGS, {"first": 2, "after": after}, token=token)
    page_three = third.data["customer"]["meters"][0]["readings"]

    # then every reading of the first list shows exactly once, in order
    seen = [e["node"]["readOn"] for p in (page_one, page_two, page_three) for e in p["edges"]]
    assert seen == ["2024-12-01", "2023-12-01", "2022-12-01", "2021-12-01", "2020-12-01"]
    assert page_three["totalCount"] == 6
    assert page_three["pageInfo"]["hasNextPage"] is False


async def test_a_tab_naming_its_customer_is_not_moved_by_another_sessions_switch(
    clock, client, settings
):
    # given a login with two customer numbers, in two sessions (two devices)
    first = await make_customer("100001")
    second = await make_customer("100002", name="Max Mustermann")
    login, token = await logged_in(settings, first, second)
    tab = await session_token(login, settings)
    named = {"ref": {"id": encode_id("Customer", first.id)}}
    before = await gql(client, CUSTOMER, named, token=tab)

    # when the other session switches to the second number, and this one too
    await gql(client, SWITCH, {"number": "100002"}, token=token)
    await gql(client, SWITCH, {"number": "100002"}, token=tab)

    # then the tab that names its customer still shows the one it named
    after = await gql(client, CUSTOMER, named, token=tab)
    assert before.data["customer"]["number"] == after.data["customer"]["number"] == "100001"
    assert after.data["customer"]["isActive"] is False
    unnamed = await gql(client, CUSTOMER, token=tab)
    assert unnamed.data["customer"]["number"] == "100002"


async def test_a_reference_naming_both_id_and_number_is_refused(clock, client, settings):
    customer = await make_customer("100001")
    _, token = await logged_in(settings, customer)
    both = {"ref": {"id": encode_id("Customer", customer.id), "number": "100001"}}
    result = await gql(client, CUSTOMER, both, token=token)
    assert result.data is None
    assert "exactly one" in result.errors[0]["message"]


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
    result = await gql(client, METER, {"ref": {"id": garbage}}, token=token)

    # then
    assert error_code(result) == "NOT_FOUND"
    assert result.data["customer"]["meter"] is None
