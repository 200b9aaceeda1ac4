"""What the second-factor operations share: the relying party, whether a login has a
second factor, checking a presented factor (code, recovery code or passkey) with
its throttling, recovery codes, and the notices."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

import clock
from models import (
    AuthenticatorApp,
    ChallengePurpose,
    Login,
    Passkey,
    RecoveryCode,
    RememberedDevice,
    factor_methods,
)
from models import FactorMethod as Method
from models.errors import Outcome
from models.second_factor_codes import SecondFactorErrorCode as Code
from resolvers.accounts.notices import notify_second_factor as notify
from resolvers.auth import caller, limiter, refuse_rate_limited
from resolvers.context import Context, audit
from security import challenges, recovery_codes, throttle, totp
from security.passkeys import (
    PasskeyProblem,
    PasskeyRefused,
    RelyingParty,
    b64url,
    read_credential,
)
from security.passkeys import verify_assertion as verify_passkey_assertion
from security.ratelimit import Limits
from settings import Settings


def relying_party(settings: Settings) -> RelyingParty:
    """The relying party of the settings: RP ID, name, allowed origins, ceremony timeout."""
    return RelyingParty(
        id=settings.webauthn_rp_id,
        name=settings.webauthn_rp_name,
        origins=list(settings.webauthn_origins),
        timeout_ms=settings.webauthn_challenge_minutes * 60_000,
    )


async def has_second_factor(login_id: int) -> bool:
    """Opt-in: a login has its second factor on once it holds a passkey or a confirmed app."""
    return bool(await factor_methods(login_id))


async def passkeys_for_options(login_id: int) -> list[tuple[str, list[str]]]:
    """(credential id, transports) of the login's passkeys, for allow/exclude lists."""
    rows = await Passkey.filter(login_id=login_id).order_by("id")
    return [(row.credential_id, list(row.transports or [])) for row in rows]


async def issue_webauthn_challenge(
    ctx: Context,
    purpose: ChallengePurpose,
    *,
    login_id: int | None = None,
    session_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> bytes:
    """A fresh WebAuthn challenge for one ceremony, stored hashed and single use for
    `webauthn_challenge_minutes`; bound to the login and session when given."""
    challenge = challenges.new_webauthn_challenge()
    await challenges.issue(
        purpose,
        secret_key=ctx.settings.secret_key,
        lifetime=dt.timedelta(minutes=ctx.settings.webauthn_challenge_minutes),
        secret=b64url(challenge),
        login_id=login_id,
        session_id=session_id,
        payload=payload,
    )
    return challenge


# ----------------------------------------------------------------- recovery codes


async def replace_recovery_codes(login: Login, settings: Settings) -> list[str]:
    """Ten new recovery codes; the old ones stop working. Call in a transaction.

    Returned once for the person to keep; only their hashes are stored.
    """
    codes = recovery_codes.new_codes()
    now = clock.now()
    await RecoveryCode.filter(login_id=login.id).delete()
    await RecoveryCode.bulk_create(
        [
            RecoveryCode(
                login_id=login.id,
                code_hash=recovery_codes.code_hash(
                    recovery_codes.clean_code(code) or "",
                    secret_key=settings.secret_key,
                    login_id=login.id,
                ),
                created_at=now,
            )
            for code in codes
        ]
    )
    return codes


async def forget_second_factor_if_none_left(login_id: int) -> bool:
    """After a factor was removed: with none left, the recovery codes and remembered
    devices go too (the second factor is off). Returns whether one is still set up."""
    if await has_second_factor(login_id):
        return True
    await RecoveryCode.filter(login_id=login_id).delete()
    await RememberedDevice.filter(login_id=login_id).delete()
    return False


# ------------------------------------------------------------------ the answer


@dataclass(frozen=True)
class FactorAnswer:
    """What a client presents as its second factor: exactly one of the three."""

    code: str | None = None
    recovery_code: str | None = None
    passkey: Any = None  # the PublicKeyCredential's JSON from navigator.credentials.get


ChallengeCheck = Callable[[bytes], Awaitable[bool]]
"""Is this WebAuthn challenge (from the client data) the one issued for this ceremony?"""


async def check_answer(
    ctx: Context,
    login: Login,
    answer: FactorAnswer,
    *,
    challenge_ok: ChallengeCheck,
    path: tuple[str, ...] = ("input",),
) -> Outcome[Method]:
    """Check a presented second factor of `login`; the method it was, or the problems.

    Input that cannot be an answer (a code with letters, a passkey answer that
    is not base64url) is refused before anything is checked or counted. Wrong
    answers count against the login and the client (`security.throttle`, the
    same rules as wrong passwords: the guesser is slowed down, the owner's
    known devices are not), and are audited with the reason.
    """
    given = [v is not None and v != "" for v in (answer.code, answer.recovery_code, answer.passkey)]
    if sum(given) != 1:
        return Outcome.failed(Code.CHOICE_REQUIRED, *path)
    if answer.passkey is not None:
        outcome = await _check_passkey(ctx, login, answer.passkey, challenge_ok, path)
    elif answer.code is not None:
        outcome = await _check_code(ctx, login, answer.code, path)
    else:
        outcome = await _check_recovery_code(ctx, login, answer.recovery_code or "", path)
    if outcome.ok:
        await throttle.succeeded(
            limiter(ctx),
            Limits.second_factor_guesses(ctx.settings),
            _account(login),
            caller(ctx, login),
        )
    return outcome


def _account(login: Login) -> str:
    return f"login:{login.id}"


async def count_failure(
    ctx: Context, login: Login, method: Method, reason: str, *, action: str = "second_factor_failed"
) -> None:
    """A wrong second factor: counted against the login and the client, and audited."""
    await throttle.failed(
        limiter(ctx),
        Limits.second_factor_guesses(ctx.settings),
        _account(login),
        caller(ctx, login),
    )
    await audit(ctx, action, login.id, outcome="failure", method=method.value, reason=reason)


async def refuse_if_guessing(ctx: Context, login: Login) -> None:
    """Too many wrong second factors from this client (or unknown clients) for `login`:
    429 with Retry-After, before anything is checked."""
    decision = await throttle.refusal(
        limiter(ctx),
        Limits.second_factor_guesses(ctx.settings),
        _account(login),
        caller(ctx, login),
    )
    if not decision.allowed:
        refuse_rate_limited(ctx, decision)


async def _refused(
    ctx: Context, login: Login, code: Code, path: tuple[str, ...], reason: str, method: Method
) -> Outcome[Method]:
    await count_failure(ctx, login, method, reason)
    return Outcome.failed(code, *path)


async def _check_code(
    ctx: Context, login: Login, raw: str, path: tuple[str, ...]
) -> Outcome[Method]:
    code = totp.clean_code(raw)
    field = (*path, "code")
    if code is None:
        return Outcome.failed(Code.CODE_FORMAT_INVALID, *field)
    await refuse_if_guessing(ctx, login)
    app = await AuthenticatorApp.get_or_none(login_id=login.id, confirmed_at__isnull=False)
    if app is None:
        return await _refused(
            ctx, login, Code.CODE_INVALID, field, "no_app", Method.AUTHENTICATOR_APP
        )
    secret = totp.unseal(app.secret_sealed, secret_key=ctx.settings.secret_key, login_id=login.id)
    now = clock.now()
    step = totp.matching_step(secret, code, now=now, last_step=app.last_step)
    # Conditional on the stored step, so two requests with one code cannot both pass.
    if step is None or not await AuthenticatorApp.filter(id=app.id, last_step__lt=step).update(
        last_step=step, last_used_at=now
    ):
        return await _refused(
            ctx, login, Code.CODE_INVALID, field, "wrong_or_used", Method.AUTHENTICATOR_APP
        )
    return Outcome(Method.AUTHENTICATOR_APP)


async def _check_recovery_code(
    ctx: Context, login: Login, raw: str, path: tuple[str, ...]
) -> Outcome[Method]:
    code = recovery_codes.clean_code(raw)
    field = (*path, "recoveryCode")
    if code is None:
        return Outcome.failed(Code.CODE_FORMAT_INVALID, *field)
    await refuse_if_guessing(ctx, login)
    hashed = recovery_codes.code_hash(code, secret_key=ctx.settings.secret_key, login_id=login.id)
    async with in_transaction():
        used = await RecoveryCode.filter(
            login_id=login.id, code_hash=hashed, used_at__isnull=True
        ).update(used_at=clock.now())
        if not used:
            return await _refused(
                ctx, login, Code.CODE_INVALID, field, "wrong_or_used", Method.RECOVERY_CODE
            )
        remaining = await RecoveryCode.filter(login_id=login.id, used_at__isnull=True).count()
        await notify(ctx, "recovery_code_used", login, remaining=remaining)
        await audit(ctx, "recovery_code_used", login.id, remaining=remaining)
    return Outcome(Method.RECOVERY_CODE)


async def _check_passkey(
    ctx: Context, login: Login, raw: Any, challenge_ok: ChallengeCheck, path: tuple[str, ...]
) -> Outcome[Method]:
    field = (*path, "passkey")
    try:
        presented = read_credential(raw, registration=False)
    except PasskeyRefused as refused:
        return Outcome.failed(Code.PASSKEY_MALFORMED, *field, *refused.path)
    await refuse_if_guessing(ctx, login)
    if not await challenge_ok(presented.challenge):
        return Outcome.failed(Code.CHALLENGE_EXPIRED, *field)
    row = await Passkey.get_or_none(login_id=login.id, credential_id=presented.credential_id)
    if row is None:
        return await _refused(
            ctx, login, Code.PASSKEY_UNKNOWN, field, "unknown_credential", Method.PASSKEY
        )
    problem = await use_passkey(ctx, row, presented, expected_challenge=presented.challenge)
    if problem is not None:
        code = (
            Code.PASSKEY_MALFORMED if problem is PasskeyProblem.MALFORMED else Code.PASSKEY_REJECTED
        )
        return await _refused(ctx, login, code, field, problem.value, Method.PASSKEY)
    return Outcome(Method.PASSKEY)


async def use_passkey(
    ctx: Context, row: Passkey, presented: Any, *, expected_challenge: bytes
) -> PasskeyProblem | None:
    """Verify an assertion of stored passkey `row` and record its use (new counter, time).

    A counter that went back is audited as a suspected clone; the passkey
    stays, so its owner is not locked out, and the answer is refused.
    """
    try:
        assertion = verify_passkey_assertion(
            presented,
            relying_party(ctx.settings),
            challenge=expected_challenge,
            public_key=row.public_key,
            sign_count=row.sign_count,
        )
    except PasskeyRefused as refused:
        if refused.problem is PasskeyProblem.COUNTER:
            await audit(
                ctx,
                "passkey_clone_suspected",
                row.login_id,
                actor="system",
                outcome="refused",
                passkey=row.id,
                stored_count=row.sign_count,
            )
        return refused.problem
    now = clock.now()
    # Conditional on the stored counter: two uses racing with one assertion cannot both pass.
    updated = await Passkey.filter(id=row.id, sign_count=row.sign_count).update(
        sign_count=assertion.new_sign_count, last_used_at=now, backed_up=assertion.backed_up
    )
    if not updated:
        return PasskeyProblem.COUNTER
    row.sign_count, row.last_used_at = assertion.new_sign_count, now
    return None


def same_challenge(expected: bytes) -> ChallengeCheck:
    """A `ChallengeCheck` against one known challenge (the login token's)."""

    async def check(presented: bytes) -> bool:
        return hmac.compare_digest(presented, expected)

    return check


__all__ = ["FactorAnswer", "Method", "check_answer", "factor_methods", "has_second_factor"]
