"""The client of a request, as notices name it and the audit trail remembers it."""

from __future__ import annotations

import re

from resolvers.context import Context
from security.devices import device_id
from security.tokens import hash_secret


def user_agent(ctx: Context) -> str:
    return ctx.request.headers.get("user-agent", "")[:200]


_URL_LIKE = re.compile(r"[a-z][a-z0-9+.-]*://\S*|www\.\S*", re.IGNORECASE)
_UNSAFE = re.compile(r"[^A-Za-z0-9 ._/();,:+\-]")


def describe_client(ctx: Context, locale: str) -> str:
    """The client as a notice names it: its User-Agent and network address.

    The User-Agent is whatever the client sent, so links and odd characters are
    taken out: a notice must not carry text an attacker wrote for the victim.
    """
    agent = " ".join(_UNSAFE.sub("", _URL_LIKE.sub("", user_agent(ctx))).split())[:120]
    agent = agent or ("unknown program" if locale == "en" else "unbekanntes Programm")
    return f"{agent} ({ctx.client_address or '?'})"


def client_key(ctx: Context) -> str:
    """A keyed fingerprint of the client (User-Agent and address), for 'seen before?'.

    Stored in audit details instead of the User-Agent and address themselves.
    """
    seen = f"{user_agent(ctx)}|{ctx.client_address}"
    return hash_secret(seen, ctx.settings.secret_key, scope="client")[:16]


def device_fingerprint(ctx: Context, device: str) -> str:
    """A keyed fingerprint of a device token's stable id, kept in audit details."""
    return hash_secret(device, ctx.settings.secret_key, scope="device")[:16]


def device_key(ctx: Context) -> str | None:
    """The fingerprint of the device behind the request (its cookie `kp_device` or header
    `X-Device-Token`), for "has this login seen this device?"; None when the request
    carries no valid device token."""
    found = device_id(ctx.request, ctx.settings)
    return device_fingerprint(ctx, found) if found else None
