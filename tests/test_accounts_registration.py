"""Registration (R1–R5) with the PIN (R4), through GraphQL, reading PINs from real mails."""

from __future__ import annotations

import datetime as dt

import pytest

from models import Login, OneTimeSecret
from resolvers.accounts import purge_accounts, purge_expired_registrations
from tests.conftest import gql, pin_from
from tests.factories import (
    CONFIRM_PIN,
    LOGIN,
    PASSWORD,
    REGISTER,
    close_to,
    codes,
    make_customer_with_proofs,
    register,
    register_and_login,
    register_input,
)

RESEND_PIN = """
mutation ResendPin($email: String!) {
  resendPin(input: { email: $email }) {
    errors { code field message }
    mailedTo expiresAt resendAvailableAt
  }
}
"""

ME = "{ me { email customerNumbers confirmedAt } }"


def at(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


# ---------------------------------------------------------------- R1, R4: the happy path


async def test_register_with_latest_invoice_mails_pin_and_confirms(client, mailbox):
    # given a customer with an annual bill
    customer = await make_customer_with_proofs("100001")
    now = dt.datetime.now(dt.UTC)

    # when they register with the latest invoice's number
    result = await gql(client, REGISTER, register_input(customer, email="Erika.M@Example.org"))

    # then a PIN is mailed, the masked address and the countdowns are returned
    payload = result.data["register"]
    assert payload["errors"] == []
    assert payload["mailedTo"] == "E***M@Example.org"
    assert close_to(payload["expiresAt"], now + dt.timedelta(minutes=15))
    assert close_to(payload["resendAvailableAt"], now + dt.timedelta(minutes=5))
    assert close_to(payload["registrationExpiresAt"], now + dt.timedelta(hours=24))
    mail = (await mailbox.wait_for("Erika.M@Example.org"))[0]
    assert mail["Subject"] == "Ihr PIN für die Registrierung im Kundenportal"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "15 Minuten gültig" in text
    pin = pin_from(text)
    assert pin in mail.get_body(preferencelist=("html",)).get_content()

    # and the PIN confirms the login, which can then log in (e-mail without regard to case)
    confirmed = await gql(client, CONFIRM_PIN, {"email": "erika.m@example.org", "pin": pin})
    assert confirmed.data["confirmPin"] == {"errors": [], "confirmed": True}
    login = await gql(client, LOGIN, {"email": "erika.m@example.org", "password": PASSWORD})
    assert login.data["login"]["errors"] == []
    me = await gql(client, ME, token=login.data["login"]["token"])
    assert me.data["me"]["email"] == "Erika.M@Example.org"
    assert me.data["me"]["customerNumbers"] == ["100001"]


async def test_register_with_main_meter_number(client, mailbox):
    customer = await make_customer_with_proofs("100002")
    result = await gql(client, REGISTER, register_input(customer, meter=customer.main_meter))
    assert result.data["register"]["errors"] == []
    await mailbox.wait_for("erika@example.org")


async def test_pin_is_stored_only_as_a_hash(client, mailbox):
    customer = await make_customer_with_proofs()
    pin = await register(client, mailbox, customer, confirm=False)
    secret = await OneTimeSecret.get()
    assert pin not in secret.secret_hash
    assert pin not in str(secret.payload)
    assert len(secret.secret_hash) == 64


# -------------------------------------------------------------------- R1: the proof


@pytest.mark.parametrize(
    "proof",
    [
        pytest.param({"customerNumber": "999999"}, id="unknown-customer"),
        pytest.param({"invoiceNumber": "R-A-100001"}, id="older-invoice"),
        pytest.param({"invoiceNumber": "R-B-100002"}, id="invoice-of-another-customer"),
        pytest.param({"meterNumber": "F-100001", "invoiceNumber": None}, id="not-the-main-meter"),
        pytest.param(
            {"meterNumber": "Z-100001", "invoiceNumber": "R-A-100001"}, id="one-of-two-wrong"
        ),
    ],
)
async def test_wrong_customer_invoice_or_meter_give_one_error(client, mailbox, proof):
    # given two customers
    customer = await make_customer_with_proofs("100001")
    await make_customer_with_proofs("100002")
    variables = register_input(customer)
    variables["input"].update(proof)
    variables["input"] = {k: v for k, v in variables["input"].items() if v is not None}

    # when the proof does not match
    result = await gql(client, REGISTER, variables)

    # then the error does not say which number was wrong, and nothing was created
    assert result.data["register"]["errors"] == [
        {
            "code": "CUSTOMER_NOT_VERIFIED",
            "field": None,
            "message": "Kundennummer und Rechnungs- bzw. Zählernummer passen nicht zusammen. "
            "Bitte prüfen Sie Ihre Angaben auf Ihrer letzten Rechnung.",
        }
    ]
    assert result.data["register"]["mailedTo"] is None
    assert await Login.all().count() == 0


async def test_register_without_invoice_or_meter_number_is_refused(client, mailbox):
    customer = await make_customer_with_proofs()
    variables = register_input(customer)
    del variables["input"]["invoiceNumber"]
    result = await gql(client, REGISTER, variables)
    assert codes(result.data["register"]) == ["PROOF_REQUIRED"]


async def test_register_refused_without_annual_bill(client, mailbox):
    # R2: only invoices of another kind so far
    customer = await make_customer_with_proofs("100003", annual_bill=False)
    result = await gql(client, REGISTER, register_input(customer))
    assert codes(result.data["register"]) == ["NO_ANNUAL_BILL"]
    assert await Login.all().count() == 0


async def test_wrong_proofs_are_limited_per_customer_number(client, mailbox, settings):
    # given a customer number someone is guessing invoice numbers for
    settings.proof_failures_per_customer = 3
    customer = await make_customer_with_proofs()
    for guess in ("R-1", "R-2", "R-3"):
        result = await gql(client, REGISTER, register_input(customer, invoice=guess))
        assert codes(result.data["register"]) == ["CUSTOMER_NOT_VERIFIED"]

    # when the next attempt comes, even with the right number
    result = await gql(client, REGISTER, register_input(customer))

    # then it is refused until the day has passed
    assert result.errors[0]["extensions"]["code"] == "RATE_LIMITED"
    assert result.response.status_code == 429
    assert int(result.response.headers["Retry-After"]) > 23 * 3600


async def test_registrations_are_limited_per_client_address(client, mailbox, settings):
    settings.register_attempts_per_address = 2
    customer = await make_customer_with_proofs()
    for _ in range(2):
        await gql(client, REGISTER, register_input(customer, invoice="R-X"))
    result = await gql(client, REGISTER, register_input(customer))
    assert result.errors[0]["extensions"]["code"] == "RATE_LIMITED"
    assert result.errors[0]["extensions"]["retryAfter"] > 0
    assert result.data is None or result.data.get("register") is None


# -------------------------------------------------------------------- R3: the password


@pytest.mark.parametrize(
    ("password", "code", "message"),
    [
        ("Ab1!xyz", "PASSWORD_TOO_SHORT", "Das Passwort muss mindestens 8 Zeichen lang sein."),
        (
            "abcdefgh1!",
            "PASSWORD_CHARACTER_CLASSES_MISSING",
            "Das Passwort muss Großbuchstaben, Kleinbuchstaben, Ziffern und Sonderzeichen "
            "enthalten. Es fehlen: Großbuchstaben.",
        ),
        (
            "Abcdefghij",
            "PASSWORD_CHARACTER_CLASSES_MISSING",
            "Das Passwort muss Großbuchstaben, Kleinbuchstaben, Ziffern und Sonderzeichen "
            "enthalten. Es fehlen: Ziffern, Sonderzeichen.",
        ),
        (
            "Ä" * 35 + "a1!",  # 38 characters, 73 bytes of UTF-8
            "PASSWORD_TOO_LONG",
            "Das Passwort ist zu lang: höchstens 72 Byte (etwa 72 Zeichen ohne Umlaute).",
        ),
        (
            "Erika.Mustermann#7",
            "PASSWORD_CONTAINS_PERSONAL_DATA",
            "Das Passwort darf weder Ihre E-Mail-Adresse noch Ihre Kundennummer enthalten.",
        ),
        (
            "Wasser#100001",
            "PASSWORD_CONTAINS_PERSONAL_DATA",
            "Das Passwort darf weder Ihre E-Mail-Adresse noch Ihre Kundennummer enthalten.",
        ),
        (
            "Sommer2024!",
            "PASSWORD_TOO_COMMON",
            "Dieses Passwort ist zu verbreitet und leicht zu erraten. Bitte wählen Sie ein "
            "anderes.",
        ),
        (
            "P@ssw0rd123!",
            "PASSWORD_TOO_COMMON",
            "Dieses Passwort ist zu verbreitet und leicht zu erraten. Bitte wählen Sie ein "
            "anderes.",
        ),
    ],
    ids=[
        "short",
        "no-upper",
        "no-digit-no-special",
        "over-72-bytes",
        "email",
        "customer",
        "common",
        "common-dressed-up",
    ],
)
async def test_password_policy_refuses_with_a_clear_message(
    client, mailbox, password, code, message
):
    customer = await make_customer_with_proofs("100001")
    variables = register_input(customer, email="erika.mustermann@example.org", password=password)
    result = await gql(client, REGISTER, variables)
    assert {"code": code, "field": ["input", "password"], "message": message} in result.data[
        "register"
    ]["errors"]
    assert await Login.all().count() == 0


async def test_password_of_exactly_72_bytes_works(client, mailbox):
    password = "Ä" * 34 + "a1!#"  # 72 bytes
    assert len(password.encode()) == 72
    customer = await make_customer_with_proofs()
    await register(client, mailbox, customer, password=password)
    result = await gql(client, LOGIN, {"email": "erika@example.org", "password": password})
    assert result.data["login"]["errors"] == []


async def test_errors_are_in_english_on_request(client, mailbox):
    customer = await make_customer_with_proofs()
    result = await gql(
        client,
        REGISTER,
        register_input(customer, password="short"),
        headers={"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"},
    )
    messages = [e["message"] for e in result.data["register"]["errors"]]
    assert "The password must be at least 8 characters long." in messages


# ------------------------------------------------------------------------ R5: one login


async def test_customer_number_already_registered_is_refused(client, mailbox):
    # given a confirmed login holding the customer number
    customer = await make_customer_with_proofs()
    await register(client, mailbox, customer)

    # when someone else registers it
    result = await gql(client, REGISTER, register_input(customer, email="max@example.org"))

    # then it is refused
    assert codes(result.data["register"]) == ["CUSTOMER_NUMBER_TAKEN"]


async def test_address_in_use_is_refused(client, mailbox):
    first, second = (
        await make_customer_with_proofs("100001"),
        await make_customer_with_proofs("100002"),
    )
    await register(client, mailbox, first)
    result = await gql(client, REGISTER, register_input(second, email="ERIKA@example.org"))
    assert codes(result.data["register"]) == ["EMAIL_IN_USE"]


async def test_unconfirmed_registration_holds_the_number_until_it_expires(client, mailbox, clock):
    # given a registration never confirmed
    customer = await make_customer_with_proofs()
    await register(client, mailbox, customer, confirm=False)

    # then the customer number is held for now
    result = await gql(client, REGISTER, register_input(customer, email="max@example.org"))
    assert codes(result.data["register"]) == ["REGISTRATION_PENDING"]
    assert "24 Stunden" in result.data["register"]["errors"][0]["message"]

    # when 24 hours have passed
    clock.shift(dt.timedelta(hours=24, minutes=1))

    # then someone else can register it, and the old address has no login any more
    await register(client, mailbox, customer, email="max@example.org")
    assert await Login.filter(email_key="erika@example.org").count() == 0


async def test_purge_accounts_removes_expired_sessions_and_secrets(
    client, mailbox, settings, clock
):
    # given a logged-in login with a reset link, and a registration never confirmed
    token = await register_and_login(client, mailbox)
    await gql(
        client,
        'mutation { requestPasswordReset(input: { email: "erika@example.org" }) { mailedTo } }',
    )
    await register(
        client,
        mailbox,
        await make_customer_with_proofs("100002"),
        email="max@example.org",
        confirm=False,
    )

    # when the scheduled purge runs after every timeout has passed
    clock.shift(dt.timedelta(days=15))
    removed = await purge_accounts(settings)

    # then sessions, expired PINs and links and the stale registration are gone
    assert removed == {"registrations": 1, "secrets": 2, "sessions": 1}
    assert await OneTimeSecret.all().count() == 0
    assert (await gql(client, ME, token=token)).data["me"] is None


async def test_purge_removes_expired_registrations_and_frees_the_number(
    client, mailbox, settings, clock
):
    # given a registration that was never confirmed, and a confirmed one
    pending, confirmed = (
        await make_customer_with_proofs("100001"),
        await make_customer_with_proofs("100002"),
    )
    await register(client, mailbox, pending, confirm=False)
    await register(client, mailbox, confirmed, email="max@example.org")

    # when the scheduled purge runs a day later
    clock.shift(dt.timedelta(hours=25))
    removed = await purge_expired_registrations(settings)

    # then only the pending registration is gone, and its number registers again at once
    assert removed == 1
    assert await Login.filter(email_key="max@example.org").exists()
    await register(client, mailbox, pending, email="neu@example.org")


# ------------------------------------------------------------------------------ R4: PIN


async def test_pending_login_is_told_to_confirm_its_pin(client, mailbox):
    customer = await make_customer_with_proofs()
    await register(client, mailbox, customer, confirm=False)
    result = await gql(client, LOGIN, {"email": "erika@example.org", "password": PASSWORD})
    assert codes(result.data["login"]) == ["LOGIN_NOT_CONFIRMED"]
    assert result.data["login"]["token"] is None


async def test_pending_login_with_wrong_password_gets_the_usual_error(client, mailbox):
    customer = await make_customer_with_proofs()
    await register(client, mailbox, customer, confirm=False)
    result = await gql(client, LOGIN, {"email": "erika@example.org", "password": "Wrong#Pass1"})
    assert codes(result.data["login"]) == ["INVALID_CREDENTIALS"]


async def test_pin_expires_after_15_minutes(client, mailbox, clock):
    customer = await make_customer_with_proofs()
    pin = await register(client, mailbox, customer, confirm=False)
    clock.shift(dt.timedelta(minutes=15, seconds=1))
    result = await gql(client, CONFIRM_PIN, {"email": "erika@example.org", "pin": pin})
    assert codes(result.data["confirmPin"]) == ["PIN_EXPIRED"]
    assert result.data["confirmPin"]["confirmed"] is False


@pytest.mark.parametrize(
    ("language", "five", "one"),
    [
        ("de", "in 5 Minuten angefordert", "in 1 Minute angefordert"),
        ("en", "requested in 5 minutes.", "requested in 1 minute."),
    ],
)
async def test_the_wait_for_a_new_pin_is_said_in_proper_singular_and_plural(
    client, mailbox, clock, language, five, one
):
    # given a registration whose PIN was mailed just now
    customer = await make_customer_with_proofs()
    await register(client, mailbox, customer, confirm=False)
    language_header = {"Accept-Language": language}

    # when a new PIN is asked for at once, and again with less than a minute to wait
    early = await gql(client, RESEND_PIN, {"email": "erika@example.org"}, headers=language_header)
    clock.shift(dt.timedelta(minutes=4, seconds=10))
    later = await gql(client, RESEND_PIN, {"email": "erika@example.org"}, headers=language_header)

    # then each message says the minutes in the word form that fits the number
    assert five in early.data["resendPin"]["errors"][0]["message"]
    assert one in later.data["resendPin"]["errors"][0]["message"]


async def test_pin_still_works_just_before_15_minutes(client, mailbox, clock):
    customer = await make_customer_with_proofs()
    pin = await register(client, mailbox, customer, confirm=False)
    clock.shift(dt.timedelta(minutes=14, seconds=50))
    result = await gql(client, CONFIRM_PIN, {"email": "erika@example.org", "pin": pin})
    assert result.data["confirmPin"] == {"errors": [], "confirmed": True}


async def test_new_pin_only_after_5_minutes_and_it_voids_the_old(client, mailbox, clock):
    # given a registration whose PIN was mailed just now
    customer = await make_customer_with_proofs()
    first_pin = await register(client, mailbox, customer, confirm=False)
    registered_at = dt.datetime.now(dt.UTC)

    # when a new PIN is asked for at once, then it is refused and says when
    early = await gql(client, RESEND_PIN, {"email": "erika@example.org"})
    payload = early.data["resendPin"]
    assert codes(payload) == ["RESEND_NOT_YET_AVAILABLE"]
    assert payload["errors"][0]["message"] == (
        "Eine neue E-Mail kann erst in 5 Minuten angefordert werden."
    )
    assert close_to(payload["resendAvailableAt"], registered_at + dt.timedelta(minutes=5))

    # when 5 minutes have passed, then a new PIN is mailed with fresh countdowns
    clock.shift(dt.timedelta(minutes=5))
    again = await gql(client, RESEND_PIN, {"email": "erika@example.org"})
    payload = again.data["resendPin"]
    assert payload["errors"] == []
    assert payload["mailedTo"] == "e***a@example.org"
    now = dt.datetime.now(dt.UTC)
    assert close_to(payload["expiresAt"], now + dt.timedelta(minutes=15))
    assert close_to(payload["resendAvailableAt"], now + dt.timedelta(minutes=5))
    second_pin = pin_from(await mailbox.last_text("erika@example.org", 2))

    # and the old PIN no longer works, the new one does
    if first_pin != second_pin:
        old = await gql(client, CONFIRM_PIN, {"email": "erika@example.org", "pin": first_pin})
        assert codes(old.data["confirmPin"]) == ["PIN_INVALID"]
    new = await gql(client, CONFIRM_PIN, {"email": "erika@example.org", "pin": second_pin})
    assert new.data["confirmPin"]["confirmed"] is True


async def test_five_wrong_entries_void_the_pin(client, mailbox, clock):
    customer = await make_customer_with_proofs()
    pin = await register(client, mailbox, customer, confirm=False)
    wrong = f"{(int(pin) + 1) % 1_000_000:06d}"
    answers = []
    for _ in range(5):
        result = await gql(client, CONFIRM_PIN, {"email": "erika@example.org", "pin": wrong})
        answers += codes(result.data["confirmPin"])
    assert answers == ["PIN_INVALID"] * 4 + ["PIN_VOID"]

    # the right PIN no longer helps
    result = await gql(client, CONFIRM_PIN, {"email": "erika@example.org", "pin": pin})
    assert codes(result.data["confirmPin"]) == ["PIN_VOID"]

    # a new PIN does, once the resend time has come
    clock.shift(dt.timedelta(minutes=5))
    resent = await gql(client, RESEND_PIN, {"email": "erika@example.org"})
    assert resent.data["resendPin"]["errors"] == []
    new_pin = pin_from(await mailbox.last_text("erika@example.org", 2))
    result = await gql(client, CONFIRM_PIN, {"email": "erika@example.org", "pin": new_pin})
    assert result.data["confirmPin"]["confirmed"] is True


async def test_resend_pin_answers_the_same_for_an_address_without_registration(client, mailbox):
    from models import OutboxMail

    result = await gql(client, RESEND_PIN, {"email": "nobody@example.org"})
    payload = result.data["resendPin"]
    assert payload["errors"] == []
    assert payload["mailedTo"] == "n***y@example.org"
    assert payload["expiresAt"]
    assert payload["resendAvailableAt"]
    again = await gql(client, RESEND_PIN, {"email": "nobody@example.org"})
    assert codes(again.data["resendPin"]) == ["RESEND_NOT_YET_AVAILABLE"]
    assert await OutboxMail.filter(recipient="nobody@example.org").count() == 0


async def test_confirm_pin_for_unknown_address_is_just_a_wrong_pin(client, mailbox):
    result = await gql(client, CONFIRM_PIN, {"email": "nobody@example.org", "pin": "123456"})
    assert codes(result.data["confirmPin"]) == ["PIN_INVALID"]


async def test_pin_entries_are_limited_per_client_address(client, mailbox, settings):
    settings.pin_attempts_per_address = 3
    for _ in range(3):
        await gql(client, CONFIRM_PIN, {"email": "x@example.org", "pin": "000000"})
    result = await gql(client, CONFIRM_PIN, {"email": "x@example.org", "pin": "000000"})
    assert result.errors[0]["extensions"]["code"] == "RATE_LIMITED"


async def test_addresses_with_non_ascii_letters_register_in_lower_case(client, mailbox):
    customer = await make_customer_with_proofs()
    refused = await gql(client, REGISTER, register_input(customer, email="JÖRG@example.org"))
    assert codes(refused.data["register"]) == ["EMAIL_INVALID"]
    await register(client, mailbox, customer, email="jörg@example.org")
