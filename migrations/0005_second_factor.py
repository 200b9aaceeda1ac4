"""A login's second factor: passkeys, an authenticator app, recovery codes, the
challenges of their ceremonies, remembered devices, and when a session last gave it.

No check constraints here: on SQLite adding one rebuilds the table and loses its
indexes and unique keys (see 0004).
"""

import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.second_factor import ChallengePurpose


class Migration(migrations.Migration):
    dependencies = [("models", "0004_sqlite_indexes")]

    initial = False

    operations = [
        ops.CreateModel(
            name="AuthChallenge",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "purpose",
                    fields.CharEnumField(
                        description="PASSKEY_REGISTRATION: passkey_registration\nPASSKEY_LOGIN: passkey_login\nSECOND_FACTOR_LOGIN: second_factor_login\nSTEP_UP: step_up",
                        enum_type=ChallengePurpose,
                        max_length=30,
                    ),
                ),
                ("secret_hash", fields.CharField(unique=True, max_length=64)),
                (
                    "login",
                    fields.ForeignKeyField(
                        "models.Login",
                        source_field="login_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "session",
                    fields.ForeignKeyField(
                        "models.Session",
                        source_field="session_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "payload",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("attempts", fields.IntField(default=0)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "auth_challenge",
                "app": "models",
                "indexes": [Index(fields=["expires_at"])],
                "pk_attr": "id",
                "table_description": "A WebAuthn challenge, or the token of a login that still owes its second factor.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AuthenticatorApp",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "login",
                    fields.OneToOneField(
                        "models.Login",
                        source_field="login_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="authenticator_app",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("secret_sealed", fields.CharField(max_length=300)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "confirmed_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("last_step", fields.BigIntField(default=0)),
                (
                    "last_used_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "authenticator_app",
                "app": "models",
                "pk_attr": "id",
                "table_description": "An authenticator app (TOTP, RFC 6238), its secret kept encrypted.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Passkey",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "login",
                    fields.ForeignKeyField(
                        "models.Login",
                        source_field="login_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="passkeys",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=100)),
                ("credential_id", fields.CharField(unique=True, max_length=1400)),
                ("public_key", fields.TextField(unique=False)),
                ("sign_count", fields.BigIntField(default=0)),
                ("user_handle", fields.CharField(max_length=100)),
                (
                    "transports",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("aaguid", fields.CharField(default="", max_length=36)),
                ("backed_up", fields.BooleanField(default=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "last_used_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "passkey",
                "app": "models",
                "indexes": [Index(fields=["login_id"])],
                "pk_attr": "id",
                "table_description": "A WebAuthn credential (passkey) of a login.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="RecoveryCode",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "login",
                    fields.ForeignKeyField(
                        "models.Login",
                        source_field="login_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="recovery_codes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("code_hash", fields.CharField(unique=True, max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "recovery_code",
                "app": "models",
                "indexes": [Index(fields=["login_id"])],
                "pk_attr": "id",
                "table_description": "One of ten single-use recovery codes, only its hash kept.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="RememberedDevice",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "login",
                    fields.ForeignKeyField(
                        "models.Login",
                        source_field="login_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="remembered_devices",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("device_hash", fields.CharField(max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("remembered_until", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "remembered_device",
                "app": "models",
                "unique_together": [("login_id", "device_hash")],
                "pk_attr": "id",
                "table_description": "A device that may skip the second factor for a while.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Session",
            name="second_factor_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
