"""Every mutation that acts on a customer takes an optional `customer` (`CustomerRef`):
a client that shows one customer per tab names it, and another tab's `switchCustomer`
never changes what this tab acts on. Left out, the session's active customer (R10)."""

from __future__ import annotations

from typing import Any

import pytest

from models import (
    BankDetailsChange,
    BaseDataChange,
    BudgetChangeRequest,
    Customer,
    MeterReading,
    MoveOut,
    ReminderOptOut,
)
from schema.ids import encode_id
from tests.conftest import gql
from tests.factories import PASSWORD, TODAY, make_household, make_login, session_token

SUBMIT = """
mutation Submit($input: SubmitReadingInput!) {
  submitReading(input: $input) { errors { code field } reading { value } meter { number } }
}
"""
SWITCH = """
mutation Switch($input: SwitchCustomerInput!) {
  switchCustomer(input: $input) { errors { code } customer { number } }
}
"""
SET_ONLINE = """
mutation Online($input: SetOnlineCustomerInput!) {
  setOnlineCustomer(input: $input) {
    errors { code field }
    customer { number onlineConsent { given } }
  }
}
"""
REQUEST_CHANGE = """
mutation Request($input: RequestBaseDataChangeInput!) {
  requestBaseDataChange(input: $input) { errors { code field } change { id customerNumber } }
}
"""
CONFIRM_CHANGE = """
mutation Confirm($input: ConfirmBaseDataChangeInput!) {
  confirmBaseDataChange(input: $input) {
    errors { code field }
    customer { number baseData { name } }
  }
}
"""


async def _two_tabs(settings: Any) -> tuple[Any, Any, str, str]:
    """One login holding 100001 and 100002, logged in in two tabs (two sessions)."""
    first = await make_household(TODAY, "100001")
    second = await make_household(TODAY, "100002")
    login = await make_login(first.customer, second.customer, email="erika@example.org")
    return first, second, await session_token(login, settings), await session_token(login, settings)


async def test_a_tab_that_names_its_customer_is_not_moved_by_another_tabs_switch(
    clock, client, settings
):
    # given tab 1 works on 100001, and tab 2 switches to 100002
    first, second, tab1, tab2 = await _two_tabs(settings)
    switched = await gql(client, SWITCH, {"input": {"customerNumber": "100002"}}, token=tab2)
    assert switched.data["switchCustomer"]["errors"] == []

    # when tab 1 submits a reading of its customer's meter, naming its customer by number and by ID
    by_number = await gql(
        client,
        SUBMIT,
        {
            "input": {
                "customer": {"number": "100001"},
                "meterNumber": first.main.number,
                "value": "1050",
            }
        },
        token=tab1,
    )
    by_id = await gql(
        client,
        SUBMIT,
        {
            "input": {
                "customer": {"id": encode_id("Customer", first.customer.id)},
                "meterNumber": first.main.number,
                "value": "1051",
            }
        },
        token=tab2,
    )

    # then both readings are 100001's, whatever each tab's active customer is
    assert by_number.data["submitReading"]["errors"] == []
    assert by_id.data["submitReading"]["errors"] == []
    assert await MeterReading.filter(meter_id=first.main.id, value__gte=1050).count() == 2
    assert await MeterReading.filter(meter_id=second.main.id, value__gte=1050).count() == 0


async def test_without_a_customer_the_sessions_active_one_is_meant(clock, client, settings):
    first, second, tab1, tab2 = await _two_tabs(settings)
    await gql(client, SWITCH, {"input": {"customerNumber": "100002"}}, token=tab2)

    # tab 2 (now on 100002) finds 100002's meter, not 100001's
    own = await gql(
        client, SUBMIT, {"input": {"meterNumber": second.main.number, "value": "1060"}}, token=tab2
    )
    other = await gql(
        client, SUBMIT, {"input": {"meterNumber": first.main.number, "value": "1060"}}, token=tab2
    )
    # tab 1 is still on the first customer number added (R10)
    first_tab = await gql(
        client, SUBMIT, {"input": {"meterNumber": first.main.number, "value": "1061"}}, token=tab1
    )

    assert own.data["submitReading"]["errors"] == []
    assert [e["code"] for e in other.data["submitReading"]["errors"]] == ["NOT_FOUND"]
    assert first_tab.data["submitReading"]["errors"] == []
    assert await MeterReading.filter(meter_id=first.main.id, value__gte=1050).count() == 1


@pytest.mark.parametrize("named", [{"number": ""}, {"id": ""}])
async def test_an_empty_customer_names_none_and_never_means_the_active_one(
    clock, client, settings, named
):
    first, _, tab1, _ = await _two_tabs(settings)

    result = await gql(
        client,
        SUBMIT,
        {"input": {"meterNumber": first.main.number, "value": "1060", "customer": named}},
        token=tab1,
    )

    assert result.data["submitReading"]["errors"] == [
        {"code": "NOT_FOUND", "field": ["input", "customer"]}
    ]
    assert await MeterReading.filter(meter_id=first.main.id, value__gte=1050).count() == 0


async def test_a_named_customer_changes_that_customer_only(clock, client, settings, mailbox):
    first, _, tab1, _ = await _two_tabs(settings)

    # tab 1 is on 100001 and changes 100002's consent and name, naming it
    online = await gql(
        client,
        SET_ONLINE,
        {
            "input": {
                "customer": {"number": "100002"},
                "consent": True,
                "currentPassword": PASSWORD,
            }
        },
        token=tab1,
    )
    requested = await gql(
        client,
        REQUEST_CHANGE,
        {"input": {"customer": {"number": "100002"}, "name": "Max Mustermann"}},
        token=tab1,
    )
    assert requested.data["requestBaseDataChange"]["errors"] == [], requested.data
    change = requested.data["requestBaseDataChange"]["change"]
    confirmed = await gql(
        client,
        CONFIRM_CHANGE,
        {
            "input": {
                "customer": {"number": "100002"},
                "id": change["id"],
                "currentPassword": PASSWORD,
            }
        },
        token=tab1,
    )

    assert online.data["setOnlineCustomer"] == {
        "errors": [],
        "customer": {"number": "100002", "onlineConsent": {"given": True}},
    }
    assert change["customerNumber"] == "100002"
    assert confirmed.errors is None, confirmed.errors
    assert confirmed.data["confirmBaseDataChange"] == {
        "errors": [],
        "customer": {"number": "100002", "baseData": {"name": "Max Mustermann"}},
    }
    untouched = await Customer.get(id=first.customer.id)
    assert (untouched.name, untouched.online_consent) == ("Erika Mustermann", False)


CUSTOMER_SCOPED = [
    pytest.param(
        'submitReading(input: {customer: $customer, meterNumber: "Z-1", value: "1"})',
        id="submitReading",
    ),
    pytest.param(
        'requestBaseDataChange(input: {customer: $customer, name: "Mallory"})',
        id="requestBaseDataChange",
    ),
    pytest.param(
        'confirmBaseDataChange(input: {customer: $customer, id: "x", currentPassword: "p"})',
        id="confirmBaseDataChange",
    ),
    pytest.param(
        'setOnlineCustomer(input: {customer: $customer, consent: true, currentPassword: "p"})',
        id="setOnlineCustomer",
    ),
    pytest.param(
        'requestBudgetChange(input: {customer: $customer, amount: "60"})',
        id="requestBudgetChange",
    ),
    pytest.param(
        'cancelBudgetChange(input: {customer: $customer, requestId: "x"})',
        id="cancelBudgetChange",
    ),
    pytest.param(
        "changePaymentDetails(input: {customer: $customer, method: TRANSFER, "
        'currentPassword: "p"})',
        id="changePaymentDetails",
    ),
    pytest.param(
        'reportMoveOut(input: {customer: $customer, moveOutOn: "2025-04-01", '
        'forwardingAddress: {name: "M", street: "S 1", postalCode: "12345", city: "C"}})',
        id="reportMoveOut",
    ),
    pytest.param(
        'submitFinalReading(input: {customer: $customer, meterNumber: "Z-1", value: "1"})',
        id="submitFinalReading",
    ),
    pytest.param(
        "setReadingReminders(input: {customer: $customer, enabled: false})",
        id="setReadingReminders",
    ),
]


async def _footprint() -> list[int]:
    """What any of the customer-scoped mutations would leave behind."""
    return [
        await model.all().count()
        for model in (
            MeterReading,
            BaseDataChange,
            BudgetChangeRequest,
            BankDetailsChange,
            MoveOut,
            ReminderOptOut,
        )
    ]


@pytest.mark.parametrize("call", CUSTOMER_SCOPED)
@pytest.mark.parametrize("by", ["number", "id"])
async def test_another_logins_customer_is_not_found_and_nothing_changes(
    clock, client, settings, call, by
):
    # given Erika's login with 100001, and Max's customer 200002
    mine = await make_household(TODAY, "100001")
    theirs = await make_household(TODAY, "200002")
    await make_login(theirs.customer, email="max@example.org")
    token = await session_token(await make_login(mine.customer), settings)
    before = (await _footprint(), await Customer.get(id=theirs.customer.id))
    name = call.split("(")[0]
    ref = (
        {"number": "200002"}
        if by == "number"
        else {"id": encode_id("Customer", theirs.customer.id)}
    )

    # when Erika names Max's customer
    result = await gql(
        client,
        f"mutation Act($customer: CustomerRef) {{ {call} {{ errors {{ code field }} }} }}",
        {"customer": ref},
        token=token,
    )

    # then it is not found, and nothing of anyone changed
    assert result.errors is None, result.errors
    assert result.data[name]["errors"] == [{"code": "NOT_FOUND", "field": ["input", "customer"]}]
    after = (await _footprint(), await Customer.get(id=theirs.customer.id))
    assert after[0] == before[0]
    assert vars(after[1]) == vars(before[1])
