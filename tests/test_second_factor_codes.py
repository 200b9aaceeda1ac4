"""Authenticator apps (TOTP) and recovery codes end to end through GraphQL: enrolment,
login at time-step edges with a frozen clock, replayed codes, codes with letters,
recovery codes used once, and the throttling of wrong codes."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from models import AuditEvent, AuthenticatorApp, RecoveryCode
from security import totp
from tests.factories import PASSWORD, codes, register_and_login
from tests.second_factor_flows import (
    COMPLETE_LOGIN,
    CONFIRM_APP,
    OVERVIEW,
    REGENERATE,
    REMOVE_APP,
    START_APP,
    add_app,
    call,
    password_login,
    with_relying_party,
)

STEP_START = dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=dt.UTC)  # first second of a 30 s step
STEP = totp.step_at(STEP_START)


@pytest.fixture
def settings(settings):
    return with_relying_party(settings)


async def complete(client, token: str, **answer):
    return await call(client, COMPLETE_LOGIN, {"input": {"token": token, **answer}})


async def login_with_code(client, code: str):
    first = await password_login(client)
    return await complete(client, first["secondFactor"]["token"], code=code)


async def test_enrolment_shows_an_otpauth_uri_and_the_first_code_confirms_it(client, mailbox):
    # given a logged-in login
    token = await register_and_login(client, mailbox)

    # when it starts setting up an app
    started = await call(client, START_APP, {"input": {"currentPassword": PASSWORD}}, token=token)

    # then it gets the QR code's URI with issuer and account, not yet a factor
    assert started["errors"] == []
    assert started["otpauthUri"].startswith("otpauth://totp/")
    assert "issuer=Stadtwerke%20Musterstadt%20Wasser" in started["otpauthUri"]
    assert "erika%40example.org" in started["otpauthUri"]
    assert (await call(client, OVERVIEW, token=token))["enabled"] is False
    # the secret is stored encrypted
    assert started["secret"] not in (await AuthenticatorApp.get()).secret_sealed

    # when the app's first code confirms it
    code = totp.code_at_step(started["secret"], totp.step_at(dt.datetime.now(dt.UTC)))
    done = await call(client, CONFIRM_APP, {"input": {"code": code}}, token=token)

    # then it is the second factor, with ten recovery codes, and the owner is told
    assert done["errors"] == []
    assert len(done["recoveryCodes"]) == 10
    overview = await call(client, OVERVIEW, token=token)
    assert overview["enabled"] is True
    assert overview["authenticatorApp"]["createdAt"]
    mail = (await mailbox.wait_for("erika@example.org", 2))[-1]
    assert "Authenticator-App" in mail.get_body(preferencelist=("plain",)).get_content()
    assert await AuditEvent.filter(action="authenticator_app_added").count() == 1


async def test_enrolment_with_a_wrong_first_code_stays_pending(client, mailbox):
    token = await register_and_login(client, mailbox)
    started = await call(client, START_APP, {"input": {"currentPassword": PASSWORD}}, token=token)
    right = totp.code_at_step(started["secret"], totp.step_at(dt.datetime.now(dt.UTC)))
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    done = await call(client, CONFIRM_APP, {"input": {"code": wrong}}, token=token)

    assert codes(done) == ["CODE_INVALID"]
    assert done["errors"][0]["field"] == ["input", "code"]
    assert (await call(client, OVERVIEW, token=token))["enabled"] is False


async def test_enrolment_needs_the_current_password(client, mailbox):
    token = await register_and_login(client, mailbox)
    done = await call(client, START_APP, {"input": {"currentPassword": "Falsch#123"}}, token=token)
    assert codes(done) == ["REAUTHENTICATION_REQUIRED"]
    assert done["errors"][0]["field"] == ["input", "currentPassword"]
    assert await AuthenticatorApp.all().count() == 0


async def test_codes_one_step_either_side_are_accepted_at_the_step_edges(client, mailbox):
    with time_machine.travel(STEP_START, tick=False) as frozen:
        # given a login whose app was confirmed with the code of step S
        token = await register_and_login(client, mailbox)
        secret, _ = await add_app(client, token)

        # at the first instant of step S+2, the code of S+1 (one step back) is accepted
        frozen.move_to(STEP_START + dt.timedelta(seconds=60))
        done = await login_with_code(client, totp.code_at_step(secret, STEP + 1))
        assert done["errors"] == []
        assert done["token"]

        # at the last instant of step S+4, the code of S+5 (one step ahead) is accepted
        frozen.move_to(STEP_START + dt.timedelta(seconds=149, microseconds=999_999))
        done = await login_with_code(client, totp.code_at_step(secret, STEP + 5))
        assert done["errors"] == []

        # at the first instant of step S+8, the code of S+6 (two steps back) is not
        frozen.move_to(STEP_START + dt.timedelta(seconds=240))
        done = await login_with_code(client, totp.code_at_step(secret, STEP + 6))
        assert codes(done) == ["CODE_INVALID"]
        # nor the code of S+10 (two steps ahead)
        done = await login_with_code(client, totp.code_at_step(secret, STEP + 10))
        assert codes(done) == ["CODE_INVALID"]


async def test_a_code_is_never_accepted_twice(client, mailbox):
    with time_machine.travel(STEP_START, tick=False) as frozen:
        token = await register_and_login(client, mailbox)
        secret, _ = await add_app(client, token)
        frozen.move_to(STEP_START + dt.timedelta(seconds=35))
        code = totp.code_at_step(secret, STEP + 1)
        assert (await login_with_code(client, code))["errors"] == []

        # the same code again, still within its step
        frozen.move_to(STEP_START + dt.timedelta(seconds=50))
        again = await login_with_code(client, code)

        assert codes(again) == ["CODE_INVALID"]
        assert again["token"] is None
        event = await AuditEvent.filter(action="second_factor_failed").get()
        assert event.details == {"method": "authenticator_app", "reason": "wrong_or_used"}


async def test_a_code_with_letters_is_a_typed_error_and_costs_no_attempt(client, mailbox):
    token = await register_and_login(client, mailbox)
    secret, _ = await add_app(client, token)
    first = await password_login(client)
    login_token = first["secondFactor"]["token"]

    for typed in ("12a456", "abcdef", "12345"):
        done = await complete(client, login_token, code=typed)
        assert codes(done) == ["CODE_FORMAT_INVALID"]
        assert done["errors"][0]["field"] == ["input", "code"]
    assert await AuditEvent.filter(action="second_factor_failed").count() == 0

    # the token is still good for the right code (taken from the next step: the
    # enrolment used the current one)
    done = await complete(
        client,
        login_token,
        code=totp.code_at_step(secret, totp.step_at(dt.datetime.now(dt.UTC)) + 1),
    )
    assert done["errors"] == []


async def test_exactly_one_factor_must_be_given(client, mailbox):
    token = await register_and_login(client, mailbox)
    await add_app(client, token)
    first = await password_login(client)
    done = await complete(
        client, first["secondFactor"]["token"], code="123456", recoveryCode="abcde-fghjk"
    )
    assert codes(done) == ["CHOICE_REQUIRED"]
    done = await complete(client, first["secondFactor"]["token"])
    assert codes(done) == ["CHOICE_REQUIRED"]


async def test_a_recovery_code_logs_in_once_and_the_owner_is_told(client, mailbox):
    # given a login with an app and its recovery codes
    token = await register_and_login(client, mailbox)
    _, recovery = await add_app(client, token)
    assert recovery is not None

    # when it logs in with a recovery code typed loosely
    first = await password_login(client)
    typed = recovery[0].upper().replace("-", " ")
    done = await complete(client, first["secondFactor"]["token"], recoveryCode=typed)

    # then the session starts, the code is used up, and a notice says how many are left
    assert done["errors"] == []
    assert await RecoveryCode.filter(used_at__isnull=True).count() == 9
    # (after the PIN, the app's notice and the notice of a login from a new device)
    mails = await mailbox.wait_for("erika@example.org", 4)
    mail = next(m for m in mails if m["Subject"] == "Wiederherstellungscode verwendet")
    assert "bleiben noch 9 Codes" in mail.get_body(preferencelist=("plain",)).get_content()
    assert await AuditEvent.filter(action="recovery_code_used").count() == 1

    # and the same code does not work again
    second = await password_login(client)
    again = await complete(client, second["secondFactor"]["token"], recoveryCode=recovery[0])
    assert codes(again) == ["CODE_INVALID"]


async def test_new_recovery_codes_replace_the_old(client, mailbox):
    token = await register_and_login(client, mailbox)
    _, old = await add_app(client, token)

    done = await call(client, REGENERATE, {"input": {"currentPassword": PASSWORD}}, token=token)

    assert done["errors"] == []
    assert len(done["recoveryCodes"]) == 10
    assert not set(done["recoveryCodes"]) & set(old or [])
    first = await password_login(client)
    refused = await complete(client, first["secondFactor"]["token"], recoveryCode=(old or [""])[0])
    assert codes(refused) == ["CODE_INVALID"]


async def test_login_token_is_void_after_five_wrong_codes(client, mailbox):
    token = await register_and_login(client, mailbox)
    secret, _ = await add_app(client, token)
    first = await password_login(client)
    login_token = first["secondFactor"]["token"]
    right = totp.code_at_step(secret, totp.step_at(dt.datetime.now(dt.UTC)) + 1)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    for _ in range(5):
        assert codes(await complete(client, login_token, code=wrong)) == ["CODE_INVALID"]
    done = await complete(client, login_token, code=right)

    assert codes(done) == ["CHALLENGE_EXPIRED"]


async def test_login_token_expires_after_its_minutes(client, mailbox, clock):
    token = await register_and_login(client, mailbox)
    secret, _ = await add_app(client, token)
    first = await password_login(client)

    clock.shift(5 * 60 + 1)
    done = await complete(
        client,
        first["secondFactor"]["token"],
        code=totp.code_at_step(secret, totp.step_at(dt.datetime.now(dt.UTC))),
    )

    assert codes(done) == ["CHALLENGE_EXPIRED"]


async def test_wrong_codes_slow_down_the_guessing_client_not_the_owners_device(client, mailbox):
    # given a login with an app, whose owner's phone is a known device
    token = await register_and_login(client, mailbox)
    secret, _ = await add_app(client, token)
    owner = await password_login(client)
    owner_done = await complete(
        client,
        owner["secondFactor"]["token"],
        code=totp.code_at_step(secret, totp.step_at(dt.datetime.now(dt.UTC)) + 1),
    )
    device_token = owner_done["deviceToken"]

    # when a client with the password guesses codes from elsewhere
    for _ in range(5):
        attempt = await password_login(client)
        assert codes(await complete(client, attempt["secondFactor"]["token"], code="000000")) == [
            "CODE_INVALID"
        ]
    attempt = await password_login(client)
    from tests.conftest import gql
    from tests.second_factor_flows import COMPLETE_LOGIN as DOC

    refused = await gql(
        client, DOC, {"input": {"token": attempt["secondFactor"]["token"], "code": "000000"}}
    )

    # then it is refused for a while, with Retry-After
    assert refused.errors[0]["extensions"]["code"] == "RATE_LIMITED"
    assert refused.response.status_code == 429
    assert int(refused.response.headers["Retry-After"]) > 0

    # while the owner's known device still gets in
    headers = {"X-Device-Token": device_token}
    mine = await password_login(client, headers=headers)
    done = await call(
        client,
        COMPLETE_LOGIN,
        {"input": {"token": mine["secondFactor"]["token"], "recoveryCode": "zzzzz-zzzzz"}},
        headers=headers,
    )
    assert codes(done) == ["CODE_INVALID"]  # checked, not refused


async def test_removing_the_app_needs_the_password_and_turns_the_factor_off(client, mailbox):
    token = await register_and_login(client, mailbox)
    await add_app(client, token)

    refused = await call(client, REMOVE_APP, {"input": {}}, token=token)
    done = await call(client, REMOVE_APP, {"input": {"currentPassword": PASSWORD}}, token=token)

    assert codes(refused) == ["REAUTHENTICATION_REQUIRED"]
    assert done["errors"] == []
    assert done["secondFactorEnabled"] is False
    assert await AuthenticatorApp.all().count() == 0
    assert await RecoveryCode.all().count() == 0
    assert (await password_login(client))["token"]


async def test_removing_an_app_that_was_never_confirmed_says_there_is_none(client, mailbox):
    token = await register_and_login(client, mailbox)
    await call(client, START_APP, {"input": {"currentPassword": PASSWORD}}, token=token)
    done = await call(client, REMOVE_APP, {"input": {"currentPassword": PASSWORD}}, token=token)
    assert codes(done) == ["NO_SECOND_FACTOR"]
