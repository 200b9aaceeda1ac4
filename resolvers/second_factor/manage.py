"""Setting the second factor up and taking it down: passkeys, the authenticator app,
recovery codes; by the login itself (with re-authentication and step-up) or by staff.

Every change is a change of the second factor itself: it needs the password
(`reauthenticate`, always at the start) and, once a factor is set up, a fresh
second factor (step-up). The first factor turns the second factor on and
comes with ten recovery codes; removing the last one turns it off. Each
change is mailed to the login's address and audited.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

import clock
from mailers import format_when, mask_address, queue_mail
from models import (
    AuthChallenge,
    AuthenticatorApp,
    ChallengePurpose,
    Passkey,
    RecoveryCode,
    RememberedDevice,
    Session,
)
from models.errors import Outcome
from models.second_factor_codes import SecondFactorErrorCode as Code
from resolvers.accounts.logins import find_login
from resolvers.accounts.notices import notify_second_factor as notify
from resolvers.auth import reauthentication_problem, require_login
from resolvers.context import Context, audit
from resolvers.second_factor.common import (
    Method,
    count_failure,
    forget_second_factor_if_none_left,
    has_second_factor,
    issue_webauthn_challenge,
    passkeys_for_options,
    refuse_if_guessing,
    relying_party,
    replace_recovery_codes,
)
from security import challenges, totp
from security.audit import actor_for_staff, record_audit
from security.passkeys import (
    PasskeyProblem,
    PasskeyRefused,
    b64url,
    read_credential,
    registration_options,
    unb64url,
    verify_registration,
)
from settings import Settings

NAME_MAX = 100


@dataclass(frozen=True)
class Overview:
    """A login's second factor as its settings page shows it; never a secret."""

    passkeys: list[Passkey]
    authenticator_app: AuthenticatorApp | None
    recovery_codes_left: int
    step_up_valid_until: dt.datetime | None

    @property
    def enabled(self) -> bool:
        return bool(self.passkeys) or self.authenticator_app is not None


async def overview(ctx: Context) -> Overview:
    login = require_login(ctx)
    passkeys = await Passkey.filter(login_id=login.id).order_by("created_at", "id")
    app = await AuthenticatorApp.get_or_none(login_id=login.id, confirmed_at__isnull=False)
    left = await RecoveryCode.filter(login_id=login.id, used_at__isnull=True).count()
    session = ctx.session
    until = None
    if session is not None and session.second_factor_at is not None:
        until = session.second_factor_at + dt.timedelta(minutes=ctx.settings.step_up_minutes)
        until = until if until > clock.now() else None
    return Overview(list(passkeys), app, left, until)


# --------------------------------------------------------------------- passkeys


@dataclass(frozen=True)
class Registered:
    """A new factor; `recovery_codes` only when it turned the second factor on."""

    passkey: Passkey | None = None
    recovery_codes: list[str] | None = None


def _clean_name(raw: str, path: tuple[str, ...]) -> Outcome[str]:
    name = " ".join("".join(c for c in raw if c.isprintable() or c.isspace()).split())
    if not name:
        return Outcome.failed(Code.REQUIRED, *path)
    if len(name) > NAME_MAX:
        return Outcome.failed(Code.TOO_LONG, *path, maximum=NAME_MAX)
    return Outcome(name)


async def start_passkey_registration(
    ctx: Context, current_password: str | None
) -> Outcome[dict[str, Any]]:
    """The options for `navigator.credentials.create`; the challenge is valid for minutes."""
    login = require_login(ctx)
    settings = ctx.settings
    if problem := await reauthentication_problem(
        ctx, current_password, Code, always=True, field=("input", "currentPassword")
    ):
        return Outcome(problems=[problem])
    existing = await passkeys_for_options(login.id)
    if len(existing) >= settings.passkeys_per_login:
        return Outcome.failed(Code.PASSKEY_LIMIT_REACHED, max=settings.passkeys_per_login)
    handle_row = await Passkey.filter(login_id=login.id).first()
    user_handle = handle_row.user_handle if handle_row else b64url(secrets.token_bytes(32))
    challenge = await issue_webauthn_challenge(
        ctx,
        ChallengePurpose.PASSKEY_REGISTRATION,
        login_id=login.id,
        session_id=ctx.session.id if ctx.session else None,
        payload={"user_handle": user_handle},
    )
    return Outcome(
        registration_options(
            relying_party(settings),
            challenge=challenge,
            user_handle=unb64url(user_handle),
            user_name=login.email,
            existing=existing,
        )
    )


async def register_passkey(ctx: Context, name: str, credential: Any) -> Outcome[Registered]:
    """Verify the browser's answer to the options and keep the new passkey."""
    login = require_login(ctx)
    settings = ctx.settings
    cleaned = _clean_name(name, ("input", "name"))
    if not cleaned.ok:
        return Outcome(problems=cleaned.problems)
    try:
        presented = read_credential(credential, registration=True)
    except PasskeyRefused as refused:
        return Outcome.failed(Code.PASSKEY_MALFORMED, "input", "credential", *refused.path)
    if problem := await reauthentication_problem(ctx, None, Code, field=()):
        return Outcome(problems=[problem])
    challenge = await challenges.take(
        ChallengePurpose.PASSKEY_REGISTRATION,
        b64url(presented.challenge),
        secret_key=settings.secret_key,
        login_id=login.id,
        session_id=ctx.session.id if ctx.session else None,
    )
    if challenge is None:
        return Outcome.failed(Code.CHALLENGE_EXPIRED, "input", "credential")
    try:
        new = verify_registration(presented, relying_party(settings), challenge=presented.challenge)
    except PasskeyRefused as refused:
        await audit(
            ctx, "passkey_add_failed", login.id, outcome="failure", reason=refused.problem.value
        )
        if refused.problem is PasskeyProblem.MALFORMED:
            return Outcome.failed(Code.PASSKEY_MALFORMED, "input", "credential", *refused.path)
        return Outcome.failed(Code.PASSKEY_REJECTED, "input", "credential")
    if await Passkey.exists(credential_id=new.credential_id):
        return Outcome.failed(Code.PASSKEY_REJECTED, "input", "credential")
    async with in_transaction():
        first = not await has_second_factor(login.id)
        row = await Passkey.create(
            login_id=login.id,
            name=cleaned.value,
            credential_id=new.credential_id,
            public_key=new.public_key,
            sign_count=new.sign_count,
            user_handle=challenge.payload.get("user_handle", ""),
            transports=new.transports,
            aaguid=new.aaguid,
            backed_up=new.backed_up,
            created_at=clock.now(),
        )
        codes = await replace_recovery_codes(login, settings) if first else None
        await _factor_given(ctx)
        mailed_to = await notify(ctx, "second_factor_added", login, factor="passkey", name=row.name)
        await audit(ctx, "passkey_added", login.id, passkey=row.id, first=first)
    return Outcome(Registered(passkey=row, recovery_codes=codes), mailed_to=mailed_to)


async def _factor_given(ctx: Context) -> None:
    """The session just proved a factor (it set one up with it): step-up fresh."""
    if ctx.session is not None:
        ctx.session.second_factor_at = clock.now()
        await Session.filter(id=ctx.session.id).update(
            second_factor_at=ctx.session.second_factor_at
        )


async def rename_passkey(ctx: Context, passkey_pk: int, name: str) -> Outcome[Passkey]:
    """Give one of the login's passkeys another name. The name is only a label for its
    owner (the settings page and the notice mails show it), not part of the factor: no
    re-authentication, no mail. Audited when it changes."""
    login = require_login(ctx)
    cleaned = _clean_name(name, ("input", "name"))
    if not cleaned.ok or cleaned.value is None:
        return Outcome(problems=cleaned.problems)
    row = await Passkey.get_or_none(id=passkey_pk, login_id=login.id)
    if row is None:
        return Outcome.failed(Code.NOT_FOUND, "input", "id")
    if row.name != cleaned.value:
        async with in_transaction():
            row.name = cleaned.value
            await row.save(update_fields=["name"])
            await audit(ctx, "passkey_renamed", login.id, passkey=row.id)
    return Outcome(row)


async def remove_passkey(
    ctx: Context, passkey_pk: int, current_password: str | None
) -> Outcome[bool]:
    """Remove one passkey of the login; with it the last factor, the second factor is off."""
    login = require_login(ctx)
    if problem := await reauthentication_problem(
        ctx, current_password, Code, always=True, field=("input", "currentPassword")
    ):
        return Outcome(problems=[problem])
    row = await Passkey.get_or_none(id=passkey_pk, login_id=login.id)
    if row is None:
        return Outcome.failed(Code.NOT_FOUND, "input", "id")
    async with in_transaction():
        await row.delete()
        still = await forget_second_factor_if_none_left(login.id)
        mailed_to = await notify(
            ctx,
            "second_factor_removed",
            login,
            factor="passkey",
            name=row.name,
            by_staff=False,
            still_protected=still,
        )
        await audit(ctx, "passkey_removed", login.id, passkey=row.id, still_on=still)
    return Outcome(still, mailed_to=mailed_to)


# ------------------------------------------------------------ authenticator app


@dataclass(frozen=True)
class AppEnrolment:
    """What the front end shows to set up the app: the QR code's URI and the secret
    for typing it in by hand, until `expires_at`."""

    otpauth_uri: str
    secret: str
    expires_at: dt.datetime


async def start_authenticator_app(
    ctx: Context, current_password: str | None
) -> Outcome[AppEnrolment]:
    """A new TOTP secret, waiting for its first code (`confirm_authenticator_app`)."""
    login = require_login(ctx)
    settings = ctx.settings
    if problem := await reauthentication_problem(
        ctx, current_password, Code, always=True, field=("input", "currentPassword")
    ):
        return Outcome(problems=[problem])
    if await AuthenticatorApp.exists(login_id=login.id, confirmed_at__isnull=False):
        return Outcome.failed(Code.ALREADY_ENROLLED)
    secret = totp.new_secret()
    now = clock.now()
    async with in_transaction():
        await AuthenticatorApp.filter(login_id=login.id).delete()
        await AuthenticatorApp.create(
            login_id=login.id,
            secret_sealed=totp.seal(secret, secret_key=settings.secret_key, login_id=login.id),
            created_at=now,
        )
    return Outcome(
        AppEnrolment(
            otpauth_uri=totp.provisioning_uri(
                secret, account=login.email, issuer=settings.totp_issuer
            ),
            secret=secret,
            expires_at=now + dt.timedelta(minutes=settings.totp_enrolment_minutes),
        )
    )


async def confirm_authenticator_app(ctx: Context, raw_code: str) -> Outcome[Registered]:
    """The app's first code proves it holds the secret; from now on it is a second factor."""
    login = require_login(ctx)
    settings = ctx.settings
    code = totp.clean_code(raw_code)
    if code is None:
        return Outcome.failed(Code.CODE_FORMAT_INVALID, "input", "code")
    if problem := await reauthentication_problem(ctx, None, Code, field=()):
        return Outcome(problems=[problem])
    now = clock.now()
    app = await AuthenticatorApp.get_or_none(
        login_id=login.id,
        confirmed_at__isnull=True,
        created_at__gt=now - dt.timedelta(minutes=settings.totp_enrolment_minutes),
    )
    if app is None:
        return Outcome.failed(Code.ENROLMENT_EXPIRED, "input", "code")
    await refuse_if_guessing(ctx, login)
    secret = totp.unseal(app.secret_sealed, secret_key=settings.secret_key, login_id=login.id)
    step = totp.matching_step(secret, code, now=now, last_step=0)
    if step is None:
        await count_failure(ctx, login, Method.AUTHENTICATOR_APP, "wrong_code")
        return Outcome.failed(Code.CODE_INVALID, "input", "code")
    async with in_transaction():
        first = not await has_second_factor(login.id)
        await AuthenticatorApp.filter(id=app.id).update(
            confirmed_at=now, last_step=step, last_used_at=now
        )
        codes = await replace_recovery_codes(login, settings) if first else None
        await _factor_given(ctx)
        mailed_to = await notify(ctx, "second_factor_added", login, factor="authenticator_app")
        await audit(ctx, "authenticator_app_added", login.id, first=first)
    return Outcome(Registered(recovery_codes=codes), mailed_to=mailed_to)


async def remove_authenticator_app(ctx: Context, current_password: str | None) -> Outcome[bool]:
    """Remove the authenticator app; with it the last factor, the second factor is off."""
    login = require_login(ctx)
    if problem := await reauthentication_problem(
        ctx, current_password, Code, always=True, field=("input", "currentPassword")
    ):
        return Outcome(problems=[problem])
    async with in_transaction():
        confirmed = await AuthenticatorApp.exists(login_id=login.id, confirmed_at__isnull=False)
        if not confirmed:
            return Outcome.failed(Code.NO_SECOND_FACTOR)
        await AuthenticatorApp.filter(login_id=login.id).delete()
        still = await forget_second_factor_if_none_left(login.id)
        mailed_to = await notify(
            ctx,
            "second_factor_removed",
            login,
            factor="authenticator_app",
            name="",
            by_staff=False,
            still_protected=still,
        )
        await audit(ctx, "authenticator_app_removed", login.id, still_on=still)
    return Outcome(still, mailed_to=mailed_to)


# --------------------------------------------------------------- recovery codes


async def regenerate_recovery_codes(
    ctx: Context, current_password: str | None
) -> Outcome[Registered]:
    """Ten new recovery codes, shown once; the old ones stop working."""
    login = require_login(ctx)
    if problem := await reauthentication_problem(
        ctx, current_password, Code, always=True, field=("input", "currentPassword")
    ):
        return Outcome(problems=[problem])
    if not await has_second_factor(login.id):
        return Outcome.failed(Code.NO_SECOND_FACTOR)
    async with in_transaction():
        codes = await replace_recovery_codes(login, ctx.settings)
        mailed_to = await notify(ctx, "second_factor_added", login, factor="recovery_codes")
        await audit(ctx, "recovery_codes_replaced", login.id)
    return Outcome(Registered(recovery_codes=codes), mailed_to=mailed_to)


# ------------------------------------------------------------------------ staff


async def remove_second_factors_by_staff(
    settings: Settings,
    *,
    staff: str,
    reason: str,
    email: str | None = None,
    customer_number: str | None = None,
) -> tuple[str, int] | None:
    """Staff remove every second factor of a login, after verifying the person's identity
    (e.g. lost phone and recovery codes): passkeys, app, recovery codes, remembered
    devices and open challenges. Audited with who and why; the login is told by mail.

    Returns the masked address and how many factors went, None if no such login.
    """
    login = await find_login(email=email, customer_number=customer_number)
    if login is None:
        return None
    async with in_transaction():
        removed = await Passkey.filter(login_id=login.id).delete()
        removed += await AuthenticatorApp.filter(login_id=login.id).delete()
        await RecoveryCode.filter(login_id=login.id).delete()
        await RememberedDevice.filter(login_id=login.id).delete()
        await AuthChallenge.filter(login_id=login.id).delete()
        await queue_mail(
            "second_factor_removed",
            to=login.email,
            locale=login.locale,
            settings=settings,
            when=format_when(clock.now(), login.locale, settings),
            client="",
            forgot_link=settings.portal_url.rstrip("/") + settings.forgot_password_path,
            factor="all",
            name="",
            by_staff=True,
            still_protected=False,
        )
        await record_audit(
            "second_factors_removed_by_staff",
            actor=actor_for_staff(staff),
            login_id=login.id,
            reason=reason[:200],
            removed=removed,
        )
    return mask_address(login.email), removed


# ------------------------------------------------------------------------ privacy


async def export_second_factor(login_id: int) -> dict[str, Any]:
    """The second factor in the GDPR export: names and dates, never a key, secret or code."""
    passkeys = await Passkey.filter(login_id=login_id).order_by("created_at", "id")
    app = await AuthenticatorApp.get_or_none(login_id=login_id, confirmed_at__isnull=False)
    left = await RecoveryCode.filter(login_id=login_id, used_at__isnull=True).count()
    used = await RecoveryCode.filter(login_id=login_id, used_at__isnull=False).count()
    remembered = await RememberedDevice.filter(login_id=login_id).order_by("created_at")

    def iso(moment: dt.datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "passkeys": [
            {
                "name": p.name,
                "createdAt": iso(p.created_at),
                "lastUsedAt": iso(p.last_used_at),
                "synced": p.backed_up,
            }
            for p in passkeys
        ],
        "authenticatorApp": {
            "createdAt": iso(app.confirmed_at or app.created_at),
            "lastUsedAt": iso(app.last_used_at),
        }
        if app
        else None,
        "recoveryCodes": {"left": left, "used": used},
        "rememberedDevices": [
            {"since": iso(d.created_at), "until": iso(d.remembered_until)} for d in remembered
        ],
    }
