"""Re-authentication: sensitive changes ask for the current password again.

Other areas use it too (setOnlineCustomer, base-data confirmation):

    if not await reauthenticate(info, input.current_password):
        return Payload(errors=[<their error with code REAUTHENTICATION_REQUIRED,
                                field ["input", "currentPassword"]>])

so that every sensitive mutation answers with the same code, whatever its area.
"""

from __future__ import annotations

import datetime as dt

from models import Session
from resolvers.accounts.common import (
    Info,
    Limits,
    check_password,
    limiter,
    refuse_rate_limited,
    utcnow,
)
from resolvers.auth import require_login
from security.audit import actor_for_login, record_audit


def needs_password_again(session: Session, reauth_minutes: int) -> bool:
    """Issue 9: a session that logged in longer ago than `reauth_minutes` (15) must give
    the password again before a sensitive change."""
    return utcnow() - session.authenticated_at >= dt.timedelta(minutes=reauth_minutes)


async def reauthenticate(info: Info, password: str | None, *, always: bool = False) -> bool:
    """True when the change may go ahead; False means REAUTHENTICATION_REQUIRED.

    `always=True` (changing the password or the login e-mail, deleting the
    profile) demands the password whatever the session's age. A password that
    is given must be right, even when it was not needed. A right password
    renews the session's authentication time; a wrong one counts as a failed
    login (so a stolen session cannot guess the password without limit).
    """
    login = require_login(info)
    ctx = info.context
    session = ctx.session
    assert session is not None
    if not password:
        return not always and not needs_password_again(session, ctx.settings.reauth_minutes)
    per_login = Limits.login_failures_per_login(ctx.settings)
    decision = await limiter(info).peek(per_login, login.email_key)
    if not decision.allowed:
        refuse_rate_limited(info, decision)
    if not await check_password(info, password, login.password_hash):
        await limiter(info).hit(per_login, login.email_key)
        await record_audit(
            "reauthentication_failed",
            actor=actor_for_login(login.id),
            outcome="failure",
            login_id=login.id,
            client_address=ctx.client_address,
        )
        return False
    session.authenticated_at = utcnow()
    await Session.filter(id=session.id).update(authenticated_at=session.authenticated_at)
    return True
