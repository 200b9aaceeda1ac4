"""R12: every change of customer data is confirmed by a mail to the login."""

from __future__ import annotations

from typing import Any

from mailers import mask_address, queue_mail
from models import (
    Customer,
    Login,
)
from settings import Settings


async def confirm_by_mail(
    kind: str, customer: Customer, login: Login, settings: Settings, conn: Any, **data: Any
) -> str:
    """R12: every change of customer data is confirmed by a mail to the login, in its
    language, queued in the change's transaction. Returns the address mailed, masked."""
    await queue_mail(
        kind,
        to=login.email,
        locale=login.locale,
        settings=settings,
        using_db=conn,
        customer_number=customer.number,
        name=customer.name,
        **data,
    )
    return mask_address(login.email)
