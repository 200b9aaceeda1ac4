"""A login's second factor: passkeys, an authenticator app, recovery codes, and the
short-lived challenges and remembered devices of the ceremonies that use them.

A login has its second factor on once it holds a passkey or a confirmed
authenticator app; from then on a password alone starts no session. Secrets
are never stored in the clear: recovery codes and challenge tokens only as
keyed hashes, the authenticator app's secret encrypted (it must be read back
to compute codes). All rows go with the login (on delete cascade).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.accounts import Login, Session


class FactorMethod(StrEnum):
    """How a second factor is given."""

    PASSKEY = "passkey"
    AUTHENTICATOR_APP = "authenticator_app"
    RECOVERY_CODE = "recovery_code"


class Passkey(Model):
    """A WebAuthn credential (passkey): logs in without a password, or serves as the
    second factor after it. Only its public key is known here."""

    id = fields.IntField(primary_key=True)
    login: fields.ForeignKeyRelation[Login] = fields.ForeignKeyField(
        "models.Login", related_name="passkeys", on_delete=fields.CASCADE
    )
    login_id: int
    name = fields.CharField(max_length=100)
    credential_id = fields.CharField(max_length=1400, unique=True)  # base64url, ≤ 1023 bytes
    public_key = fields.TextField()  # base64url of the COSE key
    sign_count = fields.BigIntField(default=0)
    user_handle = fields.CharField(max_length=100)  # base64url; the same for all of a login
    transports: fields.JSONField[list] = fields.JSONField(default=list)
    aaguid = fields.CharField(max_length=36, default="")
    backed_up = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "passkey"
        indexes = [("login_id",)]


class AuthenticatorApp(Model):
    """An authenticator app (TOTP, RFC 6238). Its secret is kept encrypted with a key
    derived from SECRET_KEY; `last_step` is the newest time step whose code was
    accepted, so no code is accepted twice."""

    id = fields.IntField(primary_key=True)
    login: fields.OneToOneRelation[Login] = fields.OneToOneField(
        "models.Login", related_name="authenticator_app", on_delete=fields.CASCADE
    )
    login_id: int
    secret_sealed = fields.CharField(max_length=300)
    created_at = fields.DatetimeField()
    confirmed_at = fields.DatetimeField(null=True)  # null: enrolment waits for the first code
    last_step = fields.BigIntField(default=0)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "authenticator_app"


class RecoveryCode(Model):
    """One of ten single-use recovery codes, for when the passkey or phone is lost.

    Only its hash is kept.
    """

    id = fields.IntField(primary_key=True)
    login: fields.ForeignKeyRelation[Login] = fields.ForeignKeyField(
        "models.Login", related_name="recovery_codes", on_delete=fields.CASCADE
    )
    login_id: int
    code_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "recovery_code"
        indexes = [("login_id",)]


class ChallengePurpose(StrEnum):
    PASSKEY_REGISTRATION = "passkey_registration"
    PASSKEY_LOGIN = "passkey_login"
    SECOND_FACTOR_LOGIN = "second_factor_login"
    STEP_UP = "step_up"


class AuthChallenge(Model):
    """A WebAuthn challenge, or the token of a login that still owes its second factor.

    Single use and short-lived; only a keyed hash of the secret is kept. Bound to
    the login (and, for a logged-in ceremony, the session) it was issued to.
    """

    id = fields.IntField(primary_key=True)
    purpose = fields.CharEnumField(ChallengePurpose, max_length=30)
    secret_hash = fields.CharField(max_length=64, unique=True)
    login: fields.ForeignKeyNullableRelation[Login] = fields.ForeignKeyField(
        "models.Login", related_name=False, null=True, on_delete=fields.CASCADE
    )
    login_id: int | None
    session: fields.ForeignKeyNullableRelation[Session] = fields.ForeignKeyField(
        "models.Session", related_name=False, null=True, on_delete=fields.CASCADE
    )
    session_id: int | None
    payload: fields.JSONField[dict] = fields.JSONField(default=dict)
    attempts = fields.IntField(default=0)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "auth_challenge"
        indexes = [("expires_at",)]


class RememberedDevice(Model):
    """A device on which the login gave its second factor and asked to be remembered:
    logins from it may skip the factor until `remembered_until`."""

    id = fields.IntField(primary_key=True)
    login: fields.ForeignKeyRelation[Login] = fields.ForeignKeyField(
        "models.Login", related_name="remembered_devices", on_delete=fields.CASCADE
    )
    login_id: int
    device_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    remembered_until = fields.DatetimeField()

    class Meta:
        table = "remembered_device"
        unique_together = [("login_id", "device_hash")]


async def factor_methods(login_id: int) -> list[FactorMethod]:
    """The second factors a login has set up; none means its second factor is off.

    Opt-in: it is on once the login holds a passkey or a confirmed authenticator
    app. Recovery codes count only beside one of them: they are its fallback.
    """
    methods = []
    if await Passkey.exists(login_id=login_id):
        methods.append(FactorMethod.PASSKEY)
    if await AuthenticatorApp.exists(login_id=login_id, confirmed_at__isnull=False):
        methods.append(FactorMethod.AUTHENTICATOR_APP)
    if methods and await RecoveryCode.exists(login_id=login_id, used_at__isnull=True):
        methods.append(FactorMethod.RECOVERY_CODE)
    return methods


def second_factor_fresh(session: Session, *, now: dt.datetime, step_up_minutes: int) -> bool:
    """Step-up: did this session give the second factor less than `step_up_minutes` ago?"""
    given = session.second_factor_at
    return given is not None and now - given < dt.timedelta(minutes=step_up_minutes)
