"""The second factor at login and before sensitive changes.

- A password login of a login with the second factor on starts no session on a
  new device: it answers `SecondFactorNeeded` with a short-lived, single-use
  token (and passkey options when the login has passkeys); `complete_login`
  takes the token and one factor and starts the session.
- A remembered device (the device cookie, and "remember this device" chosen
  when the factor was given there) skips the factor for `remember_device_days`.
- `login_with_passkey`: a discoverable passkey with user verification logs in
  without a password; it is two factors at once.
- Step-up: `start_step_up` and `step_up` renew the session's second factor, which
  `resolvers.auth.reauthenticate` asks for before every sensitive change.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from typing import Any

import clock
from models import (
    ChallengePurpose,
    Login,
    LoginState,
    Passkey,
    Session,
    factor_methods,
)
from models.errors import Outcome
from models.second_factor_codes import SecondFactorErrorCode as Code
from resolvers.accounts.sessions import start_logged_in
from resolvers.auth import enforce, require_login
from resolvers.context import Context, audit
from resolvers.second_factor.common import (
    FactorAnswer,
    Method,
    check_answer,
    count_failure,
    issue_webauthn_challenge,
    passkeys_for_options,
    refuse_if_guessing,
    relying_party,
    same_challenge,
    use_passkey,
)
from security import challenges
from security.passkeys import (
    PasskeyProblem,
    PasskeyRefused,
    authentication_options,
    b64url,
    read_credential,
    unb64url,
)
from security.ratelimit import Limits


async def complete_login(
    ctx: Context, token: str, answer: FactorAnswer, remember_device: bool
) -> Outcome[Any]:
    """The second step of a password login: the token and one second factor."""
    settings = ctx.settings
    challenge = await challenges.find_live(
        ChallengePurpose.SECOND_FACTOR_LOGIN,
        token,
        secret_key=settings.secret_key,
        max_attempts=settings.second_factor_attempts,
    )
    login = (
        await Login.get_or_none(id=challenge.login_id) if challenge and challenge.login_id else None
    )
    if challenge is None or login is None:
        return Outcome.failed(Code.CHALLENGE_EXPIRED, "input", "token")
    expected = challenge.payload.get("webauthn_challenge")
    expected_bytes = unb64url(expected) if isinstance(expected, str) else b""
    checked = await check_answer(ctx, login, answer, challenge_ok=same_challenge(expected_bytes))
    if not checked.ok:
        await challenges.count_attempt(challenge)
        return Outcome(problems=checked.problems)
    if not await challenges.use(challenge):
        return Outcome.failed(Code.CHALLENGE_EXPIRED, "input", "token")
    method = checked.value.value if checked.value else ""
    await audit(ctx, "second_factor_given", login.id, method=method, remembered=remember_device)
    return await start_logged_in(
        ctx, login, second_factor=True, remember=remember_device, method=method
    )


# ------------------------------------------------------------------ passkey login


async def start_passkey_login(ctx: Context) -> Outcome[dict[str, Any]]:
    """Options for `navigator.credentials.get` with no allow list: the browser offers the
    passkeys it holds for this site (discoverable credentials)."""
    settings = ctx.settings
    await enforce(ctx, Limits.passkey_logins_per_address(settings), ctx.client_address)
    challenge = await issue_webauthn_challenge(ctx, ChallengePurpose.PASSKEY_LOGIN)
    return Outcome(authentication_options(relying_party(settings), challenge=challenge, allowed=[]))


async def login_with_passkey(ctx: Context, credential: Any) -> Outcome[Any]:
    """Log in with a passkey alone: user verification makes it two factors at once."""
    field = ("input", "credential")
    try:
        presented = read_credential(credential, registration=False)
    except PasskeyRefused as refused:
        return Outcome.failed(Code.PASSKEY_MALFORMED, *field, *refused.path)
    taken = await challenges.take(
        ChallengePurpose.PASSKEY_LOGIN,
        b64url(presented.challenge),
        secret_key=ctx.settings.secret_key,
    )
    if taken is None:
        return Outcome.failed(Code.CHALLENGE_EXPIRED, *field)
    row = await Passkey.get_or_none(credential_id=presented.credential_id)
    login = await Login.get_or_none(id=row.login_id) if row else None
    if row is None or login is None or login.state != LoginState.ACTIVE:
        await audit(
            ctx, "passkey_login_failed", None, outcome="failure", reason="unknown_credential"
        )
        return Outcome.failed(Code.PASSKEY_UNKNOWN, *field)
    await refuse_if_guessing(ctx, login)
    handle_ok = presented.user_handle is None or hmac.compare_digest(
        unb64url(presented.user_handle), unb64url(row.user_handle)
    )
    problem = (
        await use_passkey(ctx, row, presented, expected_challenge=presented.challenge)
        if handle_ok
        else PasskeyProblem.INVALID
    )
    if problem is not None:
        await count_failure(
            ctx, login, Method.PASSKEY, problem.value, action="passkey_login_failed"
        )
        code = (
            Code.PASSKEY_MALFORMED if problem is PasskeyProblem.MALFORMED else Code.PASSKEY_REJECTED
        )
        return Outcome.failed(code, *field)
    return await start_logged_in(ctx, login, second_factor=True, method="passkey")


# ------------------------------------------------------------------------ step-up


@dataclass(frozen=True)
class StepUpStart:
    methods: list[Method]
    passkey_options: dict[str, Any] | None


async def start_step_up(ctx: Context) -> Outcome[StepUpStart]:
    """What the login can give as a fresh second factor; passkey options when it has passkeys."""
    login = require_login(ctx)
    settings = ctx.settings
    methods = await factor_methods(login.id)
    if not methods:
        return Outcome.failed(Code.NO_SECOND_FACTOR)
    options = None
    if Method.PASSKEY in methods:
        challenge = await issue_webauthn_challenge(
            ctx,
            ChallengePurpose.STEP_UP,
            login_id=login.id,
            session_id=ctx.session.id if ctx.session else None,
        )
        options = authentication_options(
            relying_party(settings),
            challenge=challenge,
            allowed=await passkeys_for_options(login.id),
        )
    return Outcome(StepUpStart(methods, options))


async def step_up(ctx: Context, answer: FactorAnswer) -> Outcome[dt.datetime]:
    """A fresh second factor for this session; sensitive changes may follow until the
    returned time (`step_up_minutes`)."""
    login = require_login(ctx)
    session = ctx.session
    assert session is not None
    if not await factor_methods(login.id):
        return Outcome.failed(Code.NO_SECOND_FACTOR)

    async def issued_to_this_session(presented: bytes) -> bool:
        return (
            await challenges.take(
                ChallengePurpose.STEP_UP,
                b64url(presented),
                secret_key=ctx.settings.secret_key,
                login_id=login.id,
                session_id=session.id,
            )
            is not None
        )

    checked = await check_answer(ctx, login, answer, challenge_ok=issued_to_this_session)
    if not checked.ok:
        return Outcome(problems=checked.problems)
    now = clock.now()
    session.second_factor_at = now
    await Session.filter(id=session.id).update(second_factor_at=now)
    await audit(ctx, "step_up", login.id, method=checked.value.value if checked.value else "")
    return Outcome(now + dt.timedelta(minutes=ctx.settings.step_up_minutes))
