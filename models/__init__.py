"""All Tortoise models of the app `models`, one module per aggregate."""

from models.accounts import (
    AuditEvent,
    BaseDataChange,
    ContactMessage,
    ContactStatus,
    Login,
    LoginCustomer,
    LoginState,
    OneTimeSecret,
    SecretPurpose,
    Session,
)
from models.clients import Partner, PartnerOperation
from models.customers import (
    Customer,
    Invoice,
    InvoiceKind,
    Meter,
    MeterKind,
    MeterReading,
    ReadingPeriod,
    ReadingSource,
)
from models.mail import MailStatus, OutboxMail
from models.second_factor import (
    AuthChallenge,
    AuthenticatorApp,
    ChallengePurpose,
    Passkey,
    RecoveryCode,
    RememberedDevice,
)

__all__ = [
    "AuditEvent",
    "AuthChallenge",
    "AuthenticatorApp",
    "BaseDataChange",
    "ChallengePurpose",
    "ContactMessage",
    "ContactStatus",
    "Customer",
    "Invoice",
    "InvoiceKind",
    "Login",
    "LoginCustomer",
    "LoginState",
    "MailStatus",
    "Meter",
    "MeterKind",
    "MeterReading",
    "OneTimeSecret",
    "OutboxMail",
    "Partner",
    "PartnerOperation",
    "Passkey",
    "ReadingPeriod",
    "ReadingSource",
    "RecoveryCode",
    "RememberedDevice",
    "SecretPurpose",
    "Session",
]
