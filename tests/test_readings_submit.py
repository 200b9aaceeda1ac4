"""Submitting meter readings (R13–R15) through the API, with the mail it sends."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from models import Language, MeterKind, MeterReading, OutboxMail
from schema.ids import encode_id
from tests.conftest import gql
from tests.factories import (
    TODAY,
    logged_in,
    make_customer,
    make_household,
    make_login,
    make_meter,
    make_period,
    make_reading,
)

SUBMIT = """
mutation Submit($input: SubmitReadingInput!) {
  submitReading(input: $input) {
    reading { id value readOn source corrected }
    correctedReading { id value corrected }
    meter { number lastReading { value } }
    mailedTo
    errors {
      code field message
      startsOn endsOn keyDate lastValue lastReadOn usualMaximum
    }
  }
}
"""
HISTORY = """
query History($number: String!) {
  customer {
    meter(ref: {number: $number}) {
      lastReading { value }
      readings(first: 10) { edges { node { value source corrected } } totalCount }
    }
  }
}
"""
SWITCH = """
mutation Switch($number: String!) {
  switchCustomer(input: { customerNumber: $number }) { errors { code } }
}
"""


def _input(meter, value, **extra):
    return {"input": {"meterId": encode_id("Meter", meter.id), "value": value, **extra}}


def _codes(result):
    return [e["code"] for e in result.data["submitReading"]["errors"]]


async def test_reading_in_the_open_period_is_stored_and_mailed(
    clock, client, settings, mailbox, customer
):
    # given a manual meter with an open period, last read at 1001.25 m³
    household = customer.household
    login = customer.login

    # when
    result = await customer.gql(SUBMIT, _input(household.main, "1050.5"))

    # then it is stored as the customer's, shown as the last reading, and mailed back
    payload = result.data["submitReading"]
    assert payload["errors"] == []
    assert payload["reading"]["value"] == "1050.500"
    assert payload["reading"]["readOn"] == "2025-03-10"
    assert payload["reading"]["source"] == "CUSTOMER"
    assert payload["correctedReading"] is None
    assert payload["meter"]["lastReading"] == {"value": "1050.500"}
    assert payload["mailedTo"] == "e***a@example.org"
    stored = await MeterReading.filter(meter_id=household.main.id).order_by("-id").first()
    assert stored.submitted_by_id == login.id
    text = await mailbox.last_text("erika@example.org")
    assert "Zählerstand:  1.050,5 m³" in text
    assert household.main.number in text
    assert "10.03.2025" in text


async def test_reading_by_meter_number_is_mailed_in_the_logins_language(
    clock, client, settings, mailbox, customer
):
    household = customer.household
    customer.login.preferred_language = Language.EN
    await customer.login.save(update_fields=["preferred_language"])

    result = await customer.gql(
        SUBMIT, {"input": {"meterNumber": household.main.number, "value": "1034.5"}}
    )

    assert result.data["submitReading"]["errors"] == []
    message = (await mailbox.wait_for("erika@example.org"))[-1]
    assert message["Subject"] == f"Meter reading received: meter {household.main.number}"
    assert "Reading:         1,034.5 m³" in await mailbox.last_text("erika@example.org")


async def test_outside_the_period_the_error_says_when_the_next_one_is(clock, client, settings):
    # given a meter whose last period is over and whose next is in September
    customer = await make_customer("100001")
    meter = await make_meter(customer, "Z-1", main=True)
    await make_period(dt.date(2024, 9, 1), dt.date(2024, 9, 30), meter=meter)
    await make_period(dt.date(2025, 9, 1), dt.date(2025, 9, 30), meter=meter)
    _, token = await logged_in(settings, customer)

    # when
    result = await gql(client, SUBMIT, _input(meter, "10"), token=token)

    # then
    (error,) = result.data["submitReading"]["errors"]
    assert error["code"] == "OUTSIDE_READING_PERIOD"
    assert error["field"] is None  # the period is the matter, not any input
    assert (error["startsOn"], error["endsOn"]) == ("2025-09-01", "2025-09-30")
    assert error["message"] == (
        "Zählerstände können nur innerhalb der Ableseperiode übermittelt werden. "
        "Die nächste Ableseperiode ist vom 01.09.2025 bis 30.09.2025."
    )
    assert result.data["submitReading"]["reading"] is None
    assert not await MeterReading.exists()


async def test_outside_the_period_with_none_announced_says_so(clock, client, settings):
    customer = await make_customer("100001")
    meter = await make_meter(customer, "Z-1", main=True)
    _, token = await logged_in(settings, customer)

    result = await gql(
        client, SUBMIT, _input(meter, "10"), token=token, headers={"Accept-Language": "en"}
    )

    (error,) = result.data["submitReading"]["errors"]
    assert error["code"] == "OUTSIDE_READING_PERIOD"
    assert error["startsOn"] is None
    assert error["message"].endswith("The next reading period has not been set yet.")


async def test_radio_meter_refuses_customer_reading_and_names_the_key_date(
    clock, client, settings, customer
):
    # given a radio meter, read remotely on 31 March
    household = customer.household

    # when
    result = await customer.gql(SUBMIT, _input(household.radio, "41"))

    # then
    (error,) = result.data["submitReading"]["errors"]
    assert error["code"] == "RADIO_METER"
    assert error["field"] == ["input", "meterId"]
    assert error["keyDate"] == "2025-03-30"
    assert "Funkzähler" in error["message"]
    assert "Stichtag 30.03.2025" in error["message"]
    assert await MeterReading.filter(meter_id=household.radio.id).count() == 1


async def test_radio_meter_named_by_number_points_at_the_number(clock, client, settings, customer):
    # given a radio meter, named by its number
    radio = customer.household.radio

    # when
    result = await customer.gql(SUBMIT, {"input": {"meterNumber": radio.number, "value": "41"}})

    # then the error names the input the client sent
    (error,) = result.data["submitReading"]["errors"]
    assert (error["code"], error["field"]) == ("RADIO_METER", ["input", "meterNumber"])


async def test_reading_below_the_last_one_is_refused(clock, client, settings, customer):
    household = customer.household

    result = await customer.gql(SUBMIT, _input(household.main, "999.9"))

    (error,) = result.data["submitReading"]["errors"]
    assert error["code"] == "BELOW_LAST_READING"
    assert (error["lastValue"], error["lastReadOn"]) == ("1001.250", "2024-12-15")
    assert error["field"] == ["input", "value"]
    assert "1.001,25 m³ am 15.12.2024" in error["message"]


async def test_reading_below_the_last_one_is_taken_after_a_meter_exchange(
    clock, client, settings, customer
):
    # given a meter whose device was exchanged after its last reading
    household = customer.household
    household.main.installed_on = dt.date(2025, 2, 1)
    await household.main.save(update_fields=["installed_on"])

    # when the new device's low count is submitted
    result = await customer.gql(SUBMIT, _input(household.main, "3.2"))

    # then
    assert result.data["submitReading"]["errors"] == []
    assert result.data["submitReading"]["reading"]["value"] == "3.200"


async def test_unusually_high_consumption_needs_explicit_confirmation(
    clock, client, settings, customer
):
    # given about 95 m³ a year so far
    household = customer.household

    # when ten times that is submitted
    refused = await customer.gql(SUBMIT, _input(household.main, "2000"))

    # then it needs a confirmation, which then takes it
    (error,) = refused.data["submitReading"]["errors"]
    assert error["code"] == "UNUSUAL_CONSUMPTION"
    assert error["field"] == ["input", "confirmUnusual"]
    assert 1001 < float(error["usualMaximum"]) < 1200
    assert not await MeterReading.filter(meter_id=household.main.id, value=2000).exists()
    confirmed = await customer.gql(SUBMIT, _input(household.main, "2000", confirmUnusual=True))
    assert confirmed.data["submitReading"]["errors"] == []


async def test_correction_within_the_period_keeps_the_earlier_value(
    clock, client, settings, mailbox, customer
):
    # given a reading submitted in the open period
    household = customer.household
    first = await customer.gql(SUBMIT, _input(household.main, "1010"))
    first_id = first.data["submitReading"]["reading"]["id"]

    # when it is corrected below its value (but above the reading before it)
    second = await customer.gql(SUBMIT, _input(household.main, "1005"))

    # then the new value stands, the earlier stays in the history, marked corrected
    payload = second.data["submitReading"]
    assert payload["errors"] == []
    assert payload["correctedReading"] == {"id": first_id, "value": "1010.000", "corrected": True}
    history = await customer.gql(HISTORY, {"number": household.main.number})
    meter = history.data["customer"]["meter"]
    assert meter["lastReading"] == {"value": "1005.000"}
    assert meter["readings"]["totalCount"] == 5
    assert [edge["node"] for edge in meter["readings"]["edges"][:2]] == [
        {"value": "1005.000", "source": "CUSTOMER", "corrected": False},
        {"value": "1010.000", "source": "CUSTOMER", "corrected": True},
    ]
    text = await mailbox.last_text("erika@example.org", count=2)
    assert (
        "ersetzt den zuvor in dieser Ableseperiode übermittelten Zählerstand von 1.010 m³" in text
    )


async def test_correction_below_the_reading_before_it_is_refused(clock, client, settings, customer):
    household = customer.household
    await customer.gql(SUBMIT, _input(household.main, "1010"))

    result = await customer.gql(SUBMIT, _input(household.main, "1000"))

    assert _codes(result) == ["BELOW_LAST_READING"]
    assert result.data["submitReading"]["errors"][0]["lastValue"] == "1001.250"


async def test_retried_submission_with_the_same_idempotency_key_is_a_no_op(
    clock, client, settings, customer
):
    # given a submission with an idempotency key
    household = customer.household
    variables = _input(household.main, "1050", idempotencyKey="c0ffee-1")
    first = await customer.gql(SUBMIT, variables)

    # when the client sends it again
    again = await customer.gql(SUBMIT, variables)

    # then the same reading is answered, nothing new is stored or mailed
    assert again.data["submitReading"]["errors"] == []
    assert again.data["submitReading"]["reading"] == first.data["submitReading"]["reading"]
    assert again.data["submitReading"]["correctedReading"] is None
    assert again.data["submitReading"]["mailedTo"] is None
    assert await MeterReading.filter(meter_id=household.main.id).count() == 4
    assert await OutboxMail.filter(kind="reading_received").count() == 1


async def test_the_same_value_sent_twice_the_same_day_is_one_reading_and_one_mail(
    clock, client, settings, customer
):
    # given a reading sent without an idempotency key
    household = customer.household
    first = await customer.gql(SUBMIT, _input(household.main, "1050"))

    # when the client sends the identical value again the same day (a double tap)
    again = await customer.gql(SUBMIT, _input(household.main, "1050"))

    # then it is answered as that reading: nothing corrected, stored or mailed again
    payload = again.data["submitReading"]
    assert payload["errors"] == []
    assert payload["reading"] == first.data["submitReading"]["reading"]
    assert payload["reading"]["corrected"] is False
    assert payload["correctedReading"] is None
    assert payload["mailedTo"] is None
    assert await MeterReading.filter(meter_id=household.main.id).count() == 4
    assert await OutboxMail.filter(kind="reading_received").count() == 1


async def test_a_different_value_the_same_day_is_still_a_correction(
    clock, client, settings, customer
):
    household = customer.household
    await customer.gql(SUBMIT, _input(household.main, "1050"))

    again = await customer.gql(SUBMIT, _input(household.main, "1050.001"))

    assert again.data["submitReading"]["correctedReading"]["value"] == "1050.000"
    assert again.data["submitReading"]["mailedTo"] == "e***a@example.org"
    assert await OutboxMail.filter(kind="reading_received").count() == 2


async def test_concurrent_retries_store_one_reading(clock, client, settings, customer):
    household = customer.household
    variables = _input(household.main, "1050", idempotencyKey="c0ffee-2")

    results = await asyncio.gather(*(customer.gql(SUBMIT, variables) for _ in range(3)))

    ids = {r.data["submitReading"]["reading"]["id"] for r in results}
    assert len(ids) == 1
    assert await MeterReading.filter(meter_id=household.main.id).count() == 4
    assert await OutboxMail.filter(kind="reading_received").count() == 1


async def test_idempotency_key_used_for_another_value_is_refused(clock, client, settings, customer):
    household = customer.household
    await customer.gql(SUBMIT, _input(household.main, "1050", idempotencyKey="k1"))

    result = await customer.gql(SUBMIT, _input(household.main, "1060", idempotencyKey="k1"))

    assert _codes(result) == ["IDEMPOTENCY_KEY_REUSED"]
    assert await MeterReading.filter(meter_id=household.main.id).count() == 4


@pytest.mark.parametrize("by", ["id", "number"])
async def test_another_logins_meter_takes_no_reading(clock, client, settings, by, customer):
    # given someone else's meter in an open period
    stranger = await make_household(TODAY, "999999")
    await make_login(stranger.customer)
    meter = stranger.main
    given = (
        {"meterId": encode_id("Meter", meter.id)} if by == "id" else {"meterNumber": meter.number}
    )

    # when
    result = await customer.gql(SUBMIT, {"input": {**given, "value": "2000"}})

    # then the error points at the input the meter was named by
    (error,) = result.data["submitReading"]["errors"]
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", f"meter{by.title()}"])
    assert result.data["submitReading"]["meter"] is None
    assert await MeterReading.filter(meter_id=meter.id).count() == 3


async def test_meter_of_an_own_customer_that_is_not_active_takes_no_reading(
    clock, client, settings
):
    # given a login with two customers, the first active
    first = await make_household(TODAY, "100001")
    second = await make_household(TODAY, "100002")
    _, token = await logged_in(settings, first.customer, second.customer)

    # when a meter of the second is read, then after switching to it
    before = await gql(client, SUBMIT, _input(second.main, "1050"), token=token)
    await gql(client, SWITCH, {"number": "100002"}, token=token)
    after = await gql(client, SUBMIT, _input(second.main, "1050"), token=token)

    # then only the active customer's meter takes it (R10)
    assert _codes(before) == ["NOT_FOUND"]
    assert after.data["submitReading"]["errors"] == []


@pytest.mark.parametrize("value", ["-1", "1.0001", "1000000000"])
async def test_invalid_values_are_refused(clock, client, settings, value, customer):
    household = customer.household
    result = await customer.gql(SUBMIT, _input(household.main, value))
    assert _codes(result) == ["VALUE_INVALID"]


async def test_meter_must_be_named_once(clock, client, settings, customer):
    household = customer.household
    both = {
        "meterId": encode_id("Meter", household.main.id),
        "meterNumber": household.main.number,
        "value": "1050",
    }
    result = await customer.gql(SUBMIT, {"input": both})
    assert _codes(result) == ["CHOICE_REQUIRED"]


async def test_removed_meter_takes_no_reading(clock, client, settings):
    customer = await make_customer("100001")
    meter = await make_meter(
        customer, "Z-OLD", installed_on=dt.date(2010, 1, 1), removed_on=dt.date(2025, 1, 1)
    )
    await make_period(dt.date(2025, 3, 1), dt.date(2025, 3, 31), meter=meter)
    await make_reading(meter, "5", dt.date(2024, 12, 1))
    _, token = await logged_in(settings, customer)

    result = await gql(client, SUBMIT, _input(meter, "6"), token=token)

    assert _codes(result) == ["METER_REMOVED"]


async def test_radio_meter_of_a_group_names_the_groups_key_date(clock, client, settings):
    customer = await make_customer("100001")
    meter = await make_meter(customer, "F-1", kind=MeterKind.RADIO, group="SUED")
    await make_period(
        dt.date(2025, 4, 1), dt.date(2025, 4, 30), group="SUED", key_date=dt.date(2025, 4, 15)
    )
    _, token = await logged_in(settings, customer)

    result = await gql(client, SUBMIT, _input(meter, "6"), token=token)

    assert result.data["submitReading"]["errors"][0]["keyDate"] == "2025-04-15"


async def test_cookie_session_needs_its_csrf_token_to_submit(clock, client, settings, customer):
    # given a browser session (cookie) and no X-CSRF-Token header
    household = customer.household
    token = customer.token

    # when a page on another site makes the browser post a reading
    result = await gql(
        client, SUBMIT, _input(household.main, "1050"), headers={"Cookie": f"kp_session={token}"}
    )

    # then it is refused and nothing is stored
    assert result.errors[0]["extensions"]["code"] == "CSRF_TOKEN_INVALID"
    assert await MeterReading.filter(meter_id=household.main.id).count() == 3
