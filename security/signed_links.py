"""Short-lived signed links to one customer's document, for one login.

A link names the invoice, the login it was handed to and when it expires,
signed with HMAC-SHA256 under SECRET_KEY. Nothing is stored: the download route
checks the signature and the expiry, then loads the invoice through the login
again, so a link of a deleted profile, or of a customer the login no longer
holds, opens nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

_SCOPE = b"kundenportal document link:"


@dataclass(frozen=True)
class DocumentGrant:
    invoice_id: int
    login_id: int
    expires: int  # Unix seconds


def _signature(payload: str, key: str) -> str:
    digest = hmac.new(key.encode(), _SCOPE + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_document_link(grant: DocumentGrant, key: str) -> str:
    payload = f"{grant.invoice_id}.{grant.login_id}.{grant.expires}"
    return f"{payload}.{_signature(payload, key)}"


def open_document_link(token: str, key: str, *, now: int) -> DocumentGrant | None:
    """The grant of a well-signed link that has not expired; None for anything else."""
    payload, _, signature = token.rpartition(".")
    parts = payload.split(".")
    if len(parts) != 3 or not all(p.isdigit() and len(p) <= 12 for p in parts):
        return None
    if not hmac.compare_digest(signature, _signature(payload, key)):
        return None
    grant = DocumentGrant(*(int(p) for p in parts))
    return grant if now < grant.expires else None
