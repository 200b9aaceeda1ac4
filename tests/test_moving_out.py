"""Moving out through the API: the report with its date bounds and forwarding address, the
final readings in their window, the confirmation mails, and the customer number read-only
after the final invoice."""

from __future__ import annotations

import datetime as dt

from dataio.importer import import_data
from models import AuditEvent, FinalReading, MoveOut
from tests.conftest import gql
from tests.factories import TODAY, logged_in, make_household, session_token

DAY = dt.timedelta(days=1)

REPORT = """
mutation Report($input: ReportMoveOutInput!) {
  reportMoveOut(input: $input) {
    moveOut {
      moveOutOn finalReadingFrom finalReadingUntil finalInvoiceNumber
      forwardingAddress { name street postalCode city country }
    }
    mailedTo
    errors { code field message earliest latest }
  }
}
"""
FINAL = """
mutation Final($input: SubmitFinalReadingInput!) {
  submitFinalReading(input: $input) {
    reading { value readOn source }
    meter { number }
    mailedTo
    errors { code field message startsOn endsOn lastValue finalInvoiceNumber }
  }
}
"""
MOVE_OUT = """
query {
  customer {
    number
    moveOut { moveOutOn finalReadings { meter { number } reading { value } } finalInvoiceNumber }
    readOnlyReason
  }
}
"""
CONSENT = """
mutation Consent($consent: Boolean!) {
  setOnlineCustomer(input: { consent: $consent }) { errors { code message } }
}
"""
SUBMIT = """
mutation Submit($input: SubmitReadingInput!) {
  submitReading(input: $input) {
    reading { value }
    errors { code field message finalInvoiceNumber }
  }
}
"""


def report_input(move_out_on: dt.date, **address: str) -> dict:
    return {
        "input": {
            "moveOutOn": move_out_on.isoformat(),
            "forwardingAddress": {
                "name": "Erika Mustermann",
                "street": "Neue Straße 2",
                "postalCode": "54321",
                "city": "Anderswo",
                **address,
            },
        }
    }


async def mover(settings, locale: str = "de"):
    household = await make_household(TODAY, "100001")
    login, token = await logged_in(
        settings, household.customer, email="erika@example.org", locale=locale
    )
    return household, login, token


async def test_move_out_is_recorded_confirmed_by_mail_and_audited(clock, client, settings, mailbox):
    household, _, token = await mover(settings)

    result = await gql(client, REPORT, report_input(TODAY + 20 * DAY), token=token)

    payload = result.data["reportMoveOut"]
    assert payload["errors"] == []
    assert payload["moveOut"]["moveOutOn"] == "2025-03-30"
    assert payload["moveOut"]["finalReadingFrom"] == "2025-03-16"
    assert payload["moveOut"]["finalReadingUntil"] == "2025-04-13"
    assert payload["moveOut"]["forwardingAddress"]["country"] == "DE"
    assert payload["mailedTo"] == "e***a@example.org"
    text = await mailbox.last_text("erika@example.org")
    assert "Auszugsdatum:   30.03.2025" in text
    assert "Neue Straße 2" in text
    assert "54321 Anderswo" in text
    assert household.main.number in text
    assert household.radio.number not in text
    assert await AuditEvent.filter(action="move_out_reported").count() == 1


async def test_move_out_date_out_of_bounds_is_refused_with_the_bounds(clock, client, settings):
    _, _, token = await mover(settings)

    too_early = await gql(client, REPORT, report_input(TODAY - 29 * DAY), token=token)
    too_late = await gql(
        client,
        REPORT,
        report_input(TODAY + 184 * DAY),
        token=token,
        headers={"Accept-Language": "en"},
    )

    for result in (too_early, too_late):
        [error] = result.data["reportMoveOut"]["errors"]
        assert error["code"] == "DATE_OUT_OF_RANGE"
        assert error["field"] == ["input", "moveOutOn"]
        assert (error["earliest"], error["latest"]) == ("2025-02-10", "2025-09-09")
    assert "10.02.2025" in too_early.data["reportMoveOut"]["errors"][0]["message"]
    assert (
        (too_late.data["reportMoveOut"]["errors"][0]["message"])
        == "Please choose a date between 2025-02-10 and 2025-09-09."
    )
    assert await MoveOut.all().count() == 0


async def test_forwarding_address_is_checked_field_by_field(clock, client, settings):
    _, _, token = await mover(settings)

    result = await gql(
        client,
        REPORT,
        report_input(TODAY, street=" ", postalCode="5432", city="x" * 101, country="Deutschland"),
        token=token,
    )

    errors = {tuple(e["field"]): e["code"] for e in result.data["reportMoveOut"]["errors"]}
    assert errors == {
        ("input", "forwardingAddress", "street"): "REQUIRED",
        ("input", "forwardingAddress", "city"): "TOO_LONG",
        ("input", "forwardingAddress", "country"): "COUNTRY_INVALID",
    }
    assert await MoveOut.all().count() == 0


async def test_a_second_move_out_is_refused(clock, client, settings, mailbox):
    _, _, token = await mover(settings)
    await gql(client, REPORT, report_input(TODAY + DAY), token=token)

    again = await gql(client, REPORT, report_input(TODAY + 2 * DAY), token=token)

    [error] = again.data["reportMoveOut"]["errors"]
    assert (error["code"], error["field"]) == ("MOVE_OUT_ALREADY_REPORTED", None)
    assert (await MoveOut.get()).move_out_on == TODAY + DAY


async def test_final_reading_in_the_window_is_stored_even_outside_reading_periods(
    clock, client, settings, mailbox
):
    household, login, token = await mover(settings)
    await gql(client, REPORT, report_input(TODAY + 40 * DAY), token=token)

    early = await gql(
        client,
        FINAL,
        {"input": {"meterNumber": household.main.number, "value": "1010"}},
        token=token,
    )
    clock.shift(30 * DAY)  # window opens 14 days before the move-out; the period is over
    token = await session_token(login, settings)  # a new session, 30 days on
    taken = await gql(
        client,
        FINAL,
        {"input": {"meterNumber": household.main.number, "value": "1010"}},
        token=token,
    )

    [error] = early.data["submitFinalReading"]["errors"]
    assert error["code"] == "OUTSIDE_FINAL_READING_WINDOW"
    # the window is the matter, not the value: no input is at fault
    assert (error["field"], error["startsOn"], error["endsOn"]) == (
        None,
        "2025-04-05",
        "2025-05-03",
    )
    assert taken.data["submitFinalReading"]["errors"] == []
    assert taken.data["submitFinalReading"]["reading"]["value"] == "1010.000"
    final = await FinalReading.get().prefetch_related("reading")
    assert final.meter_id == household.main.id
    view = await gql(client, MOVE_OUT, token=token)
    assert view.data["customer"]["moveOut"]["finalReadings"] == [
        {"meter": {"number": household.main.number}, "reading": {"value": "1010.000"}}
    ]


async def test_final_reading_has_the_plausibility_checks_of_every_reading(clock, client, settings):
    household, _, token = await mover(settings)
    await gql(client, REPORT, report_input(TODAY), token=token)

    below = await gql(
        client,
        FINAL,
        {"input": {"meterNumber": household.main.number, "value": "900"}},
        token=token,
    )
    radio = await gql(
        client,
        FINAL,
        {"input": {"meterNumber": household.radio.number, "value": "50"}},
        token=token,
    )

    assert below.data["submitFinalReading"]["errors"][0]["code"] == "BELOW_LAST_READING"
    assert radio.data["submitFinalReading"]["errors"][0]["code"] == "RADIO_METER"
    assert await FinalReading.all().count() == 0


async def test_final_reading_without_a_move_out_is_refused(clock, client, settings):
    household, _, token = await mover(settings)

    result = await gql(
        client,
        FINAL,
        {"input": {"meterNumber": household.main.number, "value": "1010"}},
        token=token,
    )

    assert result.data["submitFinalReading"]["errors"][0]["code"] == "NO_MOVE_OUT"


async def test_after_the_final_invoice_the_customer_is_read_only_and_says_why(
    clock, client, settings
):
    household, _, token = await mover(settings)
    await gql(client, REPORT, report_input(TODAY), token=token)
    text = b"kundennummer;rechnungsnummer;rechnungsdatum\n100001;S-2025-1;10.03.2025\n"
    assert (await import_data("final-invoices", text, "f.csv", today=TODAY)).ok

    view = await gql(client, MOVE_OUT, token=token)
    reading = await gql(
        client,
        SUBMIT,
        {"input": {"meterNumber": household.main.number, "value": "1010"}},
        token=token,
    )
    final = await gql(
        client,
        FINAL,
        {"input": {"meterNumber": household.main.number, "value": "1010"}},
        token=token,
    )
    consent = await gql(client, CONSENT, {"consent": True}, token=token)

    assert consent.data["setOnlineCustomer"]["errors"][0]["code"] == "CUSTOMER_CLOSED"
    assert view.data["customer"]["moveOut"]["finalInvoiceNumber"] == "S-2025-1"
    assert "Schlussrechnung S-2025-1" in view.data["customer"]["readOnlyReason"]
    for result, name in ((reading, "submitReading"), (final, "submitFinalReading")):
        [error] = result.data[name]["errors"]
        assert error["code"] == "CUSTOMER_CLOSED"
        assert error["finalInvoiceNumber"] == "S-2025-1"
        assert "Schlussrechnung S-2025-1" in error["message"]
