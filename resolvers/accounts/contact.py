"""The public contact form, e.g. deletion requests to the billing department (R8)."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.transactions import in_transaction

import clock
from mailers import format_when, is_valid_email, mask_address, queue_mail
from models import ContactMessage, ContactStatus
from models.contact_codes import ContactErrorCode
from models.errors import Outcome, Problem, problem
from resolvers.accounts.addresses import clean_email
from resolvers.auth import enforce
from resolvers.context import Context
from security.audit import actor_for_staff, record_audit
from security.ratelimit import Limits
from settings import Settings

LIMITS = {"name": 200, "customerNumber": 20, "subject": 200}
BILLING = "billing"
"""Verbrauchsabrechnung: invoices, and requests to delete a login (R8)."""


@dataclass(frozen=True)
class ContactRequest:
    """A message through the public contact form; `department` is `billing` or `general`."""

    department: str
    name: str
    email: str
    subject: str
    text: str
    customer_number: str | None = None


def department_address(department: str, settings: Settings) -> str:
    if department == BILLING:
        return settings.billing_department_address
    return settings.general_department_address


def _errors(ctx: Context, data: ContactRequest) -> list[Problem]:
    errors = []
    values = {
        "name": data.name.strip(),
        "customerNumber": (data.customer_number or "").strip(),
        "subject": data.subject.strip(),
        "text": data.text.strip(),
    }
    limits = {**LIMITS, "text": ctx.settings.contact_text_max_chars}
    for field, value in values.items():
        if not value and field != "customerNumber":
            errors.append(problem(ContactErrorCode.REQUIRED, "input", field))
        elif len(value) > limits[field]:
            errors.append(problem(ContactErrorCode.TOO_LONG, "input", field, maximum=limits[field]))
    if not is_valid_email(clean_email(data.email)):
        errors.append(problem(ContactErrorCode.EMAIL_INVALID, "input", "email"))
    return errors


async def send_contact_message(ctx: Context, data: ContactRequest) -> Outcome[int]:
    """Store the message and mail it to the department's address; rate-limited per client."""
    settings = ctx.settings
    await enforce(ctx, Limits.contact_per_address(settings), ctx.client_address)
    errors = _errors(ctx, data)
    if errors:
        return Outcome(problems=errors)
    to = department_address(data.department, settings)
    async with in_transaction():
        message = await ContactMessage.create(
            department=data.department,
            name=data.name.strip(),
            customer_number=(data.customer_number or "").strip(),
            email=clean_email(data.email),
            subject=data.subject.strip(),
            text=data.text.strip(),
        )
        await queue_mail(
            "contact_message",
            to=to,
            locale="de",
            settings=settings,
            reference=message.id,
            department=data.department,
            name=message.name,
            customer_number=message.customer_number,
            sender=message.email,
            subject=message.subject,
            text=message.text,
            when=format_when(message.created_at, "de", settings),
        )
    return Outcome(message.id, mailed_to=mask_address(to))


async def list_contact_messages(*, include_closed: bool = False) -> list[ContactMessage]:
    """For staff (`kundenportal contact list`): open messages, oldest first."""
    query = (
        ContactMessage.all() if include_closed else ContactMessage.filter(status=ContactStatus.OPEN)
    )
    return list(await query.order_by("created_at", "id"))


async def close_contact_message(message_id: int, *, staff: str) -> bool:
    """For staff (`kundenportal contact close ID`); False if no open message has that id."""
    async with in_transaction():
        closed = await ContactMessage.filter(id=message_id, status=ContactStatus.OPEN).update(
            status=ContactStatus.CLOSED, closed_at=clock.now(), closed_by=staff[:100]
        )
        if closed:
            await record_audit(
                "contact_message_closed", actor=actor_for_staff(staff), message_id=message_id
            )
    return bool(closed)
