"""The public contact form, e.g. deletion requests to the billing department (R8)."""

from __future__ import annotations

from tortoise.transactions import in_transaction

import clock
from mailers import format_when, is_valid_email, mask_address, queue_mail
from models import ContactMessage, ContactStatus
from resolvers.accounts.common import clean_email, error
from resolvers.auth import enforce
from resolvers.context import Info
from schema.accounts import (
    AccountError,
    AccountErrorCode,
    ContactDepartment,
    ContactMessageInput,
    SendContactMessagePayload,
)
from security.audit import actor_for_staff, record_audit
from security.ratelimit import Limits
from settings import Settings

LIMITS = {"name": 200, "customerNumber": 20, "subject": 200}


def department_address(department: ContactDepartment, settings: Settings) -> str:
    if department is ContactDepartment.BILLING:
        return settings.billing_department_address
    return settings.general_department_address


def _errors(info: Info, data: ContactMessageInput) -> list[AccountError]:
    errors = []
    values = {
        "name": data.name.strip(),
        "customerNumber": (data.customer_number or "").strip(),
        "subject": data.subject.strip(),
        "text": data.text.strip(),
    }
    limits = {**LIMITS, "text": info.context.settings.contact_text_max_chars}
    for field, value in values.items():
        if not value and field != "customerNumber":
            errors.append(error(info, AccountErrorCode.VALUE_REQUIRED, "input", field))
        elif len(value) > limits[field]:
            errors.append(
                error(info, AccountErrorCode.VALUE_TOO_LONG, "input", field, max=limits[field])
            )
    if not is_valid_email(clean_email(data.email)):
        errors.append(error(info, AccountErrorCode.INVALID_EMAIL, "input", "email"))
    return errors


async def send_contact_message(info: Info, data: ContactMessageInput) -> SendContactMessagePayload:
    """Store the message and mail it to the department's address; rate-limited per client."""
    ctx, settings = info.context, info.context.settings
    await enforce(info, Limits.contact_per_address(settings), ctx.client_address)
    errors = _errors(info, data)
    if errors:
        return SendContactMessagePayload(errors=errors)
    to = department_address(data.department, settings)
    async with in_transaction():
        message = await ContactMessage.create(
            department=data.department.value,
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
            department=data.department.value,
            name=message.name,
            customer_number=message.customer_number,
            sender=message.email,
            subject=message.subject,
            text=message.text,
            when=format_when(message.created_at, "de", settings),
        )
    return SendContactMessagePayload(mailed_to=mask_address(to), reference=message.id)


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
