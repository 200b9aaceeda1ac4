"""Logins, their customer numbers, sessions, one-time secrets, contact and audit."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model

from models.customers import Customer


class LoginState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"


class Language(StrEnum):
    """A language the portal writes in: mails, messages."""

    DE = "de"
    EN = "en"


class SecretPurpose(StrEnum):
    PIN = "pin"
    PASSWORD_RESET = "password_reset"
    EMAIL_CHANGE = "email_change"
    EMAIL_CHANGE_UNDO = "email_change_undo"


class Login(Model):
    """Benutzerkonto: one e-mail and password, holding one or more customer numbers."""

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254)
    email_key = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=100)
    state = fields.CharEnumField(LoginState, max_length=10, default=LoginState.PENDING)
    preferred_language = fields.CharEnumField(Language, max_length=2, default=Language.DE)
    """The language of every mail to this login: taken from the registration's
    Accept-Language, then set by the customer (`setPreferredLanguage`), never by a login."""
    created_at = fields.DatetimeField(auto_now_add=True)
    confirmed_at = fields.DatetimeField(null=True)
    password_changed_at = fields.DatetimeField(null=True)
    last_login_at = fields.DatetimeField(null=True)

    customer_links: fields.ReverseRelation[LoginCustomer]

    @property
    def locale(self) -> str:
        """The locale of mails and messages for this login: its preferred language."""
        return self.preferred_language.value

    class Meta:
        table = "login"
        constraints = [
            CheckConstraint(check="email_key = lower(email)", name="ck_login_email_key"),
            CheckConstraint(check="state IN ('pending', 'active')", name="ck_login_state"),
            # The column was `locale` until 0009 renamed it; the check kept its name.
            CheckConstraint(check="preferred_language IN ('de', 'en')", name="ck_login_locale"),
            CheckConstraint(
                check="state = 'pending' OR confirmed_at IS NOT NULL",
                name="ck_login_active_confirmed",
            ),
        ]


class LoginCustomer(Model):
    """A customer number held by a login. R5: a customer belongs to at most one login."""

    id = fields.IntField(primary_key=True)
    login: fields.ForeignKeyRelation[Login] = fields.ForeignKeyField(
        "models.Login", related_name="customer_links", on_delete=fields.CASCADE
    )
    login_id: int
    customer: fields.OneToOneRelation[Customer] = fields.OneToOneField(
        "models.Customer", related_name="login_link", on_delete=fields.CASCADE
    )
    customer_id: int
    added_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "login_customer"
        indexes = [("login_id",)]


class Session(Model):
    """A logged-in client. The token itself is never stored, only its hash."""

    id = fields.IntField(primary_key=True)
    login: fields.ForeignKeyRelation[Login] = fields.ForeignKeyField(
        "models.Login", related_name="sessions", on_delete=fields.CASCADE
    )
    login_id: int
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    authenticated_at = fields.DatetimeField()
    # When this session last proved the login's second factor (step-up); null: never.
    second_factor_at = fields.DatetimeField(null=True)
    client = fields.CharField(max_length=200, default="")
    client_address = fields.CharField(max_length=64, default="")
    active_customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    active_customer_id: int | None

    class Meta:
        table = "session"
        indexes = [("login_id",), ("expires_at",)]


class OneTimeSecret(Model):
    """PIN, reset link, e-mail change. Only the hash is kept, with expiry and attempts."""

    id = fields.IntField(primary_key=True)
    login: fields.ForeignKeyRelation[Login] = fields.ForeignKeyField(
        "models.Login", related_name="secrets", on_delete=fields.CASCADE
    )
    login_id: int
    purpose = fields.CharEnumField(SecretPurpose, max_length=20)
    secret_hash = fields.CharField(max_length=64, unique=True)
    payload: fields.JSONField[dict] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    attempts = fields.IntField(default=0)
    used_at = fields.DatetimeField(null=True)
    voided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "one_time_secret"
        indexes = [("login_id", "purpose"), ("expires_at",)]
        constraints = [
            CheckConstraint(check="attempts >= 0", name="ck_secret_attempts"),
            CheckConstraint(check="expires_at > created_at", name="ck_secret_expiry"),
        ]


class ContactStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ContactMessage(Model):
    """A message from the public contact form, e.g. a deletion request (R8)."""

    id = fields.IntField(primary_key=True)
    department = fields.CharField(max_length=30)
    name = fields.CharField(max_length=200)
    customer_number = fields.CharField(max_length=20, default="")
    email = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=200)
    text = fields.TextField()
    status = fields.CharEnumField(ContactStatus, max_length=10, default=ContactStatus.OPEN)
    created_at = fields.DatetimeField(auto_now_add=True)
    closed_at = fields.DatetimeField(null=True)
    closed_by = fields.CharField(max_length=100, null=True)

    class Meta:
        table = "contact_message"
        constraints = [
            CheckConstraint(check="status IN ('open', 'closed')", name="ck_contact_status"),
        ]


class AuditEvent(Model):
    """Security-relevant action: who, what, from where, outcome, with no personal data."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True)
    action = fields.CharField(max_length=50)
    actor = fields.CharField(max_length=100)
    login_id = fields.IntField(null=True)
    client_address = fields.CharField(max_length=64, default="")
    outcome = fields.CharField(max_length=20)
    details: fields.JSONField[dict] = fields.JSONField(default=dict)

    class Meta:
        table = "audit_event"
        indexes = [("at",), ("login_id",)]


class BaseDataChange(Model):
    """R11: a requested change of base data that applies only when confirmed."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name=False, on_delete=fields.CASCADE
    )
    customer_id: int
    login: fields.ForeignKeyRelation[Login] = fields.ForeignKeyField(
        "models.Login", related_name=False, on_delete=fields.CASCADE
    )
    login_id: int
    changes: fields.JSONField[dict] = fields.JSONField()
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    confirmed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "base_data_change"
