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
from models.mail import MailPriority, MailStatus, OutboxMail

__all__ = [
    "AuditEvent",
    "BaseDataChange",
    "ContactMessage",
    "ContactStatus",
    "Customer",
    "Invoice",
    "InvoiceKind",
    "Login",
    "LoginCustomer",
    "LoginState",
    "MailPriority",
    "MailStatus",
    "Meter",
    "MeterKind",
    "MeterReading",
    "OneTimeSecret",
    "OutboxMail",
    "Partner",
    "PartnerOperation",
    "ReadingPeriod",
    "ReadingSource",
    "SecretPurpose",
    "Session",
]
