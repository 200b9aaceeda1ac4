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
from models.moving import FinalReading, MoveOut
from models.photos import MeterPhoto
from models.reminders import ReadingReminder, ReminderKind, ReminderOptOut

__all__ = [
    "AuditEvent",
    "BaseDataChange",
    "ContactMessage",
    "ContactStatus",
    "Customer",
    "FinalReading",
    "Invoice",
    "InvoiceKind",
    "Login",
    "LoginCustomer",
    "LoginState",
    "MailStatus",
    "Meter",
    "MeterKind",
    "MeterPhoto",
    "MeterReading",
    "MoveOut",
    "OneTimeSecret",
    "OutboxMail",
    "Partner",
    "PartnerOperation",
    "ReadingPeriod",
    "ReadingReminder",
    "ReadingSource",
    "ReminderKind",
    "ReminderOptOut",
    "SecretPurpose",
    "Session",
]
