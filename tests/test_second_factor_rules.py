"""The second factor's pure rules: TOTP steps and replays, recovery codes, the sealed
TOTP secret, and the passkey checks around py_webauthn with a software authenticator.
The ceremonies through GraphQL are in test_second_factor_*.py."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.exceptions import InvalidTag

from models import Session, second_factor_fresh
from security import passkeys, recovery_codes, totp
from security.passkeys import PasskeyProblem, PasskeyRefused, RelyingParty
from tests.authenticator import SoftAuthenticator

ORIGIN = "https://portal.wasser.example"
RP = RelyingParty(id="wasser.example", name="Kundenportal", origins=[ORIGIN])
STEP_START = dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=dt.UTC)  # a multiple of 30 s
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


# ------------------------------------------------------------------------ TOTP


def test_totp_accepts_the_codes_of_one_step_either_side_and_no_further():
    now = STEP_START + dt.timedelta(seconds=15)
    current = totp.step_at(now)
    for offset in (-1, 0, 1):
        code = totp.code_at_step(SECRET, current + offset)
        assert totp.matching_step(SECRET, code, now=now, last_step=0) == current + offset
    for offset in (-2, 2):
        code = totp.code_at_step(SECRET, current + offset)
        assert totp.matching_step(SECRET, code, now=now, last_step=0) is None


def test_totp_step_edge_first_and_last_second_of_a_step():
    code = totp.code_at_step(SECRET, totp.step_at(STEP_START))
    last_second = STEP_START + dt.timedelta(seconds=29, microseconds=999_999)
    two_steps_on = STEP_START + dt.timedelta(seconds=60)
    assert totp.matching_step(SECRET, code, now=STEP_START, last_step=0) is not None
    assert totp.matching_step(SECRET, code, now=last_second, last_step=0) is not None
    # one step later still tolerated, two steps later not
    late = STEP_START + dt.timedelta(seconds=59, microseconds=999_999)
    assert totp.matching_step(SECRET, code, now=late, last_step=0) is not None
    assert totp.matching_step(SECRET, code, now=two_steps_on, last_step=0) is None


def test_totp_code_is_never_accepted_twice_nor_an_older_one_after_a_newer():
    now = STEP_START + dt.timedelta(seconds=5)
    current = totp.step_at(now)
    code = totp.code_at_step(SECRET, current)
    used = totp.matching_step(SECRET, code, now=now, last_step=0)
    assert used == current
    assert totp.matching_step(SECRET, code, now=now, last_step=used) is None
    older = totp.code_at_step(SECRET, current - 1)
    assert totp.matching_step(SECRET, older, now=now, last_step=used) is None


@pytest.mark.parametrize("typed", ["12345a", "abcdef", "12345", "1234567", "", "１２３４５６"])
def test_totp_code_with_letters_or_wrong_length_is_not_a_code(typed):
    assert totp.clean_code(typed) is None


def test_totp_code_may_be_typed_with_spaces_or_a_dash():
    assert totp.clean_code(" 123 456 ") == "123456"
    assert totp.clean_code("123-456") == "123456"


def test_provisioning_uri_names_issuer_and_account_and_carries_the_secret():
    uri = totp.provisioning_uri(SECRET, account="anna@example.org", issuer="Stadtwerke Wasser")
    assert uri.startswith("otpauth://totp/")
    assert f"secret={SECRET}" in uri
    assert "issuer=Stadtwerke%20Wasser" in uri


def test_sealed_secret_opens_only_for_its_login_and_key():
    sealed = totp.seal(SECRET, secret_key="k" * 40, login_id=7)
    assert SECRET not in sealed
    assert totp.unseal(sealed, secret_key="k" * 40, login_id=7) == SECRET
    with pytest.raises(InvalidTag):
        totp.unseal(sealed, secret_key="k" * 40, login_id=8)
    with pytest.raises(InvalidTag):
        totp.unseal(sealed, secret_key="other" * 8, login_id=7)


# ---------------------------------------------------------------- recovery codes


def test_ten_recovery_codes_all_different_and_readable():
    codes = recovery_codes.new_codes()
    assert len(codes) == 10 == len(set(codes))
    for code in codes:
        assert recovery_codes.clean_code(code) == code.replace("-", "")
        assert not set(code.replace("-", "")) & set("0o1il")


def test_recovery_code_typed_loosely_is_the_same_code_and_hash_is_per_login():
    code = recovery_codes.new_codes(1)[0]
    assert recovery_codes.clean_code(" " + code.upper().replace("-", " ")) == code.replace("-", "")
    clean = code.replace("-", "")
    assert recovery_codes.code_hash(clean, secret_key="k", login_id=1) != recovery_codes.code_hash(
        clean, secret_key="k", login_id=2
    )
    assert recovery_codes.clean_code("12345-67890") is None  # 0 and 1 are not in the alphabet


# --------------------------------------------------------------------- passkeys


def _registered(device: SoftAuthenticator) -> tuple[passkeys.NewPasskey, bytes]:
    challenge = b"c" * 32
    options = passkeys.registration_options(
        RP, challenge=challenge, user_handle=b"u" * 32, user_name="anna@example.org", existing=[]
    )
    presented = passkeys.read_credential(device.create(options), registration=True)
    assert presented.challenge == challenge
    return passkeys.verify_registration(presented, RP, challenge=challenge), challenge


def _assert(device: SoftAuthenticator, new: passkeys.NewPasskey, sign_count: int, **kw):
    challenge = b"a" * 32
    options = passkeys.authentication_options(RP, challenge=challenge, allowed=[])
    presented = passkeys.read_credential(device.get(options, **kw), registration=False)
    return passkeys.verify_assertion(
        presented, RP, challenge=challenge, public_key=new.public_key, sign_count=sign_count
    )


def test_registration_options_ask_for_a_discoverable_verified_passkey():
    options = passkeys.registration_options(
        RP,
        challenge=b"c" * 32,
        user_handle=b"u" * 32,
        user_name="anna@example.org",
        existing=[("AAAA", ["usb"])],
    )
    assert options["rp"] == {"id": "wasser.example", "name": "Kundenportal"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "none"
    assert options["excludeCredentials"] == [
        {"id": "AAAA", "type": "public-key", "transports": ["usb"]}
    ]


def test_software_passkey_registers_and_signs_in():
    device = SoftAuthenticator(origin=ORIGIN, rp_id=RP.id)
    new, _ = _registered(device)
    assert new.credential_id == device.id
    assertion = _assert(device, new, sign_count=0)
    assert assertion.new_sign_count == 1


def test_assertion_from_another_origin_is_refused():
    device = SoftAuthenticator(origin=ORIGIN, rp_id=RP.id)
    new, _ = _registered(device)
    with pytest.raises(PasskeyRefused) as refused:
        _assert(device, new, 0, origin="https://phish.example")
    assert refused.value.problem is PasskeyProblem.ORIGIN


def test_assertion_for_another_rp_id_is_refused():
    device = SoftAuthenticator(origin=ORIGIN, rp_id=RP.id)
    new, _ = _registered(device)
    with pytest.raises(PasskeyRefused) as refused:
        _assert(device, new, 0, rp_id="evil.example")
    assert refused.value.problem is PasskeyProblem.RP_ID


def test_assertion_without_user_verification_is_refused():
    device = SoftAuthenticator(origin=ORIGIN, rp_id=RP.id)
    new, _ = _registered(device)
    with pytest.raises(PasskeyRefused) as refused:
        _assert(device, new, 0, user_verified=False)
    assert refused.value.problem is PasskeyProblem.USER_VERIFICATION


def test_counter_going_back_means_a_cloned_authenticator():
    device = SoftAuthenticator(origin=ORIGIN, rp_id=RP.id)
    new, _ = _registered(device)
    _assert(device, new, 0)
    _assert(device, new, 1)
    with pytest.raises(PasskeyRefused) as refused:
        _assert(device.clone(), new, 2, counter=2)
    assert refused.value.problem is PasskeyProblem.COUNTER


def test_signature_of_another_key_is_refused():
    device = SoftAuthenticator(origin=ORIGIN, rp_id=RP.id)
    new, _ = _registered(device)
    impostor = SoftAuthenticator(origin=ORIGIN, rp_id=RP.id, credential_id=device.credential_id)
    with pytest.raises(PasskeyRefused) as refused:
        _assert(impostor, new, 0)
    assert refused.value.problem is PasskeyProblem.INVALID


@pytest.mark.parametrize(
    ("member", "value", "path"),
    [
        ("clientDataJSON", "not base64!", ("response", "clientDataJSON")),
        ("attestationObject", "%%%%", ("response", "attestationObject")),
        ("attestationObject", "AAAA", ("response", "attestationObject")),
        ("clientDataJSON", "e30", ("response", "clientDataJSON")),  # "{}"
    ],
)
def test_malformed_registration_names_the_bad_member(member, value, path):
    device = SoftAuthenticator(origin=ORIGIN, rp_id=RP.id)
    options = passkeys.registration_options(
        RP, challenge=b"c" * 32, user_handle=b"u" * 32, user_name="a@b.example", existing=[]
    )
    credential = device.create(options)
    credential["response"][member] = value

    def register() -> None:
        presented = passkeys.read_credential(credential, registration=True)
        passkeys.verify_registration(presented, RP, challenge=b"c" * 32)

    with pytest.raises(PasskeyRefused) as refused:
        register()
    assert refused.value.problem is PasskeyProblem.MALFORMED
    assert refused.value.path == path


@pytest.mark.parametrize("value", [None, "x", 3, [], {"id": "a"}, "{not json"])
def test_credential_that_is_not_one_is_malformed(value):
    with pytest.raises(PasskeyRefused) as refused:
        passkeys.read_credential(value, registration=False)
    assert refused.value.problem is PasskeyProblem.MALFORMED


# ---------------------------------------------------------------------- step-up


def test_step_up_is_fresh_for_its_minutes_and_not_a_moment_longer():
    given = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    session = Session(second_factor_at=given)
    assert second_factor_fresh(
        session, now=given + dt.timedelta(minutes=9, seconds=59), step_up_minutes=10
    )
    assert not second_factor_fresh(
        session, now=given + dt.timedelta(minutes=10), step_up_minutes=10
    )
    assert not second_factor_fresh(Session(second_factor_at=None), now=given, step_up_minutes=10)
