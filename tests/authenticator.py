"""A software passkey authenticator for the tests: what a browser and a platform
authenticator answer to `navigator.credentials.create/get`, built from scratch.

An ES256 (P-256) key from `cryptography`; authenticatorData with the RP ID's
hash, the flags and a signature counter; a "none" attestation; the
clientDataJSON a browser writes. Every member the server checks can be made
wrong on purpose (origin, RP ID, user verification, counter, challenge), so
the tests exercise the real verification, not a mock of it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@dataclass
class SoftAuthenticator:
    """One passkey on a pretend device; `origin` is the page the browser is on."""

    origin: str
    rp_id: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    aaguid: bytes = bytes(16)
    sign_count: int = 0
    user_handle: bytes | None = None

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    def _cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge,
                "origin": origin or self.origin,
                "crossOrigin": False,
            },
            separators=(",", ":"),
        ).encode()

    def _auth_data(self, rp_id: str | None, flags: int, counter: int, attested: bool) -> bytes:
        data = hashlib.sha256((rp_id or self.rp_id).encode()).digest()
        data += bytes([flags | (AT if attested else 0)]) + struct.pack(">I", counter)
        if attested:
            data += self.aaguid + struct.pack(">H", len(self.credential_id))
            data += self.credential_id + self._cose_public_key()
        return data

    def _credential(self, response: dict[str, Any]) -> dict[str, Any]:
        """A `PublicKeyCredential` in its JSON form (`credential.toJSON()`)."""
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": response,
        }

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        user_verified: bool = True,
    ) -> dict[str, Any]:
        """The browser's `PublicKeyCredential.toJSON()` after `credentials.create(options)`."""
        self.user_handle = unb64url(options["user"]["id"])
        flags = UP | (UV if user_verified else 0) | BE | BS
        auth_data = self._auth_data(rp_id or options["rp"]["id"], flags, self.sign_count, True)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return self._credential(
            {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal", "hybrid"],
            }
        )

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        user_verified: bool = True,
        counter: int | None = None,
    ) -> dict[str, Any]:
        """The browser's answer to `credentials.get(options)`: a signed assertion.

        The counter goes up by one each time unless `counter` says otherwise
        (a cloned authenticator sends one it has used before).
        """
        if counter is None:
            self.sign_count += 1
            counter = self.sign_count
        flags = UP | (UV if user_verified else 0) | BE | BS
        auth_data = self._auth_data(rp_id or options.get("rpId"), flags, counter, False)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return self._credential(
            {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(self.user_handle) if self.user_handle else None,
            }
        )

    def clone(self) -> SoftAuthenticator:
        """The same key on a second device, with the counter where it was when copied."""
        return SoftAuthenticator(
            origin=self.origin,
            rp_id=self.rp_id,
            key=self.key,
            credential_id=self.credential_id,
            sign_count=self.sign_count,
            user_handle=self.user_handle,
        )
