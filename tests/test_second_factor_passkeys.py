"""Passkeys end to end through GraphQL, with a software authenticator: registration, login
with a passkey alone, a passkey as the second factor after the password, and every
way an answer can be wrong (origin, RP ID, replay, clone, user verification, shape)."""

from __future__ import annotations

import pytest

from models import AuditEvent, OutboxMail, Passkey, RecoveryCode, Session
from tests.conftest import gql
from tests.factories import PASSWORD, codes, make_customer_with_proofs, register_and_login
from tests.second_factor_flows import (
    COMPLETE_LOGIN,
    LOGIN_WITH_PASSKEY,
    OVERVIEW,
    REGISTER_PASSKEY,
    REMOVE_PASSKEY,
    RENAME_PASSKEY,
    START_PASSKEY_LOGIN,
    START_REGISTRATION,
    add_passkey,
    call,
    device,
    password_login,
    recovery_code_shape,
    with_relying_party,
)


@pytest.fixture
def settings(settings):
    return with_relying_party(settings)


async def passkey_login(client, authenticator, **answer_kw):
    started = await call(client, START_PASSKEY_LOGIN)
    credential = authenticator.get(started["options"], **answer_kw)
    return await call(client, LOGIN_WITH_PASSKEY, {"input": {"credential": credential}})


async def test_registering_a_passkey_turns_the_second_factor_on_with_ten_recovery_codes(
    client, mailbox
):
    # given a logged-in login without a second factor
    token = await register_and_login(client, mailbox)
    before = await call(client, OVERVIEW, token=token)
    assert before["enabled"] is False

    # when it registers a passkey made by the browser from the API's options
    started = await call(
        client, START_REGISTRATION, {"input": {"currentPassword": PASSWORD}}, token=token
    )
    options = started["options"]
    laptop = device()
    done = await call(
        client,
        REGISTER_PASSKEY,
        {"input": {"name": "  Laptop  ", "credential": laptop.create(options)}},
        token=token,
    )

    # then the options ask for a discoverable passkey with user verification for the RP
    assert options["rp"]["id"] == "wasser.example"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    # and the passkey is kept, named, with ten recovery codes shown once
    assert done["errors"] == []
    assert done["passkey"]["name"] == "Laptop"
    assert done["passkey"]["synced"] is True
    assert len(done["recoveryCodes"]) == 10
    assert all(recovery_code_shape(c) for c in done["recoveryCodes"])
    assert done["mailedTo"] == "e***a@example.org"
    # stored: the public key and hashes only
    row = await Passkey.get()
    assert row.credential_id == laptop.id
    hashes = await RecoveryCode.all().values_list("code_hash", flat=True)
    assert not set(hashes) & {c.replace("-", "") for c in done["recoveryCodes"]}
    after = await call(client, OVERVIEW, token=token)
    assert after["enabled"] is True
    assert after["recoveryCodesLeft"] == 10
    assert [p["name"] for p in after["passkeys"]] == ["Laptop"]
    # told by mail and audited
    mail = (await mailbox.wait_for("erika@example.org", 2))[-1]
    assert mail["Subject"] == "Zweiter Faktor hinzugefügt"
    assert "„Laptop“" in mail.get_body(preferencelist=("plain",)).get_content()
    assert await AuditEvent.filter(action="passkey_added").count() == 1


async def test_a_second_passkey_adds_no_new_recovery_codes_and_excludes_the_first(client, mailbox):
    token = await register_and_login(client, mailbox)
    laptop = device()
    await add_passkey(client, token, laptop)

    started = await call(
        client, START_REGISTRATION, {"input": {"currentPassword": PASSWORD}}, token=token
    )
    done = await call(
        client,
        REGISTER_PASSKEY,
        {"input": {"name": "Handy", "credential": device().create(started["options"])}},
        token=token,
    )

    assert [c["id"] for c in started["options"]["excludeCredentials"]] == [laptop.id]
    assert done["errors"] == []
    assert done["recoveryCodes"] is None
    assert await Passkey.all().count() == 2


async def test_login_with_a_passkey_alone_starts_a_session_with_a_fresh_second_factor(
    client, mailbox
):
    # given a login with a passkey
    token = await register_and_login(client, mailbox)
    laptop = device()
    await add_passkey(client, token, laptop)

    # when the browser logs in with it, without e-mail or password
    started = await call(client, START_PASSKEY_LOGIN)
    done = await call(
        client, LOGIN_WITH_PASSKEY, {"input": {"credential": laptop.get(started["options"])}}
    )

    # then the options list no credentials (the browser offers its own) and a session starts
    assert started["options"]["rpId"] == "wasser.example"
    assert started["options"]["allowCredentials"] == []
    assert started["options"]["userVerification"] == "required"
    assert done["errors"] == []
    assert done["account"] == {"email": "erika@example.org"}
    overview = await call(client, OVERVIEW, token=done["token"])
    assert overview["stepUpValidUntil"] is not None
    assert overview["passkeys"][0]["lastUsedAt"] is not None
    assert (await Passkey.get()).sign_count == 1


async def test_password_login_asks_for_the_second_factor_and_a_passkey_completes_it(
    client, mailbox
):
    # given a login with a passkey, on a new device
    token = await register_and_login(client, mailbox)
    laptop = device()
    await add_passkey(client, token, laptop)
    sessions_before = await Session.all().count()

    # when it logs in with the password
    first = await password_login(client)

    # then no session starts: a typed "second factor needed" with a token and options
    assert first["errors"] == []
    assert first["token"] is None
    assert first["secondFactor"]["methods"] == ["PASSKEY", "RECOVERY_CODE"]
    options = first["secondFactor"]["passkeyOptions"]
    assert [c["id"] for c in options["allowCredentials"]] == [laptop.id]
    assert await Session.all().count() == sessions_before

    # and the passkey's answer with the token starts the session
    done = await call(
        client,
        COMPLETE_LOGIN,
        {"input": {"token": first["secondFactor"]["token"], "passkey": laptop.get(options)}},
    )
    assert done["errors"] == []
    assert done["token"]
    assert done["account"] == {"email": "erika@example.org"}

    # and the token works once only
    again = await call(
        client,
        COMPLETE_LOGIN,
        {"input": {"token": first["secondFactor"]["token"], "passkey": laptop.get(options)}},
    )
    assert codes(again) == ["CHALLENGE_EXPIRED"]
    assert again["token"] is None


async def test_passkey_answer_from_another_origin_is_refused(client, mailbox):
    token = await register_and_login(client, mailbox)
    laptop = device()
    await add_passkey(client, token, laptop)

    done = await passkey_login(client, laptop, origin="https://portal.wasser.example.evil.test")

    assert codes(done) == ["PASSKEY_REJECTED"]
    assert done["token"] is None
    event = await AuditEvent.get(action="passkey_login_failed")
    assert event.details["reason"] == "origin"
    assert (await Passkey.get()).sign_count == 0


async def test_passkey_answer_for_another_relying_party_is_refused(client, mailbox):
    token = await register_and_login(client, mailbox)
    laptop = device()
    await add_passkey(client, token, laptop)

    done = await passkey_login(client, laptop, rp_id="evil.example")

    assert codes(done) == ["PASSKEY_REJECTED"]
    assert (await AuditEvent.get(action="passkey_login_failed")).details["reason"] == "rp_id"


async def test_passkey_answer_without_user_verification_is_refused(client, mailbox):
    token = await register_and_login(client, mailbox)
    laptop = device()
    await add_passkey(client, token, laptop)

    done = await passkey_login(client, laptop, user_verified=False)

    assert codes(done) == ["PASSKEY_REJECTED"]
    event = await AuditEvent.get(action="passkey_login_failed")
    assert event.details["reason"] == "user_verification"


async def test_registration_without_user_verification_is_refused(client, mailbox):
    token = await register_and_login(client, mailbox)
    started = await call(
        client, START_REGISTRATION, {"input": {"currentPassword": PASSWORD}}, token=token
    )
    credential = device().create(started["options"], user_verified=False)

    done = await call(
        client,
        REGISTER_PASSKEY,
        {"input": {"name": "Stick", "credential": credential}},
        token=token,
    )

    assert codes(done) == ["PASSKEY_REJECTED"]
    assert await Passkey.all().count() == 0


async def test_replayed_passkey_login_is_refused(client, mailbox):
    # given a passkey login that succeeded
    token = await register_and_login(client, mailbox)
    laptop = device()
    await add_passkey(client, token, laptop)
    started = await call(client, START_PASSKEY_LOGIN)
    credential = laptop.get(started["options"])
    first = await call(client, LOGIN_WITH_PASSKEY, {"input": {"credential": credential}})
    assert first["errors"] == []

    # when the same answer is sent again (captured on the wire)
    again = await call(client, LOGIN_WITH_PASSKEY, {"input": {"credential": credential}})

    # then its challenge is used up
    assert codes(again) == ["CHALLENGE_EXPIRED"]
    assert again["token"] is None


async def test_challenge_expires_after_its_minutes(client, mailbox, clock):
    token = await register_and_login(client, mailbox)
    laptop = device()
    await add_passkey(client, token, laptop)
    started = await call(client, START_PASSKEY_LOGIN)

    clock.shift(5 * 60 + 1)
    done = await call(
        client, LOGIN_WITH_PASSKEY, {"input": {"credential": laptop.get(started["options"])}}
    )

    assert codes(done) == ["CHALLENGE_EXPIRED"]


async def test_cloned_authenticator_with_a_counter_going_back_is_refused_and_audited(
    client, mailbox
):
    # given a passkey used twice (counter 2)
    token = await register_and_login(client, mailbox)
    laptop = device()
    await add_passkey(client, token, laptop)
    copy = laptop.clone()  # copied while the counter was 0
    for _ in range(2):
        assert (await passkey_login(client, laptop))["errors"] == []

    # when the copy signs in with a counter it has used before
    done = await passkey_login(client, copy, counter=1)

    # then it is refused, audited as a suspected clone, and the stored counter stays
    assert codes(done) == ["PASSKEY_REJECTED"]
    event = await AuditEvent.get(action="passkey_clone_suspected")
    assert event.details["stored_count"] == 2
    assert (await Passkey.get()).sign_count == 2
    # and the real authenticator still works
    assert (await passkey_login(client, laptop))["errors"] == []


async def test_unknown_passkey_is_refused(client, mailbox):
    await register_and_login(client, mailbox)

    done = await passkey_login(client, device())

    assert codes(done) == ["PASSKEY_UNKNOWN"]


@pytest.mark.parametrize(
    ("member", "value", "field"),
    [
        (
            "attestationObject",
            "bm90IGNib3I",
            ["input", "credential", "response", "attestationObject"],
        ),
        ("attestationObject", "***", ["input", "credential", "response", "attestationObject"]),
        ("clientDataJSON", "not base64!", ["input", "credential", "response", "clientDataJSON"]),
    ],
)
async def test_malformed_registration_is_a_typed_error_and_adds_nothing(
    client, mailbox, member, value, field
):
    token = await register_and_login(client, mailbox)
    started = await call(
        client, START_REGISTRATION, {"input": {"currentPassword": PASSWORD}}, token=token
    )
    credential = device().create(started["options"])
    credential["response"][member] = value

    done = await call(
        client,
        REGISTER_PASSKEY,
        {"input": {"name": "Stick", "credential": credential}},
        token=token,
    )

    assert codes(done) == ["PASSKEY_MALFORMED"]
    assert done["errors"][0]["field"] == field
    assert done["errors"][0]["message"]
    assert await Passkey.all().count() == 0
    assert await RecoveryCode.all().count() == 0


async def test_login_answer_that_is_not_a_credential_is_a_typed_error(client, mailbox):
    await register_and_login(client, mailbox)
    for credential, field in (
        ("nonsense", ["input", "credential"]),
        ({"id": "!!", "rawId": "!!"}, ["input", "credential", "id"]),
    ):
        done = await call(client, LOGIN_WITH_PASSKEY, {"input": {"credential": credential}})
        assert codes(done) == ["PASSKEY_MALFORMED"]
        assert done["errors"][0]["field"] == field


async def test_english_message_on_request(client, mailbox):
    await register_and_login(client, mailbox)
    done = await call(
        client,
        LOGIN_WITH_PASSKEY,
        {"input": {"credential": "nonsense"}},
        headers={"Accept-Language": "en"},
    )
    assert done["errors"][0]["message"] == "The passkey's answer is incomplete or damaged."


async def test_removing_the_last_passkey_turns_the_second_factor_off_and_mails(client, mailbox):
    # given a login whose only factor is a passkey, in a session that just used it
    token = await register_and_login(client, mailbox)
    await add_passkey(client, token, device())
    passkey_id = (await call(client, OVERVIEW, token=token))["passkeys"][0]["id"]

    # when it removes the passkey with its password
    done = await call(
        client,
        REMOVE_PASSKEY,
        {"input": {"id": passkey_id, "currentPassword": PASSWORD}},
        token=token,
    )

    # then the second factor is off, recovery codes gone, and the address told
    assert done == {"errors": [], "secondFactorEnabled": False, "mailedTo": "e***a@example.org"}
    assert await RecoveryCode.all().count() == 0
    mail = (await mailbox.wait_for("erika@example.org", 3))[-1]
    assert mail["Subject"] == "Zweiter Faktor entfernt"
    assert (await password_login(client))["token"]


async def test_removing_another_logins_passkey_is_not_found(client, mailbox):
    token = await register_and_login(client, mailbox)
    await add_passkey(client, token, device())
    passkey_id = (await call(client, OVERVIEW, token=token))["passkeys"][0]["id"]
    other = await register_and_login(
        client, mailbox, customer=await make_customer_with_proofs("100002"), email="max@example.org"
    )
    done = await call(
        client,
        REMOVE_PASSKEY,
        {"input": {"id": passkey_id, "currentPassword": PASSWORD}},
        token=other,
    )
    assert codes(done) == ["NOT_FOUND"]
    assert await Passkey.all().count() == 1


async def test_passkey_name_is_required_and_bounded_and_nothing_is_added(client, mailbox):
    token = await register_and_login(client, mailbox)
    for name, code in (("  \x07 ", "REQUIRED"), ("x" * 101, "TOO_LONG")):
        started = await call(
            client, START_REGISTRATION, {"input": {"currentPassword": PASSWORD}}, token=token
        )
        credential = device().create(started["options"])
        done = await call(
            client,
            REGISTER_PASSKEY,
            {"input": {"name": name, "credential": credential}},
            token=token,
        )
        assert codes(done) == [code]
        assert done["errors"][0]["field"] == ["input", "name"]
    assert await Passkey.all().count() == 0


async def test_renaming_a_passkey_shows_the_new_name_and_it_still_signs_in(client, mailbox):
    # given a login with a passkey named at registration
    token = await register_and_login(client, mailbox)
    authenticator = device()
    await add_passkey(client, token, authenticator, name="Laptop")
    passkey_id = (await call(client, OVERVIEW, token=token))["passkeys"][0]["id"]
    mails_before = await OutboxMail.all().count()

    # when it gives the passkey another name, without password or second factor
    done = await call(
        client,
        RENAME_PASSKEY,
        {"input": {"id": passkey_id, "name": "  Telefon \n von Erika "}},
        token=token,
    )

    # then the settings page shows the cleaned name, the change is audited once and
    # nothing is mailed, and the passkey still signs in
    assert done == {"errors": [], "passkey": {"id": passkey_id, "name": "Telefon von Erika"}}
    overview = await call(client, OVERVIEW, token=token)
    assert [p["name"] for p in overview["passkeys"]] == ["Telefon von Erika"]
    assert await AuditEvent.filter(action="passkey_renamed").count() == 1
    assert await OutboxMail.all().count() == mails_before
    assert (await passkey_login(client, authenticator))["token"]


async def test_renaming_a_passkey_to_its_own_name_changes_and_records_nothing(client, mailbox):
    token = await register_and_login(client, mailbox)
    await add_passkey(client, token, device(), name="Laptop")
    passkey_id = (await call(client, OVERVIEW, token=token))["passkeys"][0]["id"]
    done = await call(
        client, RENAME_PASSKEY, {"input": {"id": passkey_id, "name": "Laptop "}}, token=token
    )
    assert done == {"errors": [], "passkey": {"id": passkey_id, "name": "Laptop"}}
    assert await AuditEvent.filter(action="passkey_renamed").count() == 0


@pytest.mark.parametrize(
    ("name", "code"), [("  \x07 ", "REQUIRED"), ("x" * 101, "TOO_LONG")], ids=["blank", "long"]
)
async def test_renaming_a_passkey_needs_a_name_of_at_most_100_characters(
    client, mailbox, name, code
):
    token = await register_and_login(client, mailbox)
    await add_passkey(client, token, device(), name="Laptop")
    passkey_id = (await call(client, OVERVIEW, token=token))["passkeys"][0]["id"]
    done = await call(
        client,
        RENAME_PASSKEY,
        {"input": {"id": passkey_id, "name": name}},
        token=token,
        headers={"Accept-Language": "en"},
    )
    assert codes(done) == [code]
    assert done["errors"][0]["field"] == ["input", "name"]
    assert done["errors"][0]["message"]
    assert done["passkey"] is None
    assert (await Passkey.get()).name == "Laptop"


async def test_renaming_another_logins_passkey_is_not_found_and_needs_a_session(client, mailbox):
    token = await register_and_login(client, mailbox)
    await add_passkey(client, token, device(), name="Laptop")
    passkey_id = (await call(client, OVERVIEW, token=token))["passkeys"][0]["id"]
    other = await register_and_login(
        client, mailbox, customer=await make_customer_with_proofs("100002"), email="max@example.org"
    )
    variables = {"input": {"id": passkey_id, "name": "Mine now"}}

    done = await call(client, RENAME_PASSKEY, variables, token=other)
    anonymous = await gql(client, RENAME_PASSKEY, variables)

    assert codes(done) == ["NOT_FOUND"]
    assert done["errors"][0]["field"] == ["input", "id"]
    assert anonymous.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await Passkey.get()).name == "Laptop"


@pytest.mark.parametrize("passkey_id", ["99999999999999999999", "１", "-1", "abc"])
async def test_removing_a_passkey_by_an_id_that_is_none_is_not_found(client, mailbox, passkey_id):
    token = await register_and_login(client, mailbox)
    await add_passkey(client, token, device())
    done = await call(
        client,
        REMOVE_PASSKEY,
        {"input": {"id": passkey_id, "currentPassword": PASSWORD}},
        token=token,
    )
    assert codes(done) == ["NOT_FOUND"]
    assert await Passkey.all().count() == 1


async def test_replayed_registration_is_refused(client, mailbox):
    token = await register_and_login(client, mailbox)
    started = await call(
        client, START_REGISTRATION, {"input": {"currentPassword": PASSWORD}}, token=token
    )
    credential = device().create(started["options"])
    variables = {"input": {"name": "Laptop", "credential": credential}}
    assert (await call(client, REGISTER_PASSKEY, variables, token=token))["errors"] == []

    again = await call(client, REGISTER_PASSKEY, variables, token=token)

    assert codes(again) == ["CHALLENGE_EXPIRED"]
    assert await Passkey.all().count() == 1


async def test_registration_from_another_origin_or_for_another_rp_is_refused(client, mailbox):
    token = await register_and_login(client, mailbox)
    for wrong in ({"origin": "https://evil.example"}, {"rp_id": "evil.example"}):
        started = await call(
            client, START_REGISTRATION, {"input": {"currentPassword": PASSWORD}}, token=token
        )
        credential = device().create(started["options"], **wrong)
        done = await call(
            client,
            REGISTER_PASSKEY,
            {"input": {"name": "Laptop", "credential": credential}},
            token=token,
        )
        assert codes(done) == ["PASSKEY_REJECTED"]
    reasons = await AuditEvent.filter(action="passkey_add_failed").values_list("details", flat=True)
    assert [r["reason"] for r in reasons] == ["origin", "rp_id"]
    assert await Passkey.all().count() == 0
