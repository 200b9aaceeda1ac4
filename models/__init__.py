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
from models.money import (
    BankAccount,
    BankChangeStatus,
    BankDetailsChange,
    BudgetChangeRequest,
    BudgetPlan,
    InvoiceDocument,
    PaymentMethod,
    RequestStatus,
    Rhythm,
)
from models.moving import FinalReading, MoveOut
from models.photos import MeterPhoto
from models.reminders import ReadingReminder, ReminderKind, ReminderOptOut

__all__ = [
    "AuditEvent",
    "BankAccount",
    "BankChangeStatus",
    "BankDetailsChange",
    "BaseDataChange",
    "BudgetChangeRequest",
    "BudgetPlan",
    "ContactMessage",
    "ContactStatus",
    "Customer",
    "FinalReading",
    "Invoice",
    "InvoiceDocument",
    "InvoiceKind",
    "Login",
    "LoginCustomer",
    "LoginState",
    "MailPriority",
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
    "PaymentMethod",
    "ReadingPeriod",
    "ReadingReminder",
    "ReadingSource",
    "ReminderKind",
    "ReminderOptOut",
    "RequestStatus",
    "Rhythm",
    "SecretPurpose",
    "Session",
]
