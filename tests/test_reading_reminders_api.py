"""What the front end shows of reading reminders: the meters due (until when, whether a
reminder went out), and the switch that turns reminders off."""

from __future__ import annotations

import datetime as dt

from models import ReminderOptOut
from resolvers.reminders import send_reading_reminders
from tests.conftest import gql
from tests.factories import TODAY, logged_in, make_household, make_reading

DUE = """
query {
  customer {
    number readingReminders
    dueMeters { meter { number } startsOn endsOn remindedAt }
  }
}
"""
SWITCH = """
mutation Switch($input: SetReadingRemindersInput!) {
  setReadingReminders(input: $input) {
    customer { number readingReminders }
    errors { code field message }
  }
}
"""


async def consenting_household(settings):
    household = await make_household(
        TODAY, "100001", online_consent=True, online_consent_at=dt.datetime.now(dt.UTC)
    )
    _, token = await logged_in(settings, household.customer, email="erika@example.org")
    return household, token


async def test_due_meters_show_the_open_period_and_whether_a_reminder_went_out(
    clock, client, settings, mailbox
):
    household, token = await consenting_household(settings)

    before = await gql(client, DUE, token=token)
    await send_reading_reminders(settings, today=TODAY)
    after = await gql(client, DUE, token=token)

    [due] = before.data["customer"]["dueMeters"]
    assert due["meter"]["number"] == household.main.number  # the radio meter is never due
    assert (due["startsOn"], due["endsOn"], due["remindedAt"]) == (
        "2025-02-28",
        "2025-03-30",
        None,
    )
    assert after.data["customer"]["dueMeters"][0]["remindedAt"] is not None


async def test_a_meter_with_a_reading_in_the_period_is_not_due(clock, client, settings):
    household, token = await consenting_household(settings)
    await make_reading(household.main, "1010.000", TODAY)

    result = await gql(client, DUE, token=token)

    assert result.data["customer"]["dueMeters"] == []


async def test_reminders_switched_off_are_not_mailed(clock, client, settings, mailbox):
    _, token = await consenting_household(settings)

    off = await gql(client, SWITCH, {"input": {"enabled": False}}, token=token)
    run = await send_reading_reminders(settings, today=TODAY)
    on = await gql(
        client, SWITCH, {"input": {"customer": {"number": "100001"}, "enabled": True}}, token=token
    )
    again = await send_reading_reminders(settings, today=TODAY)

    assert off.data["setReadingReminders"]["customer"] == {
        "number": "100001",
        "readingReminders": False,
    }
    assert run.mails == 0
    assert on.data["setReadingReminders"]["customer"]["readingReminders"] is True
    assert again.mails == 1
    assert await ReminderOptOut.all().count() == 0


async def test_switching_reminders_of_a_number_not_yours_is_not_found(clock, client, settings):
    await make_household(TODAY, "200002")
    _, token = await consenting_household(settings)

    result = await gql(
        client, SWITCH, {"input": {"customer": {"number": "200002"}, "enabled": False}}, token=token
    )

    [error] = result.data["setReadingReminders"]["errors"]
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", "customer"])
    assert await ReminderOptOut.all().count() == 0
