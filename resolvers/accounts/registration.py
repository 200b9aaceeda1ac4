"""Registration (R1–R5): prove the customer, choose a password, confirm with a PIN."""

from __future__ import annotations

import datetime as dt
import math
import secrets

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from mailers import is_valid_email, mask_address, queue_mail
from models import (
    Customer,
    Login,
    LoginCustomer,
    LoginState,
    OneTimeSecret,
    SecretPurpose,
    Session,
)
from resolvers.accounts.common import (
    available_at,
    clean_email,
    client_key,
    email_key,
    error,
    hash_password,
    mail_gate,
    password_errors,
    resend_refused,
    utcnow,
)
from resolvers.auth import caller, enforce, enforce_not_exceeded, limiter
from resolvers.context import Info, audit
from resolvers.customers import current_holder, has_annual_bill, verify_customer_claim
from schema.accounts import (
    AccountError,
    AccountErrorCode,
    ConfirmPinPayload,
    RegisterInput,
    RegisterPayload,
    ResendPinPayload,
)
from security import throttle
from security.devices import remember_device, set_device_cookie
from security.ratelimit import Limits
from security.tokens import hash_secret, new_pin, same
from settings import Settings

PIN_MAIL = "registration_pin"

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
    now = utcnow()
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
    cutoff = utcnow() - dt.timedelta(hours=settings.registration_expiry_hours)
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
    return await OneTimeSecret.filter(expires_at__lt=utcnow() - grace).delete()


async def purge_expired_sessions(settings: Settings) -> int:
    now = utcnow()
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


def _input_errors(info: Info, data: RegisterInput, email: str) -> list[AccountError]:
    errors = []
    if not data.customer_number.strip():
        errors.append(error(info, AccountErrorCode.VALUE_REQUIRED, "input", "customerNumber"))
    elif len(data.customer_number.strip()) > 20:
        errors.append(
            error(info, AccountErrorCode.CUSTOMER_NOT_VERIFIED, "input", "customerNumber")
        )
    if not (data.invoice_number or "").strip() and not (data.meter_number or "").strip():
        errors.append(error(info, AccountErrorCode.PROOF_REQUIRED, "input", "invoiceNumber"))
    if not is_valid_email(email):
        errors.append(error(info, AccountErrorCode.INVALID_EMAIL, "input", "email"))
    errors += password_errors(
        info,
        data.password,
        email=email,
        customer_numbers=[data.customer_number.strip()],
        field=["input", "password"],
    )
    return errors


async def register(info: Info, data: RegisterInput) -> RegisterPayload:
    """Create a pending login holding the customer number and mail it a PIN."""
    ctx, settings = info.context, info.context.settings
    await enforce(info, Limits.register_per_address(settings), ctx.client_address)
    email = clean_email(data.email)
    errors = _input_errors(info, data, email)
    if errors:
        return RegisterPayload(errors=errors)

    number = data.customer_number.strip()
    proof_limit = Limits.proof_failures_per_customer(settings)
    await enforce_not_exceeded(info, proof_limit, number)
    customer = await verify_customer_claim(
        number, data.invoice_number, data.meter_number, annual_bill_required=False
    )
    if customer is None:
        await limiter(info).hit(proof_limit, number)
        await audit(
            info, "registration_refused", None, outcome="refused", reason="customer_not_verified"
        )
        return RegisterPayload(
            errors=[error(info, AccountErrorCode.CUSTOMER_NOT_VERIFIED, "input", "customerNumber")]
        )
    if not await has_annual_bill(customer.number):
        return RegisterPayload(
            errors=[error(info, AccountErrorCode.NO_ANNUAL_BILL, "input", "customerNumber")]
        )
    await purge_expired_registrations(settings)
    if refused := await _customer_or_email_taken(info, customer, email):
        return RegisterPayload(errors=[refused])

    gate = await mail_gate(info, PIN_MAIL, email, dt.timedelta(minutes=settings.pin_resend_minutes))
    if not gate.allowed:
        return RegisterPayload(
            errors=[resend_refused(info, gate)], resend_available_at=available_at(gate)
        )

    password_hash = await hash_password(info, data.password)
    try:
        async with in_transaction():
            login = await Login.create(
                email=email,
                email_key=email_key(email),
                password_hash=password_hash,
                locale=ctx.locale,
            )
            await LoginCustomer.create(login=login, customer=customer)
            secret = await send_pin(login, settings)
            await audit(info, "register", login.id, client_key=client_key(info))
    except IntegrityError:
        # Someone registered the same customer or address a moment ago.
        refused = await _customer_or_email_taken(info, customer, email)
        return RegisterPayload(
            errors=[refused or error(info, AccountErrorCode.CUSTOMER_NUMBER_TAKEN, "input")]
        )
    expires_at, resend_at = pin_times(settings, secret.created_at)
    device = remember_device(ctx.request, settings, login, secret.created_at)
    if ctx.response is not None:
        set_device_cookie(ctx.response, device.token, settings)
    return RegisterPayload(
        mailed_to=mask_address(email),
        expires_at=expires_at,
        resend_available_at=resend_at,
        registration_expires_at=registration_expires_at(settings, login),
        device_token=device.token,
    )


async def _customer_or_email_taken(
    info: Info, customer: Customer, email: str
) -> AccountError | None:
    holder = await current_holder(customer)
    if holder is not None and holder.state == LoginState.PENDING:
        left = registration_expires_at(info.context.settings, holder) - utcnow()
        hours = max(1, math.ceil(left.total_seconds() / 3600))
        return error(
            info, AccountErrorCode.REGISTRATION_PENDING, "input", "customerNumber", hours=hours
        )
    if holder is not None:
        return error(info, AccountErrorCode.CUSTOMER_NUMBER_TAKEN, "input", "customerNumber")
    if await Login.filter(email_key=email_key(email)).exists():
        return error(info, AccountErrorCode.EMAIL_IN_USE, "input", "email")
    return None


async def confirm_pin(info: Info, email: str, pin: str) -> ConfirmPinPayload:
    """The PIN from the mail confirms the registration.

    Wrong entries are throttled per PIN as `Limits.pin_guesses` says: each client
    may make `pin_max_attempts`, all unknown clients together `pin_attempts_per_pin`
    (then the PIN is void for them); the device that registered keeps its own
    attempts, so nobody else can void the owner's PIN. Unknown clients are also
    limited per address (`pin_attempts_per_address`, every entry counts). The PIN's
    stored attempt count voids it for everyone at the sum of both limits, whatever
    the rate limiter remembers."""
    ctx, settings = info.context, info.context.settings
    login = await pending_login(clean_email(email), settings)
    who = caller(info, login)
    if who.device is None:
        await enforce(info, Limits.pin_attempts_per_address(settings), ctx.client_address)
    if login is None:
        return ConfirmPinPayload(errors=[error(info, AccountErrorCode.PIN_INVALID, "pin")])
    now = utcnow()
    guesses = Limits.pin_guesses(settings)
    async with in_transaction():
        secret = (
            await OneTimeSecret.filter(login_id=login.id, purpose=SecretPurpose.PIN, used_at=None)
            .order_by("-created_at", "-id")
            .select_for_update()
            .first()
        )
        if secret is None or secret.voided_at is not None:
            return ConfirmPinPayload(errors=[error(info, AccountErrorCode.PIN_VOID, "pin")])
        if secret.expires_at <= now:
            return ConfirmPinPayload(errors=[error(info, AccountErrorCode.PIN_EXPIRED, "pin")])
        account = f"pin:{secret.id}"
        if not (await throttle.refusal(limiter(info), guesses, account, who)).allowed:
            return ConfirmPinPayload(errors=[error(info, AccountErrorCode.PIN_VOID, "pin")])
        expected = _pin_hash(pin.strip(), login.id, secret.payload.get("salt", ""), settings)
        if not same(expected, secret.secret_hash):
            await throttle.failed(limiter(info), guesses, account, who)
            secret.attempts += 1
            if secret.attempts >= settings.pin_attempts_per_pin + settings.pin_max_attempts:
                secret.voided_at = now  # the bound that holds even if the limiter forgot
            await secret.save(update_fields=["attempts", "voided_at"])
            still = await throttle.refusal(limiter(info), guesses, account, who)
            code = AccountErrorCode.PIN_INVALID if still.allowed else AccountErrorCode.PIN_VOID
            return ConfirmPinPayload(errors=[error(info, code, "pin")])
        secret.used_at = now
        await secret.save(update_fields=["used_at"])
        login.state = LoginState.ACTIVE
        login.confirmed_at = now
        await login.save(update_fields=["state", "confirmed_at"])
        await audit(info, "registration_confirmed", login.id)
    return ConfirmPinPayload(confirmed=True)


async def resend_pin(info: Info, email: str) -> ResendPinPayload:
    """A new PIN, no sooner than `pin_times` allows; it voids the old.

    Answers the same for an address without a pending registration (no mail
    goes out), so the operation cannot tell who is registering.
    """
    settings = info.context.settings
    address = clean_email(email)
    if not is_valid_email(address):
        return ResendPinPayload(errors=[error(info, AccountErrorCode.INVALID_EMAIL, "email")])
    login = await pending_login(address, settings)
    if login is not None:
        last = (
            await OneTimeSecret.filter(login_id=login.id, purpose=SecretPurpose.PIN)
            .order_by("-created_at", "-id")
            .first()
        )
        if last is not None:
            _, resend_at = pin_times(settings, last.created_at)
            if resend_at > utcnow():
                return ResendPinPayload(
                    errors=[
                        error(
                            info,
                            AccountErrorCode.RESEND_NOT_YET_AVAILABLE,
                            minutes=math.ceil((resend_at - utcnow()).total_seconds() / 60),
                        )
                    ],
                    resend_available_at=resend_at,
                )
    gate = await mail_gate(
        info, PIN_MAIL, address, dt.timedelta(minutes=settings.pin_resend_minutes)
    )
    if not gate.allowed:
        return ResendPinPayload(
            errors=[resend_refused(info, gate)], resend_available_at=available_at(gate)
        )
    now = utcnow()
    if login is not None:
        async with in_transaction():
            secret = await send_pin(login, settings)
        now = secret.created_at
    expires_at, resend_at = pin_times(settings, now)
    return ResendPinPayload(
        mailed_to=mask_address(address), expires_at=expires_at, resend_available_at=resend_at
    )
