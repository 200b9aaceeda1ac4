"""Builders for moving-out tests: a move-out as the portal stores it once reported."""

from __future__ import annotations

import datetime as dt

from models import Customer, MoveOut


async def reported_move_out(
    customer: Customer, move_out_on: dt.date, at: dt.datetime | None = None
) -> MoveOut:
    return await MoveOut.create(
        customer=customer,
        move_out_on=move_out_on,
        forwarding_name="Erika Mustermann",
        forwarding_street="Neue Straße 2",
        forwarding_postal_code="54321",
        forwarding_city="Anderswo",
        reported_at=at or dt.datetime.now(dt.UTC),
    )
