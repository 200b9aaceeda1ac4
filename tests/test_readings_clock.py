"""The reading window follows the utility's calendar (R15), not UTC's.

Europe/Berlin is one hour ahead of UTC in winter and two in summer, so at
00:30 in Berlin it is still the day before in UTC, and at 23:30 it can be
the same day in both. Each case submits a reading at a wall-clock time in
Berlin just inside or just outside a period: a window taken on the UTC date
would accept readings after a period has closed and refuse them on its
first night.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from models import Meter, MeterReading
from tests.conftest import gql
from tests.customer_builders import logged_in, make_customer, make_meter, make_period

BERLIN = ZoneInfo("Europe/Berlin")

SUBMIT = """
mutation Submit($input: SubmitReadingInput!) {
  submitReading(input: $input) {
    reading { readOn }
    errors { code startsOn endsOn }
  }
}
"""


def _berlin(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=BERLIN)


async def _submit_at(
    client, settings, when: dt.datetime, starts_on: str, ends_on: str
) -> tuple[dict, Meter]:
    with time_machine.travel(when, tick=False):
        customer = await make_customer()
        meter = await make_meter(customer, main=True)
        await make_period(
            dt.date.fromisoformat(starts_on), dt.date.fromisoformat(ends_on), meter=meter
        )
        _, token = await logged_in(settings, customer)
        variables = {"input": {"meterNumber": meter.number, "value": "100"}}
        result = await gql(client, SUBMIT, variables, token=token)
    return result.data["submitReading"], meter


@pytest.mark.parametrize(
    ("berlin_time", "starts_on", "ends_on"),
    [
        # winter time (UTC+1): 00:30 on the first day is 23:30 of the day before in UTC
        ("2025-03-10T00:30", "2025-03-10", "2025-03-20"),
        ("2025-03-20T23:30", "2025-03-10", "2025-03-20"),
        # the night summer time starts (last Sunday of March, 2025-03-30)
        ("2025-03-30T00:30", "2025-03-30", "2025-04-10"),
        ("2025-03-30T23:30", "2025-03-20", "2025-03-30"),
        # summer time (UTC+2): 00:30 and 01:30 are still the day before in UTC
        ("2025-06-01T00:30", "2025-06-01", "2025-06-30"),
        ("2025-06-30T23:30", "2025-06-01", "2025-06-30"),
        # the night summer time ends (last Sunday of October, 2025-10-26)
        ("2025-10-25T23:30", "2025-10-15", "2025-10-25"),
        ("2025-10-26T00:30", "2025-10-26", "2025-11-05"),
        ("2025-10-26T23:30", "2025-10-16", "2025-10-26"),
    ],
)
async def test_reading_is_accepted_on_the_periods_first_and_last_day_at_the_utility(
    client, settings, berlin_time, starts_on, ends_on
):
    # given a manual meter whose period includes the utility's date of `berlin_time`
    when = _berlin(berlin_time)

    # when the customer submits a reading then
    payload, _ = await _submit_at(client, settings, when, starts_on, ends_on)

    # then it is stored on the utility's date
    assert payload["errors"] == []
    assert payload["reading"]["readOn"] == when.date().isoformat()


@pytest.mark.parametrize(
    ("berlin_time", "starts_on", "ends_on", "coming"),
    [
        # winter time: 23:30 the evening before the first day
        ("2025-03-09T23:30", "2025-03-10", "2025-03-20", True),
        # winter time: 00:30 after the last day is still the last day in UTC
        ("2025-03-21T00:30", "2025-03-10", "2025-03-20", False),
        # the night summer time starts: the evening before a first day, the night after a last
        ("2025-03-29T23:30", "2025-03-30", "2025-04-10", True),
        ("2025-03-31T00:30", "2025-03-20", "2025-03-30", False),
        # summer time: 01:30 after the last day is still the last day in UTC
        ("2025-07-01T01:30", "2025-06-01", "2025-06-30", False),
        # the night summer time ends: the evening before a first day, the nights after a last
        # day in summer and in winter time
        ("2025-10-25T23:30", "2025-10-26", "2025-11-05", True),
        ("2025-10-26T00:30", "2025-10-15", "2025-10-25", False),
        ("2025-10-27T00:30", "2025-10-16", "2025-10-26", False),
    ],
)
async def test_reading_is_refused_outside_the_period_at_the_utility(
    client, settings, berlin_time, starts_on, ends_on, coming
):
    # given a manual meter whose period does not include the utility's date of `berlin_time`
    when = _berlin(berlin_time)

    # when the customer submits a reading
    payload, meter = await _submit_at(client, settings, when, starts_on, ends_on)

    # then it is refused, naming the period only while it is still to come; nothing is stored
    assert payload["reading"] is None
    (error,) = payload["errors"]
    assert error["code"] == "OUTSIDE_READING_PERIOD"
    named = (starts_on, ends_on) if coming else (None, None)
    assert (error["startsOn"], error["endsOn"]) == named
    assert not await MeterReading.filter(meter_id=meter.id).exists()
