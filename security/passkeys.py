"""Passkeys (WebAuthn Level 2) around py_webauthn: the options a browser passes to
`navigator.credentials.create/get`, and the checks of what it answers.

The library does the verification (challenge, origin, RP ID hash, flags,
signature counter, attestation, signature). Around it, this module checks
the shape of the credential first — every binary member must be strict
base64url, which Python's decoder alone is not — and says *why* an answer
was refused (`PasskeyProblem`), for the audit trail and the error code.

User verification is required in both ceremonies: a passkey stands for
"something you have" and "something you are or know" at once, so it may
replace the password, and it is what makes it a second factor after one.
Registration asks for a discoverable credential (resident key), so a login
can start from the passkey alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    bytes_to_base64url,
    parse_attestation_object,
    parse_authenticator_data,
    parse_client_data_json,
)
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorData,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
MAX_CREDENTIAL_CHARS = 64_000
T = TypeVar("T")


class PasskeyProblem(Enum):
    """Why a passkey's answer was refused; each names one check of the specification."""

    MALFORMED = "malformed"  # not the JSON of a PublicKeyCredential, or not base64url
    CHALLENGE = "challenge"  # not a challenge this server issued, or used, or expired
    UNKNOWN_CREDENTIAL = "unknown_credential"  # no such passkey (of this login)
    ORIGIN = "origin"  # made on a page whose origin is not allowed
    RP_ID = "rp_id"  # made for another relying party
    USER_VERIFICATION = "user_verification"  # the authenticator did not verify the person
    COUNTER = "counter"  # signature counter went back: a cloned authenticator
    INVALID = "invalid"  # signature, attestation or anything else the library refused


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys are for: RP ID (a registrable domain), a name, allowed origins."""

    id: str
    name: str
    origins: list[str]
    timeout_ms: int = 300_000


@dataclass(frozen=True)
class NewPasskey:
    credential_id: str  # base64url
    public_key: str  # base64url of the COSE key
    sign_count: int
    aaguid: str
    backed_up: bool
    transports: list[str]


@dataclass(frozen=True)
class Assertion:
    credential_id: str
    new_sign_count: int
    backed_up: bool


class PasskeyRefused(Exception):
    """A passkey's answer failed a check; `problem` says which, `path` which member."""

    def __init__(self, problem: PasskeyProblem, path: tuple[str, ...] = ()) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.path = path


def b64url(data: bytes) -> str:
    return bytes_to_base64url(data)


def unb64url(value: str) -> bytes:
    """Strict base64url to bytes; raises ValueError for anything else."""
    if not isinstance(value, str) or not _BASE64URL.match(value):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))


# --------------------------------------------------------------------- options


def _descriptors(credentials: list[tuple[str, list[str]]]) -> list[PublicKeyCredentialDescriptor]:
    known = {t.value for t in AuthenticatorTransport}
    return [
        PublicKeyCredentialDescriptor(
            id=unb64url(cid),
            transports=[AuthenticatorTransport(t) for t in transports if t in known] or None,
        )
        for cid, transports in credentials
    ]


def registration_options(
    rp: RelyingParty,
    *,
    challenge: bytes,
    user_handle: bytes,
    user_name: str,
    existing: list[tuple[str, list[str]]],
) -> dict[str, Any]:
    """`PublicKeyCredentialCreationOptions` as JSON (binary members base64url), for
    `navigator.credentials.create({publicKey: …})` after decoding those members.

    `existing` (credential id, transports) are excluded, so one authenticator
    is not registered twice for the same login.
    """
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_handle,
        user_name=user_name,
        challenge=challenge,
        timeout=rp.timeout_ms,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors(existing),
    )
    return json.loads(options_to_json(options))


def authentication_options(
    rp: RelyingParty, *, challenge: bytes, allowed: list[tuple[str, list[str]]]
) -> dict[str, Any]:
    """`PublicKeyCredentialRequestOptions` as JSON, for `navigator.credentials.get`.

    `allowed` empty: any discoverable passkey for this RP (login without a
    password); otherwise the login's passkeys (as a second factor).
    """
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        timeout=rp.timeout_ms,
        allow_credentials=_descriptors(allowed),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return json.loads(options_to_json(options))


# ----------------------------------------------------------------------- shape

_REGISTRATION_MEMBERS = ("clientDataJSON", "attestationObject")
_AUTHENTICATION_MEMBERS = ("clientDataJSON", "authenticatorData", "signature")


@dataclass(frozen=True)
class Presented:
    """A credential as the browser sent it, its shape checked."""

    raw: dict[str, Any]
    credential_id: str
    client_data: bytes
    challenge: bytes
    user_handle: str | None


def read_credential(value: Any, *, registration: bool) -> Presented:
    """Check the shape of a `PublicKeyCredential` in JSON (`credential.toJSON()`):
    an object with `id`, `rawId`, `type: "public-key"` and a `response` whose
    binary members are strict base64url, with client data of the right
    ceremony. Raises `PasskeyRefused(MALFORMED, path)` naming the bad member.
    """
    if isinstance(value, str):
        if len(value) > MAX_CREDENTIAL_CHARS:
            raise PasskeyRefused(PasskeyProblem.MALFORMED)
        try:
            value = json.loads(value)
        except ValueError:
            raise PasskeyRefused(PasskeyProblem.MALFORMED) from None
    if not isinstance(value, dict):
        raise PasskeyRefused(PasskeyProblem.MALFORMED)
    for key in ("id", "rawId"):
        try:
            unb64url(value.get(key))  # type: ignore[arg-type]
        except ValueError:
            raise PasskeyRefused(PasskeyProblem.MALFORMED, (key,)) from None
    if value.get("type") != "public-key":
        raise PasskeyRefused(PasskeyProblem.MALFORMED, ("type",))
    response = value.get("response")
    if not isinstance(response, dict):
        raise PasskeyRefused(PasskeyProblem.MALFORMED, ("response",))
    members = _REGISTRATION_MEMBERS if registration else _AUTHENTICATION_MEMBERS
    decoded: dict[str, bytes] = {}
    for key in members:
        try:
            decoded[key] = unb64url(response.get(key))  # type: ignore[arg-type]
        except ValueError:
            raise PasskeyRefused(PasskeyProblem.MALFORMED, ("response", key)) from None
    user_handle = response.get("userHandle")
    if user_handle is not None and not registration:
        try:
            unb64url(user_handle)
        except ValueError:
            raise PasskeyRefused(PasskeyProblem.MALFORMED, ("response", "userHandle")) from None
    try:
        client_data = parse_client_data_json(decoded["clientDataJSON"])
    except Exception:
        raise PasskeyRefused(PasskeyProblem.MALFORMED, ("response", "clientDataJSON")) from None
    wanted = "webauthn.create" if registration else "webauthn.get"
    if getattr(client_data.type, "value", client_data.type) != wanted:
        raise PasskeyRefused(PasskeyProblem.MALFORMED, ("response", "clientDataJSON"))
    return Presented(
        raw=value,
        credential_id=b64url(unb64url(value["rawId"])),
        client_data=decoded["clientDataJSON"],
        challenge=client_data.challenge,
        user_handle=user_handle or None,
    )


def _check_context(presented: Presented, auth_data: AuthenticatorData, rp: RelyingParty) -> None:
    """Where and for whom the answer was made, and whether the person was verified."""
    origin = parse_client_data_json(presented.client_data).origin
    if origin not in rp.origins:
        raise PasskeyRefused(PasskeyProblem.ORIGIN)
    if auth_data.rp_id_hash != hashlib.sha256(rp.id.encode()).digest():
        raise PasskeyRefused(PasskeyProblem.RP_ID)
    if not auth_data.flags.uv:
        raise PasskeyRefused(PasskeyProblem.USER_VERIFICATION)


def _library(verify: Callable[..., T], **arguments: Any) -> T:
    """py_webauthn's own verification; whatever it refuses is INVALID."""
    try:
        return verify(
            credential=arguments.pop("presented").raw, require_user_verification=True, **arguments
        )
    except Exception:  # whatever the library refuses, on input anyone can send
        raise PasskeyRefused(PasskeyProblem.INVALID) from None


# --------------------------------------------------------------- verification


def verify_registration(presented: Presented, rp: RelyingParty, *, challenge: bytes) -> NewPasskey:
    """The new passkey, or `PasskeyRefused` saying which check failed."""
    response = presented.raw["response"]
    try:
        attestation = parse_attestation_object(unb64url(response["attestationObject"]))
    except Exception:
        raise PasskeyRefused(PasskeyProblem.MALFORMED, ("response", "attestationObject")) from None
    _check_context(presented, attestation.auth_data, rp)
    verified = _library(
        verify_registration_response,
        presented=presented,
        expected_challenge=challenge,
        expected_rp_id=rp.id,
        expected_origin=rp.origins,
    )
    transports = response.get("transports")
    return NewPasskey(
        credential_id=b64url(verified.credential_id),
        public_key=b64url(verified.credential_public_key),
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        backed_up=verified.credential_backed_up,
        transports=[t.value for t in AuthenticatorTransport if t.value in transports]
        if isinstance(transports, list)
        else [],
    )


def verify_assertion(
    presented: Presented,
    rp: RelyingParty,
    *,
    challenge: bytes,
    public_key: str,
    sign_count: int,
) -> Assertion:
    """A verified use of a stored passkey, or `PasskeyRefused`.

    The counter check follows the specification: when either the stored or
    the new counter is non-zero, the new one must be greater, else the
    authenticator may have been cloned.
    """
    try:
        auth_data = parse_authenticator_data(
            unb64url(presented.raw["response"]["authenticatorData"])
        )
    except Exception:
        raise PasskeyRefused(PasskeyProblem.MALFORMED, ("response", "authenticatorData")) from None
    _check_context(presented, auth_data, rp)
    new_count = auth_data.sign_count
    if (new_count > 0 or sign_count > 0) and new_count <= sign_count:
        raise PasskeyRefused(PasskeyProblem.COUNTER)
    verified = _library(
        verify_authentication_response,
        presented=presented,
        expected_challenge=challenge,
        expected_rp_id=rp.id,
        expected_origin=rp.origins,
        credential_public_key=unb64url(public_key),
        credential_current_sign_count=sign_count,
    )
    return Assertion(
        credential_id=presented.credential_id,
        new_sign_count=verified.new_sign_count,
        backed_up=verified.credential_backed_up,
    )
