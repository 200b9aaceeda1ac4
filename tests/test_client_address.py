"""Behind a reverse proxy the client address comes from configured proxies only."""

from __future__ import annotations

from starlette.requests import Request

from security.clients import client_address


def request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def test_without_trusted_proxies_the_peer_is_the_client():
    assert client_address(request("203.0.113.7", "198.51.100.1"), []) == "203.0.113.7"


def test_forwarded_for_from_an_untrusted_peer_is_ignored():
    forged = request("203.0.113.7", "198.51.100.1")
    assert client_address(forged, ["10.0.0.0/8"]) == "203.0.113.7"


def test_trusted_proxy_chain_yields_the_first_untrusted_hop_from_the_right():
    # the client forged 1.2.3.4 in front; the proxies appended the real address
    chain = request("10.0.0.2", "1.2.3.4, 198.51.100.9, 10.0.0.1")
    assert client_address(chain, ["10.0.0.0/8"]) == "198.51.100.9"
