"""What a login holds: its customer numbers; and finding a login for staff."""

from __future__ import annotations

from models import Customer, Login, LoginCustomer
from resolvers.accounts.addresses import email_key


async def customer_numbers_of(login: Login) -> list[str]:
    numbers = (
        await LoginCustomer.filter(login_id=login.id)
        .order_by("added_at", "id")
        .values_list("customer__number", flat=True)
    )
    return [str(n) for n in numbers]


async def find_login(
    *, email: str | None = None, customer_number: str | None = None
) -> Login | None:
    """The login staff mean: by its e-mail address, or by a customer number it holds."""
    if email:
        return await Login.get_or_none(email_key=email_key(email.strip()))
    if customer_number:
        customer = await Customer.get_or_none(number=customer_number.strip())
        link = await LoginCustomer.get_or_none(customer_id=customer.id) if customer else None
        return await Login.get_or_none(id=link.login_id) if link else None
    return None
