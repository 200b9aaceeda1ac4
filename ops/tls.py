"""TLS for `kundenportal serve --certfile --keyfile` (R18): TLS 1.2 or newer only."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any


def tls12_context(config: Any, default_factory: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """uvicorn's context with older protocol versions switched off."""
    context = default_factory()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
