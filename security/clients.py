"""Who is on the other end: the client address, trusting only configured proxies."""

from __future__ import annotations

import ipaddress

from starlette.requests import Request


def _is_trusted(address: str, trusted: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in trusted)


def client_address(request: Request, trusted_proxies: list[str]) -> str:
    """The peer's address; X-Forwarded-For is believed only from a trusted proxy.

    Walks the forwarded chain from the right and stops at the first hop that is
    not a trusted proxy, so a client cannot forge its own address.
    """
    peer = request.client.host if request.client else ""
    if not trusted_proxies or not _is_trusted(peer, trusted_proxies):
        return peer
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted_proxies):
            return hop
    return hops[0] if hops else peer
