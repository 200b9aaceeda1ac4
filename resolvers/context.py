"""What every operation gets: the request, who is calling, per-request loaders; and
`audit`, which records what the caller did in the audit trail.

`api/` builds a `Context` for each request (`GraphQLView.get_context`); the
schema hands it to the operations as `info.context`. Operations never see
strawberry's `Info`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
    # Set by the schema before an operation runs: it is a mutation (see `require_login`).
    mutation: bool = False


async def audit(
    ctx: Context,
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
        client_address=ctx.client_address,
        **details,
    )
