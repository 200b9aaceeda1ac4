"""The login's preferred language: taken from Accept-Language at registration, then set by
the customer; every mail to the login is written in it, whatever a later login asks for."""

from __future__ import annotations

from models import Login
from tests.conftest import gql
from tests.factories import (
    CONFIRM_PIN,
    REGISTER,
    log_in,
    make_customer_with_proofs,
    pin_from,
    register,
    register_input,
)

ME = "{ me { email preferredLanguage } }"
SET_LANGUAGE = """
mutation SetLanguage($input: SetPreferredLanguageInput!) {
  setPreferredLanguage(input: $input) {
    errors { code field message }
    preferredLanguage
  }
}
"""
PHONE = {"User-Agent": "Stadtwerke-App/3.1 (iPhone)"}


async def test_registration_takes_the_language_from_accept_language(client, mailbox):
    # when a customer registers from an English browser
    english = {"Accept-Language": "en-GB,en;q=0.9"}
    customer = await make_customer_with_proofs()
    result = await gql(client, REGISTER, register_input(customer), headers=english)
    assert result.data["register"]["errors"] == []
    pin = pin_from(await mailbox.last_text("erika@example.org", 1))
    await gql(client, CONFIRM_PIN, {"email": "erika@example.org", "pin": pin}, headers=english)

    # then the account's language is English, also for a login from a German browser
    token = (await log_in(client, headers={"Accept-Language": "de"}))["token"]
    me = await gql(client, ME, token=token)
    assert me.data["me"]["preferredLanguage"] == "EN"


async def test_a_login_in_another_language_does_not_change_the_mail_language(client, mailbox):
    # given a login registered in German
    await register(client, mailbox, await make_customer_with_proofs())
    await log_in(client)

    # when it logs in from a new device whose browser asks for English
    payload = await log_in(client, headers={**PHONE, "Accept-Language": "en"})

    # then the notice is German, and the account stays German
    assert payload["mailedTo"] == "e***a@example.org"
    mail = (await mailbox.wait_for("erika@example.org", 2))[-1]
    assert mail["Subject"] == "Neue Anmeldung in Ihrem Benutzerkonto"
    me = await gql(client, ME, token=payload["token"])
    assert me.data["me"]["preferredLanguage"] == "DE"


async def test_the_chosen_language_is_shown_and_used_for_every_later_mail(client, mailbox):
    # given a login registered in German
    await register(client, mailbox, await make_customer_with_proofs())
    token = (await log_in(client))["token"]

    # when the customer chooses English
    result = await gql(client, SET_LANGUAGE, {"input": {"language": "EN"}}, token=token)

    # then it is stored and shown on the account
    assert result.data["setPreferredLanguage"] == {"errors": [], "preferredLanguage": "EN"}
    assert (await gql(client, ME, token=token)).data["me"]["preferredLanguage"] == "EN"
    stored = await Login.get(email_key="erika@example.org")
    assert stored.preferred_language == "en"

    # and a mail caused by a request from a German browser is English
    await log_in(client, headers={**PHONE, "Accept-Language": "de"})
    mail = (await mailbox.wait_for("erika@example.org", 2))[-1]
    assert mail["Subject"] == "New login to your account"


async def test_setting_the_language_needs_a_login(client):
    result = await gql(client, SET_LANGUAGE, {"input": {"language": "EN"}})
    assert result.data is None
    assert result.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_unknown_language_is_refused_by_the_schema(client, mailbox):
    await register(client, mailbox, await make_customer_with_proofs())
    token = (await log_in(client))["token"]
    result = await gql(client, SET_LANGUAGE, {"input": {"language": "FR"}}, token=token)
    assert result.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await gql(client, ME, token=token)).data["me"]["preferredLanguage"] == "DE"
