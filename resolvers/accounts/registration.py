"""Registration (R1–R5): prove the customer, choose a password, confirm with a PIN."""

from __future__ import annotations

import datetime as dt
import math
import secrets
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

import clock
from mailers import is_valid_email, mask_address, queue_mail
from models import (
    Customer,
    Language,
    Login,
    LoginCustomer,
    LoginState,
    OneTimeSecret,
    SecretPurpose,
    Session,
)
from models.account_codes import AccountErrorCode
from models.errors import Outcome, Problem, problem
from resolvers.accounts.addresses import clean_email, email_key
from resolvers.accounts.clients import client_key, device_key
from resolvers.accounts.mails import Sent, available_at, mail_gate, resend_refused
from resolvers.accounts.new_password import hash_password, password_errors
from resolvers.auth import caller, enforce, limiter, refuse_rate_limited
from resolvers.context import Context, audit
from resolvers.customer_numbers import current_holder, has_annual_bill, verify_customer_claim
from security import throttle
from security.devices import remember_device, set_device_cookie
from security.ratelimit import Limits
from security.tokens import hash_secret, new_pin, same
from settings import Settings

PIN_MAIL = "registration_pin"


@dataclass(frozen=True)
class Registered(Sent):
    """What `register` answers: the PIN's times, and the device token for apps."""

    device_token: str | None = None


@dataclass(frozen=True)
class Registration:
    """What registering needs (R1): customer, proof, e-mail, password."""

    customer_number: str
    email: str
    password: str
    invoice_number: str | None = None
    meter_number: str | None = None


# ------------------------------------------------------------------ the rules


def pin_times(settings: Settings, issued_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """R4: a PIN is valid for 15 minutes; a new one can be requested after 5 minutes.

    Returns (valid until, new PIN available from); both minutes are settings.
    """
    return (
        issued_at + dt.timedelta(minutes=settings.pin_valid_minutes),
        issued_at + dt.timedelta(minutes=settings.pin_resend_minutes),
    )


def registration_expires_at(settings: Settings, login: Login) -> dt.datetime:
    return login.created_at + dt.timedelta(hours=settings.registration_expiry_hours)


def _pin_hash(pin: str, login_id: int, salt: str, settings: Settings) -> str:
    return hash_secret(pin, settings.secret_key, scope=f"pin:{login_id}:{salt}")


async def send_pin(login: Login, settings: Settings) -> OneTimeSecret:
    """Mail a new PIN (valid as `pin_times` says) to a pending login; it voids every
    earlier one. Call in a transaction."""
    now = clock.now()
    await OneTimeSecret.filter(
        login_id=login.id, purpose=SecretPurpose.PIN, used_at=None, voided_at=None
    ).update(voided_at=now)
    pin, salt = new_pin(), secrets.token_hex(8)
    expires_at, _ = pin_times(settings, now)
    secret = await OneTimeSecret.create(
        login=login,
        purpose=SecretPurpose.PIN,
        secret_hash=_pin_hash(pin, login.id, salt, settings),
        payload={"salt": salt},
        created_at=now,
        expires_at=expires_at,
    )
    await queue_mail(
        PIN_MAIL,
        to=login.email,
        locale=login.locale,
        settings=settings,
        pin=pin,
        valid_minutes=settings.pin_valid_minutes,
    )
    return secret


async def pending_login(address: str, settings: Settings) -> Login | None:
    """The unconfirmed, unexpired login of an address, if any."""
    await purge_expired_registrations(settings)
    return await Login.get_or_none(email_key=email_key(address), state=LoginState.PENDING)


# ------------------------------------------------------------------ purging


async def purge_expired_registrations(settings: Settings) -> int:
    """Remove registrations left unconfirmed past `registration_expiry_hours`.

    Their customer numbers and e-mail addresses are free again at once.
    """
    cutoff = clock.now() - dt.timedelta(hours=settings.registration_expiry_hours)
    expired = await Login.filter(state=LoginState.PENDING, created_at__lt=cutoff).values_list(
        "id", flat=True
    )
    if expired:
        await Login.filter(id__in=list(expired), state=LoginState.PENDING).delete()
    return len(expired)


async def purge_expired_secrets(
    settings: Settings, grace: dt.timedelta = dt.timedelta(days=1)
) -> int:
    """Forget PINs and links a day after they expired (until then they answer 'expired')."""
    return await OneTimeSecret.filter(expires_at__lt=clock.now() - grace).delete()


async def purge_expired_sessions(settings: Settings) -> int:
    now = clock.now()
    idle_cutoff = now - dt.timedelta(minutes=settings.session_idle_minutes)
    expired = await Session.filter(expires_at__lte=now).delete()
    return expired + await Session.filter(last_used_at__lte=idle_cutoff).delete()


async def purge_accounts(settings: Settings) -> dict[str, int]:
    """What a scheduled purge runs for the account area; returns counts per kind."""
    return {
        "registrations": await purge_expired_registrations(settings),
        "secrets": await purge_expired_secrets(settings),
        "sessions": await purge_expired_sessions(settings),
    }


# --------------------------------------------------------------- operations


def _input_errors(ctx: Context, data: Registration, email: str) -> list[Problem]:
    errors = []
    if not data.customer_number.strip():
        errors.append(problem(AccountErrorCode.REQUIRED, "input", "customerNumber"))
    elif len(data.customer_number.strip()) > 20:
        errors.append(problem(AccountErrorCode.CUSTOMER_NOT_VERIFIED))
    if not (data.invoice_number or "").strip() and not (data.meter_number or "").strip():
        # Neither proof was given: no single input is at fault.
        errors.append(problem(AccountErrorCode.PROOF_REQUIRED))
    if not is_valid_email(email):
        errors.append(problem(AccountErrorCode.EMAIL_INVALID, "input", "email"))
    errors += password_errors(
        ctx,
        data.password,
        email=email,
        customer_numbers=[data.customer_number.strip()],
        field=["input", "password"],
    )
    return errors


async def register(ctx: Context, data: Registration) -> Outcome[Sent]:
    """Create a pending login holding the customer number and mail it a PIN."""
    settings = ctx.settings
    await enforce(ctx, Limits.register_per_address(settings), ctx.client_address)
    email = clean_email(data.email)
    errors = _input_errors(ctx, data, email)
    if errors:
        return Outcome(problems=errors)

    number = data.customer_number.strip()
    # One guesser must not block the customer's own registration from elsewhere.
    proofs, who = Limits.proof_guesses(settings), caller(ctx, None)
    decision = await throttle.refusal(limiter(ctx), proofs, number, who)
    if not decision.allowed:
        refuse_rate_limited(ctx, decision)
    customer = await verify_customer_claim(
        number, data.invoice_number, data.meter_number, annual_bill_required=False
    )
    if customer is None:
        await throttle.failed(limiter(ctx), proofs, number, who)
        await audit(
            ctx, "registration_refused", None, outcome="refused", reason="customer_not_verified"
        )
        # Number and proof do not match: which of them is wrong is never said.
        return Outcome.failed(AccountErrorCode.CUSTOMER_NOT_VERIFIED)
    if not await has_annual_bill(customer.number):
        return Outcome.failed(AccountErrorCode.NO_ANNUAL_BILL, "input", "customerNumber")
    await purge_expired_registrations(settings)
    if refused := await _customer_or_email_taken(ctx, customer, email):
        return Outcome(problems=[refused])

    gate = await mail_gate(ctx, PIN_MAIL, email, dt.timedelta(minutes=settings.pin_resend_minutes))
    if not gate.allowed:
        return Outcome(
            Sent(resend_available_at=available_at(gate)), problems=[resend_refused(gate)]
        )

    password_hash = await hash_password(ctx, data.password)
    try:
        async with in_transaction():
            login = await Login.create(
                email=email,
                email_key=email_key(email),
                password_hash=password_hash,
                preferred_language=Language(ctx.locale),
            )
            await LoginCustomer.create(login=login, customer=customer)
            secret = await send_pin(login, settings)
            await audit(
                ctx, "register", login.id, client_key=client_key(ctx), device_key=device_key(ctx)
            )
    except IntegrityError:
        # Someone registered the same customer or address a moment ago.
        refused = await _customer_or_email_taken(ctx, customer, email)
        return Outcome(
            problems=[
                refused
                or problem(AccountErrorCode.CUSTOMER_NUMBER_TAKEN, "input", "customerNumber")
            ]
        )
    expires_at, resend_at = pin_times(settings, secret.created_at)
    device = remember_device(ctx.request, settings, login, secret.created_at)
    if ctx.response is not None:
        set_device_cookie(ctx.response, device.token, settings)
    return Outcome(
        Registered(
            expires_at=expires_at,
            resend_available_at=resend_at,
            registration_expires_at=registration_expires_at(settings, login),
            device_token=device.token,
        ),
        mailed_to=mask_address(email),
    )


async def _customer_or_email_taken(ctx: Context, customer: Customer, email: str) -> Problem | None:
    holder = await current_holder(customer)
    if holder is not None and holder.state == LoginState.PENDING:
        left = registration_expires_at(ctx.settings, holder) - clock.now()
        hours = max(1, math.ceil(left.total_seconds() / 3600))
        return problem(
            AccountErrorCode.REGISTRATION_PENDING, "input", "customerNumber", hours=hours
        )
    if holder is not None:
        return problem(AccountErrorCode.CUSTOMER_NUMBER_TAKEN, "input", "customerNumber")
    if await Login.filter(email_key=email_key(email)).exists():
        return problem(AccountErrorCode.EMAIL_IN_USE, "input", "email")
    return None


async def confirm_pin(ctx: Context, email: str, pin: str) -> Outcome[bool]:
    """The PIN from the mail confirms the registration.

    Wrong entries are throttled per PIN as `Limits.pin_guesses` says: each client
    may make `pin_max_attempts`, all unknown clients together `pin_attempts_per_pin`
    (then the PIN is void for them); the device that registered keeps its own
    attempts, so nobody else can void the owner's PIN. Unknown clients are also
    limited per address (`pin_attempts_per_address`, every entry counts). The PIN's
    stored attempt count voids it for everyone at the sum of both limits, whatever
    the rate limiter remembers."""
    settings = ctx.settings
    login = await pending_login(clean_email(email), settings)
    who = caller(ctx, login)
    if who.device is None:
        await enforce(ctx, Limits.pin_attempts_per_address(settings), ctx.client_address)
    if login is None:
        return Outcome.failed(AccountErrorCode.PIN_INVALID, "input", "pin")
    now = clock.now()
    guesses = Limits.pin_guesses(settings)
    async with in_transaction():
        secret = (
            await OneTimeSecret.filter(login_id=login.id, purpose=SecretPurpose.PIN, used_at=None)
            .order_by("-created_at", "-id")
            .select_for_update()
            .first()
        )
        if secret is None or secret.voided_at is not None:
            return Outcome.failed(AccountErrorCode.PIN_VOID, "input", "pin")
        if secret.expires_at <= now:
            return Outcome.failed(AccountErrorCode.PIN_EXPIRED, "input", "pin")
        account = f"pin:{secret.id}"
        if not (await throttle.refusal(limiter(ctx), guesses, account, who)).allowed:
            return Outcome.failed(AccountErrorCode.PIN_VOID, "input", "pin")
        expected = _pin_hash(pin.strip(), login.id, secret.payload.get("salt", ""), settings)
        if not same(expected, secret.secret_hash):
            await throttle.failed(limiter(ctx), guesses, account, who)
            secret.attempts += 1
            if secret.attempts >= settings.pin_attempts_per_pin + settings.pin_max_attempts:
                secret.voided_at = now  # the bound that holds even if the limiter forgot
            await secret.save(update_fields=["attempts", "voided_at"])
            still = await throttle.refusal(limiter(ctx), guesses, account, who)
            code = AccountErrorCode.PIN_INVALID if still.allowed else AccountErrorCode.PIN_VOID
            return Outcome.failed(code, "input", "pin")
        secret.used_at = now
        await secret.save(update_fields=["used_at"])
        login.state = LoginState.ACTIVE
        login.confirmed_at = now
        await login.save(update_fields=["state", "confirmed_at"])
        await audit(ctx, "registration_confirmed", login.id)
    return Outcome(True)


async def resend_pin(ctx: Context, email: str) -> Outcome[Sent]:
    """A new PIN, no sooner than `pin_times` allows; it voids the old.

    Answers the same for an address without a pending registration (no mail
    goes out), so the operation cannot tell who is registering.
    """
    settings = ctx.settings
    address = clean_email(email)
    if not is_valid_email(address):
        return Outcome.failed(AccountErrorCode.EMAIL_INVALID, "input", "email")
    login = await pending_login(address, settings)
    if login is not None:
        last = (
            await OneTimeSecret.filter(login_id=login.id, purpose=SecretPurpose.PIN)
            .order_by("-created_at", "-id")
            .first()
        )
        if last is not None:
            _, resend_at = pin_times(settings, last.created_at)
            if resend_at > clock.now():
                return Outcome(
                    Sent(resend_available_at=resend_at),
                    problems=[
                        problem(
                            AccountErrorCode.RESEND_NOT_YET_AVAILABLE,
                            minutes=math.ceil((resend_at - clock.now()).total_seconds() / 60),
                        )
                    ],
                )
    gate = await mail_gate(
        ctx, PIN_MAIL, address, dt.timedelta(minutes=settings.pin_resend_minutes)
    )
    if not gate.allowed:
        return Outcome(
            Sent(resend_available_at=available_at(gate)), problems=[resend_refused(gate)]
        )
    now = clock.now()
    if login is not None:
        async with in_transaction():
            secret = await send_pin(login, settings)
        now = secret.created_at
    expires_at, resend_at = pin_times(settings, now)
    return Outcome(
        Sent(expires_at=expires_at, resend_available_at=resend_at), mailed_to=mask_address(address)
    )
