"""Authenticator apps (TOTP, RFC 6238): secrets, the `otpauth://` URI, and checking a code.

Codes are 6 digits for 30-second time steps. One step either side of now is
accepted (a phone's clock drifts, a person types slowly), and only a step
newer than the last accepted one: a code is never accepted twice, even within
its own 30 seconds. The secret must be read back to compute codes, so it is
stored encrypted (`seal`/`unseal`), never hashed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import os
import re

import pyotp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

DIGITS = 6
STEP_SECONDS = 30
TOLERATED_STEPS = 1
_CODE = re.compile(r"^[0-9]{6}$")
_SEALED_VERSION = "v1"


def new_secret() -> str:
    """160 random bits in base32, what RFC 4226 recommends and every app reads."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The `otpauth://totp/…` URI a front end shows as a QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def clean_code(raw: str) -> str | None:
    """The six digits of a code as typed (spaces and a middle dash allowed), or None
    when it is not six digits: such input is refused before any check counts."""
    code = re.sub(r"[\s-]", "", raw)
    return code if _CODE.match(code) else None


def step_at(moment: dt.datetime) -> int:
    """The time step `moment` falls in."""
    return int(moment.timestamp()) // STEP_SECONDS


def code_at_step(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def matching_step(secret: str, code: str, *, now: dt.datetime, last_step: int) -> int | None:
    """The time step whose code `code` is, within ±1 step of `now` and newer than
    `last_step` (the newest step accepted before), or None.

    The caller stores the returned step as the new `last_step` in the same
    transaction, and only if it is still newer there, so two requests with the
    same code cannot both pass.
    """
    current = step_at(now)
    for step in range(current - TOLERATED_STEPS, current + TOLERATED_STEPS + 1):
        if step > last_step and hmac.compare_digest(code_at_step(secret, step), code):
            return step
    return None


# ------------------------------------------------------------------ encryption


def _key(secret_key: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"kundenportal totp secret"
    ).derive(secret_key.encode())


def seal(secret: str, *, secret_key: str, login_id: int) -> str:
    """Encrypt a TOTP secret (AES-256-GCM, key derived from SECRET_KEY), bound to its login:
    a sealed secret copied to another login's row does not open."""
    nonce = os.urandom(12)
    box = AESGCM(_key(secret_key)).encrypt(nonce, secret.encode(), f"totp:{login_id}".encode())
    return f"{_SEALED_VERSION}.{base64.urlsafe_b64encode(nonce + box).decode()}"


def unseal(sealed: str, *, secret_key: str, login_id: int) -> str:
    """The TOTP secret back; raises `cryptography.exceptions.InvalidTag` when tampered with."""
    version, _, body = sealed.partition(".")
    if version != _SEALED_VERSION:
        raise ValueError("unknown sealed secret format")
    raw = base64.urlsafe_b64decode(body)
    plain = AESGCM(_key(secret_key)).decrypt(raw[:12], raw[12:], f"totp:{login_id}".encode())
    return plain.decode()
