"""Several customer numbers under one login (R9): adding one needs the same proof
as registration and fails with the same non-revealing error; the last one
cannot be removed."""

from __future__ import annotations

import datetime as dt

from models import AuditEvent, InvoiceKind, LoginCustomer
from resolvers.customer_numbers import verify_customer_claim
from tests.conftest import gql
from tests.factories import (
    TODAY,
    logged_in,
    make_customer,
    make_household,
    make_invoice,
    make_login,
    make_meter,
)

ADD = """
mutation Add($input: AddCustomerNumberInput!) {
  addCustomerNumber(input: $input) {
    customer { number isActive baseData { name } }
    errors { code field message }
  }
}
"""
REMOVE = """
mutation Remove($number: String!) {
  removeCustomerNumber(input: { customerNumber: $number }) {
    removedNumber
    customers { number isActive }
    errors { code field message }
  }
}
"""
SWITCH = """
mutation Switch($number: String!) {
  switchCustomer(input: { customerNumber: $number }) { errors { code } }
}
"""
CUSTOMERS = "query { customers { number isActive } }"


async def test_add_customer_number_with_latest_invoice_number(clock, client, settings):
    # given a second customer of the same person, with two annual bills
    first = await make_household(TODAY, "100001")
    second = await make_household(TODAY, "100002", name="Max Mustermann")
    _, token = await logged_in(settings, first.customer)

    # when
    result = await gql(
        client,
        ADD,
        {"input": {"customerNumber": "100002", "invoiceNumber": second.latest_invoice.number}},
        token=token,
    )

    # then it is added, the first stays active
    assert result.data["addCustomerNumber"] == {
        "customer": {"number": "100002", "isActive": False, "baseData": {"name": "Max Mustermann"}},
        "errors": [],
    }
    customers = (await gql(client, CUSTOMERS, token=token)).data["customers"]
    assert customers == [
        {"number": "100001", "isActive": True},
        {"number": "100002", "isActive": False},
    ]


async def test_add_customer_number_with_main_meter_number(clock, client, settings):
    second = await make_household(TODAY, "100002")
    _, token = await logged_in(settings, (await make_household(TODAY, "100001")).customer)

    result = await gql(
        client,
        ADD,
        {"input": {"customerNumber": " 100002 ", "meterNumber": second.main.number.lower()}},
        token=token,
    )

    assert result.data["addCustomerNumber"]["errors"] == []
    assert result.data["addCustomerNumber"]["customer"]["number"] == "100002"


async def _wrong_claims():
    """Claims that must all fail alike: each differs from a right one in one part."""
    right = await make_household(TODAY, "200001")
    older = await make_invoice(right.customer, "R-OLD", date=dt.date(2020, 1, 1))
    no_annual = await make_customer("200002")
    other_bill = await make_invoice(no_annual, "A-1", kind=InvoiceKind.OTHER)
    await make_meter(no_annual, "Z-200002", main=True)
    return [
        {"customerNumber": "299999", "invoiceNumber": right.latest_invoice.number},
        {"customerNumber": "200001", "invoiceNumber": older.number},
        {"customerNumber": "200001", "meterNumber": right.radio.number},
        {"customerNumber": "200001", "invoiceNumber": "R-NOPE"},
        {"customerNumber": "200002", "invoiceNumber": other_bill.number},
        {"customerNumber": "200002", "meterNumber": "Z-200002"},
        {
            "customerNumber": "200001",
            "invoiceNumber": right.latest_invoice.number,
            "meterNumber": right.radio.number,
        },
    ]


async def test_wrong_claims_give_one_error_that_reveals_nothing(clock, client, settings):
    # given claims with a wrong customer number, a wrong or older invoice, a meter that is
    # not the main one, and a customer without an annual bill (R2)
    claims = await _wrong_claims()
    login, token = await logged_in(settings, (await make_household(TODAY, "100001")).customer)

    # when each is tried
    answers = [
        (await gql(client, ADD, {"input": claim}, token=token)).data["addCustomerNumber"]
        for claim in claims
    ]

    # then each gives the very same answer, and nothing was added
    assert all(a == answers[0] for a in answers), answers
    assert answers[0]["customer"] is None
    assert [e["code"] for e in answers[0]["errors"]] == ["CUSTOMER_NOT_VERIFIED"]
    assert answers[0]["errors"][0]["field"] is None
    assert await LoginCustomer.filter(login_id=login.id).count() == 1


async def test_verify_customer_claim_is_the_one_check_for_registration_and_adding(app):
    """R1/R2/R9: the function the registration also calls."""
    household = await make_household(TODAY, "300001")
    assert (
        await verify_customer_claim("300001", household.latest_invoice.number, None)
    ) is not None
    assert (await verify_customer_claim("300001", None, household.main.number)) is not None
    assert (await verify_customer_claim("300001", None, None)) is None
    for claim in await _wrong_claims():
        found = await verify_customer_claim(
            claim["customerNumber"], claim.get("invoiceNumber"), claim.get("meterNumber")
        )
        assert found is None, claim


async def test_customer_number_of_another_login_is_taken(clock, client, settings):
    # given a customer registered by someone else, whose invoice this user knows
    taken = await make_household(TODAY, "100002")
    await make_login(taken.customer)
    _, token = await logged_in(settings, (await make_household(TODAY, "100001")).customer)

    # when
    result = await gql(
        client,
        ADD,
        {"input": {"customerNumber": "100002", "invoiceNumber": taken.latest_invoice.number}},
        token=token,
    )

    # then
    assert [e["code"] for e in result.data["addCustomerNumber"]["errors"]] == [
        "CUSTOMER_NUMBER_TAKEN"
    ]


async def test_customer_number_already_in_the_login(clock, client, settings):
    mine = await make_household(TODAY, "100001")
    _, token = await logged_in(settings, mine.customer)

    result = await gql(
        client,
        ADD,
        {"input": {"customerNumber": "100001", "invoiceNumber": mine.latest_invoice.number}},
        token=token,
    )

    assert [e["code"] for e in result.data["addCustomerNumber"]["errors"]] == ["ALREADY_ADDED"]


async def test_add_customer_number_needs_an_invoice_or_meter_number(clock, client, settings):
    _, token = await logged_in(settings, await make_customer("100001"))
    result = await gql(client, ADD, {"input": {"customerNumber": "100002"}}, token=token)
    assert result.data["addCustomerNumber"]["errors"] == [
        {
            "code": "PROOF_REQUIRED",
            "field": None,
            "message": "Bitte geben Sie die Nummer Ihrer letzten Rechnung oder Ihres "
            "Hauptzählers an.",
        }
    ]


async def test_guessing_customer_numbers_is_throttled(clock, client, settings):
    # given a login that has tried wrong claims up to the limit
    right = await make_household(TODAY, "100002")
    login, token = await logged_in(settings, await make_customer("100001"))
    for n in range(settings.customer_claim_failures_per_client_of_login):
        wrong = {"customerNumber": f"9{n:05}", "invoiceNumber": "R-1"}
        result = await gql(client, ADD, {"input": wrong}, token=token)
        assert result.data["addCustomerNumber"]["errors"][0]["code"] == "CUSTOMER_NOT_VERIFIED"

    # when it then tries even a right one
    right_claim = {"customerNumber": "100002", "invoiceNumber": right.latest_invoice.number}
    result = await gql(client, ADD, {"input": right_claim}, token=token)

    # then it is refused until the window has passed
    assert result.errors[0]["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < result.errors[0]["extensions"]["retryAfter"] <= settings.rate_window_seconds
    assert result.data is None or result.data["addCustomerNumber"] is None
    assert await AuditEvent.filter(login_id=login.id, outcome="failure").count() == 10
    clock.shift(dt.timedelta(seconds=settings.rate_window_seconds + 1))
    result = await gql(client, ADD, {"input": right_claim}, token=token)
    assert result.data["addCustomerNumber"]["errors"] == []


async def test_remove_customer_number_but_never_the_last(clock, client, settings):
    # given a login with two numbers, working on the second
    _, token = await logged_in(
        settings, await make_customer("100001"), await make_customer("100002")
    )
    await gql(client, SWITCH, {"number": "100002"}, token=token)

    # when the active one is removed
    removed = await gql(client, REMOVE, {"number": "100002"}, token=token)

    # then the first is left and active again
    assert removed.data["removeCustomerNumber"] == {
        "removedNumber": "100002",
        "customers": [{"number": "100001", "isActive": True}],
        "errors": [],
    }

    # when the last one is to be removed
    last = await gql(client, REMOVE, {"number": "100001"}, token=token)

    # then it is refused and stays
    assert last.data["removeCustomerNumber"]["removedNumber"] is None
    assert [e["code"] for e in last.data["removeCustomerNumber"]["errors"]] == [
        "LAST_CUSTOMER_NUMBER"
    ]
    assert (await gql(client, CUSTOMERS, token=token)).data["customers"] == [
        {"number": "100001", "isActive": True}
    ]


async def test_removing_another_logins_customer_number_is_not_found(clock, client, settings):
    stranger = await make_customer("999999")
    await make_login(stranger)
    _, token = await logged_in(
        settings, await make_customer("100001"), await make_customer("100002")
    )

    result = await gql(client, REMOVE, {"number": "999999"}, token=token)

    assert [e["code"] for e in result.data["removeCustomerNumber"]["errors"]] == ["NOT_FOUND"]
    assert await LoginCustomer.filter(customer_id=stranger.id).exists()


async def test_a_removed_customer_number_can_be_added_again(clock, client, settings):
    second = await make_household(TODAY, "100002")
    _, token = await logged_in(settings, await make_customer("100001"), second.customer)
    await gql(client, REMOVE, {"number": "100002"}, token=token)

    result = await gql(
        client,
        ADD,
        {"input": {"customerNumber": "100002", "invoiceNumber": second.latest_invoice.number}},
        token=token,
    )

    assert result.data["addCustomerNumber"]["errors"] == []
