"""What every resolver gets: the request, who is calling, per-request loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response

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
