"""What a login holds: its customer numbers."""

from __future__ import annotations

from models import Login, LoginCustomer


async def customer_numbers_of(login: Login) -> list[str]:
    numbers = (
        await LoginCustomer.filter(login_id=login.id)
        .order_by("added_at", "id")
        .values_list("customer__number", flat=True)
    )
    return [str(n) for n in numbers]
