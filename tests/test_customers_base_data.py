"""Base data and online consent (R11, R12): a change is requested, shown and only
applied when confirmed (with the password when the login is not fresh); a
confirmation mail lists what changed."""

from __future__ import annotations

import datetime as dt

import pytest

from models import AuditEvent, Customer, OutboxMail
from tests.conftest import gql
from tests.factories import NOW, PASSWORD, logged_in, make_customer, make_login

REQUEST = """
mutation Request($input: RequestBaseDataChangeInput!) {
  requestBaseDataChange(input: $input) {
    change { id customerNumber changes { field oldText newText oldBoolean newBoolean } expiresAt }
    errors { code field message }
  }
}
"""
CONFIRM = """
mutation Confirm($id: ID!, $password: String) {
  confirmBaseDataChange(input: { id: $id, currentPassword: $password }) {
    customer {
      number
      baseData { name street postalCode city phone email }
      onlineConsent { given changedAt wordingVersion }
    }
    mailedTo
    errors { code field message }
  }
}
"""
SET_ONLINE = """
mutation SetOnline($consent: Boolean!, $password: String) {
  setOnlineCustomer(input: { consent: $consent, currentPassword: $password }) {
    customer { number onlineConsent { given changedAt wordingVersion } }
    mailedTo
    errors { code field message }
  }
}
"""
SWITCH = """
mutation Switch($number: String!) {
  switchCustomer(input: { customerNumber: $number }) { errors { code } }
}
"""
BASE_DATA = "query { customer { baseData { name street postalCode city phone email } } }"


def _text(old: str, new: str) -> dict[str, object]:
    """A text field's change as the API answers it: typed, no yes/no values."""
    return {"oldText": old, "newText": new, "oldBoolean": None, "newBoolean": None}


async def _user(settings, **fields):
    customer = await make_customer("100001", **fields)
    login, token = await logged_in(settings, customer, email="erika@example.org")
    return customer, login, token


async def test_request_shows_the_change_and_changes_nothing(clock, client, settings, mailbox):
    # given
    customer, _, token = await _user(settings)

    # when a new address is requested, with the unchanged name sent along
    result = await gql(
        client,
        REQUEST,
        {"input": {"name": "Erika Mustermann", "street": "Ringweg 4", "postalCode": "54321"}},
        token=token,
    )

    # then the answer lists only what differs, and the data is as before
    payload = result.data["requestBaseDataChange"]
    assert payload["errors"] == []
    assert payload["change"]["customerNumber"] == "100001"
    assert payload["change"]["changes"] == [
        {"field": "STREET", **_text("Hauptstraße 1", "Ringweg 4")},
        {"field": "POSTAL_CODE", **_text("12345", "54321")},
    ]
    expires_at = dt.datetime.fromisoformat(payload["change"]["expiresAt"])
    assert abs(expires_at - (NOW + dt.timedelta(minutes=30))) < dt.timedelta(seconds=30)
    stored = await Customer.get(id=customer.id)
    assert (stored.street, stored.postal_code) == ("Hauptstraße 1", "12345")
    assert mailbox.to("erika@example.org") == []


async def test_confirmation_applies_the_change_and_mails_what_changed(
    clock, client, settings, mailbox
):
    # given a requested change
    _, _, token = await _user(settings)
    requested = await gql(
        client,
        REQUEST,
        {"input": {"street": "Ringweg 4", "phone": "", "email": "neu@example.org"}},
        token=token,
    )
    change_id = requested.data["requestBaseDataChange"]["change"]["id"]

    # when it is confirmed (a fresh login needs no password)
    confirmed = await gql(client, CONFIRM, {"id": change_id}, token=token)

    # then it applies, and a mail lists the changes
    payload = confirmed.data["confirmBaseDataChange"]
    assert payload["errors"] == []
    assert payload["mailedTo"] == "e***a@example.org"
    assert payload["customer"]["baseData"] == {
        "name": "Erika Mustermann",
        "street": "Ringweg 4",
        "postalCode": "12345",
        "city": "Musterstadt",
        "phone": "",
        "email": "neu@example.org",
    }
    assert (await gql(client, BASE_DATA, token=token)).data["customer"]["baseData"][
        "street"
    ] == "Ringweg 4"
    text = await mailbox.last_text("erika@example.org")
    assert "Straße: Hauptstraße 1 -> Ringweg 4" in text
    assert "Telefon: +49 30 1234567 -> (leer)" in text
    assert "E-Mail-Adresse: erika.post@example.org -> neu@example.org" in text
    assert "Postleitzahl" not in text

    # and a second confirmation does nothing more
    again = await gql(client, CONFIRM, {"id": change_id}, token=token)
    assert [e["code"] for e in again.data["confirmBaseDataChange"]["errors"]] == [
        "CHANGE_ALREADY_CONFIRMED"
    ]


async def test_change_request_expires(clock, client, settings):
    # given a request left for longer than it is valid
    customer, _, token = await _user(settings)
    requested = await gql(client, REQUEST, {"input": {"city": "Neustadt"}}, token=token)
    change_id = requested.data["requestBaseDataChange"]["change"]["id"]
    clock.shift(dt.timedelta(minutes=settings.base_data_change_valid_minutes, seconds=1))

    # when
    result = await gql(client, CONFIRM, {"id": change_id, "password": PASSWORD}, token=token)

    # then
    assert [e["code"] for e in result.data["confirmBaseDataChange"]["errors"]] == ["CHANGE_EXPIRED"]
    assert (await Customer.get(id=customer.id)).city == "Musterstadt"


async def test_only_the_newest_request_can_be_confirmed(clock, client, settings):
    _, _, token = await _user(settings)
    first = await gql(client, REQUEST, {"input": {"city": "Altstadt"}}, token=token)
    await gql(client, REQUEST, {"input": {"city": "Neustadt"}}, token=token)

    result = await gql(
        client, CONFIRM, {"id": first.data["requestBaseDataChange"]["change"]["id"]}, token=token
    )

    assert [e["code"] for e in result.data["confirmBaseDataChange"]["errors"]] == ["NOT_FOUND"]


async def test_change_of_data_changed_meanwhile_is_refused(clock, client, settings):
    # given a request, then the billing system changes the same field
    customer, _, token = await _user(settings)
    requested = await gql(client, REQUEST, {"input": {"city": "Neustadt"}}, token=token)
    await Customer.filter(id=customer.id).update(city="Importstadt")

    # when
    result = await gql(
        client,
        CONFIRM,
        {"id": requested.data["requestBaseDataChange"]["change"]["id"]},
        token=token,
    )

    # then
    assert [e["code"] for e in result.data["confirmBaseDataChange"]["errors"]] == [
        "CHANGE_OUTDATED"
    ]
    assert (await Customer.get(id=customer.id)).city == "Importstadt"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("postalCode", "1234", "POSTAL_CODE_INVALID"),
        ("postalCode", "12345a", "POSTAL_CODE_INVALID"),
        ("phone", "12345", "PHONE_INVALID"),
        ("phone", "+49 (30) abc 123456", "PHONE_INVALID"),
        ("email", "erika@", "EMAIL_INVALID"),
        ("email", "erika example.org", "EMAIL_INVALID"),
        ("name", "   ", "REQUIRED"),
        ("city", "x" * 101, "TOO_LONG"),
    ],
)
async def test_invalid_base_data_is_refused(clock, client, settings, field, value, code):
    _, _, token = await _user(settings)

    result = await gql(client, REQUEST, {"input": {field: value}}, token=token)

    payload = result.data["requestBaseDataChange"]
    assert payload["change"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, ["input", field])]


async def test_valid_phone_and_postal_code_forms_are_taken(clock, client, settings):
    _, _, token = await _user(settings)
    result = await gql(
        client,
        REQUEST,
        {"input": {"phone": "+49 (030) 123-456/78", "postalCode": " 01067 "}},
        token=token,
    )
    assert result.data["requestBaseDataChange"]["errors"] == []


async def test_a_request_that_changes_nothing_is_refused(clock, client, settings):
    _, _, token = await _user(settings)
    result = await gql(client, REQUEST, {"input": {"city": "Musterstadt "}}, token=token)
    assert [e["code"] for e in result.data["requestBaseDataChange"]["errors"]] == [
        "NOTHING_CHANGED"
    ]


async def test_validation_messages_are_english_on_request(clock, client, settings):
    _, _, token = await _user(settings)
    result = await gql(
        client,
        REQUEST,
        {"input": {"postalCode": "1"}},
        token=token,
        headers={"Accept-Language": "en"},
    )
    assert result.data["requestBaseDataChange"]["errors"][0]["message"] == (
        "A postal code has exactly 5 digits."
    )


async def test_confirmation_needs_the_password_when_the_login_is_not_fresh(
    clock, client, settings, mailbox
):
    # given a session that logged in longer ago than reauth_minutes, and a request
    customer, _, token = await _user(settings)
    clock.shift(dt.timedelta(minutes=settings.reauth_minutes + 1))
    requested = await gql(client, REQUEST, {"input": {"city": "Neustadt"}}, token=token)
    change_id = requested.data["requestBaseDataChange"]["change"]["id"]

    # when it is confirmed without and with a wrong password
    missing = await gql(client, CONFIRM, {"id": change_id}, token=token)
    wrong = await gql(client, CONFIRM, {"id": change_id, "password": "Falsch!123"}, token=token)

    # then both are refused with the re-authentication code, and nothing changed
    for result in (missing, wrong):
        assert [
            (e["code"], e["field"]) for e in result.data["confirmBaseDataChange"]["errors"]
        ] == [("REAUTHENTICATION_REQUIRED", ["input", "currentPassword"])]
    assert (await Customer.get(id=customer.id)).city == "Musterstadt"

    # when it is confirmed with the right password
    right = await gql(client, CONFIRM, {"id": change_id, "password": PASSWORD}, token=token)

    # then it applies
    assert right.data["confirmBaseDataChange"]["errors"] == []
    assert (await Customer.get(id=customer.id)).city == "Neustadt"
    assert "Ort: Musterstadt -> Neustadt" in await mailbox.last_text("erika@example.org")


async def test_wrong_passwords_are_throttled(clock, client, settings):
    _, login, token = await _user(settings)
    for _ in range(settings.login_failures_per_login):
        await gql(client, SET_ONLINE, {"consent": True, "password": "Falsch!123"}, token=token)

    result = await gql(client, SET_ONLINE, {"consent": True, "password": PASSWORD}, token=token)

    assert result.errors[0]["extensions"]["code"] == "RATE_LIMITED"
    assert await AuditEvent.filter(login_id=login.id, action="reauthenticate").count() == 10


async def test_set_online_customer_records_time_login_and_wording_and_mails(
    clock, client, settings, mailbox
):
    # given
    customer, login, token = await _user(settings)

    # when the consent is given
    given = await gql(client, SET_ONLINE, {"consent": True, "password": PASSWORD}, token=token)

    # then it is recorded with time, login and wording version, and confirmed by mail
    payload = given.data["setOnlineCustomer"]
    assert payload["errors"] == []
    assert payload["mailedTo"] == "e***a@example.org"
    assert payload["customer"]["onlineConsent"]["given"] is True
    assert payload["customer"]["onlineConsent"]["wordingVersion"] == "2024-01"
    stored = await Customer.get(id=customer.id)
    assert stored.online_consent is True
    assert stored.online_consent_login_id == login.id
    assert abs(stored.online_consent_at - NOW) < dt.timedelta(minutes=1)
    text = await mailbox.last_text("erika@example.org")
    assert "der Online-Kommunikation zugestimmt" in text
    assert "10.03.2025, 10:0" in text  # local time in Germany
    assert "2024-01" in text

    # when it is withdrawn
    clock.shift(dt.timedelta(minutes=30))
    withdrawn = await gql(client, SET_ONLINE, {"consent": False, "password": PASSWORD}, token=token)

    # then the withdrawal is recorded and mailed too
    assert withdrawn.data["setOnlineCustomer"]["customer"]["onlineConsent"]["given"] is False
    stored = await Customer.get(id=customer.id)
    assert stored.online_consent is False
    assert stored.online_consent_at > NOW + dt.timedelta(minutes=29)
    assert "widerrufen" in await mailbox.last_text("erika@example.org", count=2)


async def test_set_online_customer_to_what_it_is_succeeds_without_change_or_mail(
    clock, client, settings
):
    # given a customer who consented
    customer, _, token = await _user(settings)
    await gql(client, SET_ONLINE, {"consent": True, "password": PASSWORD}, token=token)
    before = await Customer.get(id=customer.id)
    clock.shift(dt.timedelta(minutes=5))

    # when the consent is given again, and withdrawn twice
    again = await gql(client, SET_ONLINE, {"consent": True}, token=token)
    await gql(client, SET_ONLINE, {"consent": False, "password": PASSWORD}, token=token)
    withdrawn_again = await gql(client, SET_ONLINE, {"consent": False}, token=token)

    # then the repeats succeed as they are: no error, nothing recorded anew, nothing mailed
    payload = again.data["setOnlineCustomer"]
    assert payload["errors"] == []
    assert payload["mailedTo"] is None
    assert payload["customer"]["onlineConsent"]["given"] is True
    assert payload["customer"]["onlineConsent"]["changedAt"] == before.online_consent_at.isoformat()
    assert withdrawn_again.data["setOnlineCustomer"]["errors"] == []
    assert withdrawn_again.data["setOnlineCustomer"]["mailedTo"] is None
    assert await OutboxMail.filter(kind="online_consent_changed").count() == 2


async def test_set_online_customer_needs_the_password_when_the_login_is_not_fresh(
    clock, client, settings
):
    customer, _, token = await _user(settings)
    clock.shift(dt.timedelta(minutes=settings.reauth_minutes + 1))

    result = await gql(client, SET_ONLINE, {"consent": True}, token=token)

    assert [e["code"] for e in result.data["setOnlineCustomer"]["errors"]] == [
        "REAUTHENTICATION_REQUIRED"
    ]
    assert (await Customer.get(id=customer.id)).online_consent is False


async def test_consent_through_the_base_data_flow_is_mailed_with_the_changes(
    clock, client, settings, mailbox
):
    # given the FAQ's flow: edit base data, tick "Onlinekunde", confirm
    customer, login, token = await _user(settings)
    requested = await gql(client, REQUEST, {"input": {"onlineConsent": True}}, token=token)
    assert requested.data["requestBaseDataChange"]["change"]["changes"] == [
        {
            "field": "ONLINE_CONSENT",
            "oldText": None,
            "newText": None,
            "oldBoolean": False,
            "newBoolean": True,
        }
    ]
    assert (await Customer.get(id=customer.id)).online_consent is False

    # when
    change_id = requested.data["requestBaseDataChange"]["change"]["id"]
    result = await gql(client, CONFIRM, {"id": change_id, "password": PASSWORD}, token=token)

    # then
    assert result.data["confirmBaseDataChange"]["customer"]["onlineConsent"]["given"] is True
    stored = await Customer.get(id=customer.id)
    assert (stored.online_consent_login_id, stored.online_consent_version) == (login.id, "2024-01")
    assert "Onlinekunde: nein -> ja" in await mailbox.last_text("erika@example.org")


async def test_changes_apply_to_the_active_customer_only(clock, client, settings):
    # given a login with two numbers, a request made for the first
    first = await make_customer("100001")
    second = await make_customer("100002")
    _, token = await logged_in(settings, first, second)
    requested = await gql(client, REQUEST, {"input": {"city": "Neustadt"}}, token=token)

    # when the session switches to the second number and confirms
    await gql(client, SWITCH, {"number": "100002"}, token=token)
    result = await gql(
        client,
        CONFIRM,
        {"id": requested.data["requestBaseDataChange"]["change"]["id"]},
        token=token,
    )

    # then the request is not found in this context, and neither customer changed
    assert [e["code"] for e in result.data["confirmBaseDataChange"]["errors"]] == ["NOT_FOUND"]
    assert {c.city for c in await Customer.all()} == {"Musterstadt"}


async def test_another_logins_change_request_cannot_be_confirmed(clock, client, settings):
    # given someone else's pending request
    stranger = await make_customer("999999")
    _, stranger_token = await logged_in(settings, stranger)
    requested = await gql(client, REQUEST, {"input": {"city": "Fremdstadt"}}, token=stranger_token)
    change_id = requested.data["requestBaseDataChange"]["change"]["id"]
    _, _, token = await _user(settings)

    # when this user tries to confirm it
    result = await gql(client, CONFIRM, {"id": change_id, "password": PASSWORD}, token=token)

    # then
    assert [e["code"] for e in result.data["confirmBaseDataChange"]["errors"]] == ["NOT_FOUND"]
    assert (await Customer.get(id=stranger.id)).city == "Musterstadt"


async def test_anonymous_cannot_change_base_data(client):
    await make_login(await make_customer("100001"))
    result = await gql(client, REQUEST, {"input": {"city": "Neustadt"}})
    assert result.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_confirmation_mail_shows_entered_text_as_text_in_html(
    clock, client, settings, mailbox
):
    # given a street entered with markup in it
    _, _, token = await _user(settings)
    requested = await gql(client, REQUEST, {"input": {"street": "<b>Ring</b> & 4"}}, token=token)

    # when it is confirmed
    change_id = requested.data["requestBaseDataChange"]["change"]["id"]
    await gql(client, CONFIRM, {"id": change_id}, token=token)

    # then the HTML part shows it escaped, the text part as entered
    message = (await mailbox.wait_for("erika@example.org"))[-1]
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "&lt;b&gt;Ring&lt;/b&gt; &amp; 4" in html
    assert "<b>Ring" not in html
    assert "Straße: Hauptstraße 1 -> <b>Ring</b> & 4" in await mailbox.last_text(
        "erika@example.org"
    )


async def test_each_change_is_confirmed_by_a_new_mail_that_names_its_address(customer, mailbox):
    """R19: mails may land in spam, so every change is confirmed again, and the answer
    tells the user which address to look for it at."""
    # when the consent is given, withdrawn and given again
    answers = [
        (await customer.gql(SET_ONLINE, {"consent": consent, "password": PASSWORD})).data
        for consent in (True, False, True)
    ]

    # then each answer names the masked address, and each change has a mail of its own there
    assert [a["setOnlineCustomer"]["mailedTo"] for a in answers] == ["e***a@example.org"] * 3
    assert len(await mailbox.wait_for("erika@example.org", 3)) == 3
