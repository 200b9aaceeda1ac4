"""Step-up before sensitive changes, remembered devices, staff removal from the command
line, the GDPR export and deleting the profile, for logins with a second factor."""

from __future__ import annotations

import datetime as dt

import pytest

from models import (
    AuditEvent,
    AuthChallenge,
    AuthenticatorApp,
    Passkey,
    RecoveryCode,
    RememberedDevice,
)
from ops.purge import purge_all
from security import totp
from tests.conftest import gql
from tests.factories import PASSWORD, codes, register_and_login
from tests.second_factor_flows import (
    COMPLETE_LOGIN,
    OVERVIEW,
    START_STEP_UP,
    STEP_UP,
    add_app,
    add_passkey,
    call,
    device,
    password_login,
    with_relying_party,
)

CHANGE_PASSWORD = """mutation($c: String, $p: String!) {
  changePassword(input: { currentPassword: $c, newPassword: $p }) {
    errors { code field message }
  }
}"""
DELETE = """mutation($c: String) {
  deleteProfile(input: { currentPassword: $c }) { errors { code field } }
}"""
NEW_PASSWORD = "Hochbehälter#77"


@pytest.fixture
def settings(settings):
    return with_relying_party(settings)


def code_at(secret: str, offset: int = 0) -> str:
    return totp.code_at_step(secret, totp.step_at(dt.datetime.now(dt.UTC)) + offset)


async def complete_remembering(client, first: dict, secret: str) -> dict:
    """Finish a password login with the app's next code and "remember this device"."""
    token = first["secondFactor"]["token"]
    return await call(
        client,
        COMPLETE_LOGIN,
        {"input": {"token": token, "code": code_at(secret, 1), "rememberDevice": True}},
    )


async def test_sensitive_change_needs_a_fresh_second_factor(client, mailbox, clock):
    # given a login with an app that set it up eleven minutes ago
    token = await register_and_login(client, mailbox)
    secret, _ = await add_app(client, token)
    clock.shift(11 * 60)

    # when it changes its password with the right current password
    refused = await gql(client, CHANGE_PASSWORD, {"c": PASSWORD, "p": NEW_PASSWORD}, token=token)

    # then a fresh second factor is asked for, in the re-authentication's vocabulary
    assert codes(refused.data["changePassword"]) == ["SECOND_FACTOR_REQUIRED"]

    # and after a step-up with the app, the change goes through
    started = await call(client, START_STEP_UP, token=token)
    assert started["methods"] == ["AUTHENTICATOR_APP", "RECOVERY_CODE"]
    stepped = await call(client, STEP_UP, {"input": {"code": code_at(secret, 1)}}, token=token)
    assert stepped["errors"] == []
    assert dt.datetime.fromisoformat(stepped["validUntil"]) > dt.datetime.now(dt.UTC)
    done = await gql(client, CHANGE_PASSWORD, {"c": PASSWORD, "p": NEW_PASSWORD}, token=token)
    assert done.data["changePassword"]["errors"] == []
    assert await AuditEvent.filter(action="step_up").count() == 1


async def test_step_up_lasts_its_minutes(client, mailbox, clock):
    token = await register_and_login(client, mailbox)
    secret, _ = await add_app(client, token)
    clock.shift(60)
    await call(client, STEP_UP, {"input": {"code": code_at(secret, 1)}}, token=token)

    clock.shift(10 * 60 + 1)
    refused = await gql(client, DELETE, {"c": PASSWORD}, token=token)

    assert codes(refused.data["deleteProfile"]) == ["SECOND_FACTOR_REQUIRED"]
    overview = await call(client, OVERVIEW, token=token)
    assert overview["stepUpValidUntil"] is None


async def test_step_up_with_a_passkey_takes_its_challenge_once(client, mailbox, clock):
    token = await register_and_login(client, mailbox)
    laptop = device()
    await add_passkey(client, token, laptop)
    clock.shift(11 * 60)

    started = await call(client, START_STEP_UP, token=token)
    answer = laptop.get(started["passkeyOptions"])
    first = await call(client, STEP_UP, {"input": {"passkey": answer}}, token=token)
    again = await call(client, STEP_UP, {"input": {"passkey": answer}}, token=token)

    assert [c["id"] for c in started["passkeyOptions"]["allowCredentials"]] == [laptop.id]
    assert first["errors"] == []
    assert codes(again) == ["CHALLENGE_EXPIRED"]


async def test_wrong_password_is_still_reauthentication_required(client, mailbox):
    token = await register_and_login(client, mailbox)
    await add_app(client, token)
    refused = await gql(client, DELETE, {"c": "Falsch#123"}, token=token)
    assert codes(refused.data["deleteProfile"]) == ["REAUTHENTICATION_REQUIRED"]


async def test_login_without_a_second_factor_needs_no_step_up(client, mailbox):
    token = await register_and_login(client, mailbox)
    done = await gql(client, CHANGE_PASSWORD, {"c": PASSWORD, "p": NEW_PASSWORD}, token=token)
    assert done.data["changePassword"]["errors"] == []


async def test_remembered_device_skips_the_second_factor_for_its_days(client, mailbox, clock):
    # given a login with an app that completed a login with "remember this device"
    token = await register_and_login(client, mailbox)
    secret, _ = await add_app(client, token)
    first = await password_login(client)
    done = await complete_remembering(client, first, secret)
    headers = {"X-Device-Token": done["deviceToken"]}
    assert await RememberedDevice.all().count() == 1

    # when it logs in from that device within the days
    clock.shift(29 * 24 * 3600)
    again = await password_login(client, headers=headers)

    # then the session starts without a second factor, but sensitive changes ask for it
    assert again["secondFactor"] is None
    assert again["token"]
    refused = await gql(
        client, CHANGE_PASSWORD, {"c": PASSWORD, "p": NEW_PASSWORD}, token=again["token"]
    )
    assert codes(refused.data["changePassword"]) == ["SECOND_FACTOR_REQUIRED"]

    # and once the days are over, it asks again
    clock.shift(2 * 24 * 3600)
    later = await password_login(client, headers=headers)
    assert later["token"] is None
    assert later["secondFactor"]["token"]


async def test_a_device_not_remembered_is_asked_every_time(client, mailbox):
    token = await register_and_login(client, mailbox)
    secret, _ = await add_app(client, token)
    first = await password_login(client)
    done = await call(
        client,
        COMPLETE_LOGIN,
        {"input": {"token": first["secondFactor"]["token"], "code": code_at(secret, 1)}},
    )
    again = await password_login(client, headers={"X-Device-Token": done["deviceToken"]})
    assert again["secondFactor"] is not None


async def test_staff_remove_every_factor_with_a_reason(client, mailbox, settings, staff):
    # given a login with an app and a passkey that lost both
    token = await register_and_login(client, mailbox)
    await add_app(client, token)
    await add_passkey(client, token, device())
    login_id = (await Passkey.get()).login_id

    # when staff remove its factors after checking who is asking
    run = await staff(
        "remove-second-factors",
        "--email",
        "erika@example.org",
        "--reason",
        "identity checked at the counter, ticket 41",
        "--actor",
        "b.meier",
    )

    # then they are gone, the owner is told, and the audit says who and why
    assert run.code == 0, run.stderr
    assert "e***a@example.org" in run.stdout
    for model in (Passkey, AuthenticatorApp, RecoveryCode):
        assert await model.all().count() == 0
    mail = (await mailbox.wait_for("erika@example.org", 4))[-1]
    assert "Kundenservice" in mail.get_body(preferencelist=("plain",)).get_content()
    # (the login after the notice: it may mail a notice of its own, a new device)
    assert (await password_login(client))["token"]
    event = await AuditEvent.get(action="second_factors_removed_by_staff")
    assert event.actor == "staff:b.meier"
    assert event.login_id == login_id
    assert event.details == {"reason": "identity checked at the counter, ticket 41", "removed": 2}


async def test_staff_removal_needs_a_reason(client, staff):
    run = await staff("remove-second-factors", "--email", "a@b.example")
    assert run.code == 2
    assert "--reason" in run.stderr


async def test_export_lists_factors_by_name_and_date_never_secrets(client, mailbox):
    token = await register_and_login(client, mailbox)
    secret, recovery = await add_app(client, token)
    laptop = device()
    await add_passkey(client, token, laptop)

    exported = (await gql(client, "{ myDataExport }", token=token)).data["myDataExport"]

    factor = exported["secondFactor"]
    assert [p["name"] for p in factor["passkeys"]] == ["Laptop"]
    assert factor["passkeys"][0]["createdAt"]
    assert factor["authenticatorApp"]["createdAt"]
    assert factor["recoveryCodes"] == {"left": 10, "used": 0}
    text = str(exported)
    assert secret not in text
    assert laptop.id not in text
    assert all(code not in text for code in recovery or [])


async def test_deleting_the_profile_removes_its_factors(client, mailbox):
    token = await register_and_login(client, mailbox)
    await add_app(client, token)
    await add_passkey(client, token, device())

    done = await gql(client, DELETE, {"c": PASSWORD}, token=token)

    assert done.data["deleteProfile"]["errors"] == []
    for model in (Passkey, AuthenticatorApp, RecoveryCode, RememberedDevice):
        assert await model.all().count() == 0


SET_ONLINE = """mutation($consent: Boolean!, $password: String) {
  setOnlineCustomer(input: { consent: $consent, currentPassword: $password }) {
    errors { code field }
  }
}"""


async def test_customer_data_changes_ask_for_the_step_up_too(client, mailbox, clock):
    # given a login with an app whose second factor is eleven minutes old
    token = await register_and_login(client, mailbox)
    secret, _ = await add_app(client, token)
    clock.shift(11 * 60)

    # when it gives its online consent with the right password
    refused = await gql(client, SET_ONLINE, {"consent": True, "password": PASSWORD}, token=token)

    # then the customer area answers with the same code, and goes ahead after a step-up
    assert codes(refused.data["setOnlineCustomer"]) == ["SECOND_FACTOR_REQUIRED"]
    await call(client, STEP_UP, {"input": {"code": code_at(secret, 1)}}, token=token)
    done = await gql(client, SET_ONLINE, {"consent": True, "password": PASSWORD}, token=token)
    assert done.data["setOnlineCustomer"]["errors"] == []


async def test_purge_forgets_expired_challenges_and_remembered_devices(
    client, mailbox, clock, settings
):
    # given a login token, a passkey challenge and a remembered device
    token = await register_and_login(client, mailbox)
    secret, _ = await add_app(client, token)
    first = await password_login(client)
    await complete_remembering(client, first, secret)
    client.cookies.clear()  # another device, not remembered
    await password_login(client)  # its token left unused
    assert await AuthChallenge.all().count() == 2

    # when the purge runs before and after their time
    early = await purge_all(settings)
    clock.shift(31 * 24 * 3600)
    late = await purge_all(settings)

    # then they are gone only once expired
    assert early["second-factor challenges"] == 0
    assert late["second-factor challenges"] == 2
    assert late["remembered devices"] == 1
    assert await RememberedDevice.all().count() == 0


async def test_a_browser_is_remembered_by_its_device_cookie(client, mailbox):
    token = await register_and_login(client, mailbox)
    secret, _ = await add_app(client, token)
    first = await password_login(client)
    await complete_remembering(client, first, secret)
    assert client.cookies.get("kp_device")

    again = await password_login(client)  # sends the cookie the browser keeps

    assert again["secondFactor"] is None
    assert again["token"]
