"""What every resolver gets: the request, who is calling, per-request loaders; and
`audit`, which records what the caller did in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response

from security.audit import actor_for_login, record_audit
from security.passwords import PasswordHasher
from settings import Settings

if TYPE_CHECKING:
    from models import Login, Session


@dataclass
class Context:
    request: Request
    response: Response | None
    settings: Settings
    hasher: PasswordHasher
    locale: str
    client_address: str
    session: Session | None = None
    login: Login | None = None
    # Per-request DataLoaders, built lazily by the area that needs them; never shared.
    loaders: dict[str, Any] = field(default_factory=dict)
    # Set by the auth layer: the session came from a cookie (mutations then need CSRF proof).
    via_cookie: bool = False


Info = strawberry.Info[Context, None]
"""What every resolver takes as `info`."""


async def audit(
    info: Info,
    action: str,
    login_id: int | None,
    *,
    actor: str | None = None,
    outcome: str = "success",
    **details: Any,
) -> None:
    """Record `action` concerning login `login_id` (by default done by it) from this
    request's client address; see `security.audit.record_audit`."""
    await record_audit(
        action,
        actor=actor or actor_for_login(login_id),
        outcome=outcome,
        login_id=login_id,
        client_address=info.context.client_address,
        **details,
    )
