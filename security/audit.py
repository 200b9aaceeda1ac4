"""The audit trail: who did what security-relevant thing, from where, with what outcome.

Details never hold personal data (no e-mail addresses, names, passwords or
tokens): the login's id, the client address and a few codes are enough to
follow an incident. Kept for `audit_retention_days`.
"""

from __future__ import annotations

from typing import Any

from models import AuditEvent

# Keys that must never reach the trail, whoever calls.
_FORBIDDEN = {"email", "password", "token", "pin", "name", "new_email", "old_email"}


def actor_for_login(login_id: int | None) -> str:
    return f"login:{login_id}" if login_id is not None else "anonymous"


def actor_for_staff(name: str) -> str:
    return f"staff:{name}"[:100]


async def record_audit(
    action: str,
    *,
    actor: str,
    outcome: str = "success",
    login_id: int | None = None,
    client_address: str = "",
    using_db: Any = None,
    **details: Any,
) -> AuditEvent:
    """Write one audit event; call inside the transaction of the change it records.

    `action` is a short verb phrase (`login`, `login_failed`, `lockout`,
    `password_changed`, `login_deleted_by_staff`, …); `outcome` is `success`,
    `failure` or `refused`.
    """
    leaked = _FORBIDDEN & details.keys()
    if leaked:
        raise ValueError(f"audit details must not hold personal data: {sorted(leaked)}")
    return await AuditEvent.create(
        action=action[:50],
        actor=actor[:100],
        login_id=login_id,
        client_address=client_address[:64],
        outcome=outcome[:20],
        details=details,
        using_db=using_db,
    )
