"""The second factor in GraphQL: passkeys (WebAuthn), the authenticator app (TOTP),
recovery codes, the second step of a login, passkey login and step-up.

WebAuthn options and credentials travel as JSON (the `JSON` scalar) in the
shape of the WebAuthn Level 3 JSON forms: the options as
`PublicKeyCredentialCreationOptionsJSON` / `…RequestOptionsJSON` (binary
members base64url), the browser's answer as `PublicKeyCredential.toJSON()`.
README "Second factor" shows a front end calling them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from models import AuthenticatorApp as AppRow
from models import Passkey as PasskeyRow
from models.errors import Outcome
from models.second_factor_codes import SecondFactorErrorCode
from resolvers.second_factor import login as login_ops
from resolvers.second_factor import manage as manage_ops
from resolvers.second_factor.common import FactorAnswer, Method
from schema.accounts import AccountType, SecondFactorMethod
from schema.context import Info
from schema.errors import SENSITIVE, Paths, UserError, declare_errors, error_type, payload
from schema.ids import Node, decode_id, encode_id


def _arg(description: str) -> Any:
    return strawberry.argument(description=description)


@strawberry.type(description="An expected failure of a second-factor operation.")
@error_type(SecondFactorErrorCode)
class SecondFactorError(UserError):
    pass


def _methods(methods: list[Method]) -> list[SecondFactorMethod]:
    return SecondFactorMethod.of(methods)


@strawberry.type(
    name="Passkey",
    description="A passkey of the login. Its key stays on the person's device.",
)
class PasskeyType(Node):
    id: strawberry.ID = strawberry.field(
        description="Opaque ID; identifies the passkey for `renamePasskey`, `removePasskey` "
        "and `node(id:)`."
    )
    name: str = strawberry.field(description="The name the person gave it.")
    created_at: dt.datetime = strawberry.field(description="When it was added.")
    last_used_at: dt.datetime | None = strawberry.field(description="When it was last used.")
    synced: bool = strawberry.field(
        description="Backed up by its provider (a synced passkey), so it survives a lost device."
    )

    @classmethod
    def from_model(cls, row: PasskeyRow) -> PasskeyType:
        return cls(
            id=encode_id("Passkey", row.id),
            name=row.name,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            synced=row.backed_up,
        )


@strawberry.type(name="AuthenticatorApp", description="The login's authenticator app.")
class AuthenticatorAppType:
    created_at: dt.datetime = strawberry.field(description="When it was set up.")
    last_used_at: dt.datetime | None = strawberry.field(description="When a code was last used.")

    @classmethod
    def from_model(cls, row: AppRow) -> AuthenticatorAppType:
        return cls(created_at=row.confirmed_at or row.created_at, last_used_at=row.last_used_at)


@strawberry.type(
    name="SecondFactor", description="The login's second factor, as its settings page shows it."
)
class SecondFactorType:
    enabled: bool = strawberry.field(
        description="On once a passkey or an authenticator app is set up: then a new device "
        "needs a second factor at login, and sensitive changes need a fresh one."
    )
    passkeys: list[PasskeyType] = strawberry.field(
        description="The login's passkeys, oldest first."
    )
    authenticator_app: AuthenticatorAppType | None = strawberry.field(
        description="The authenticator app, if one is set up."
    )
    recovery_codes_left: int = strawberry.field(description="Unused recovery codes.")
    step_up_valid_until: dt.datetime | None = strawberry.field(
        description="Until when this session may make sensitive changes without giving the "
        "second factor again; null when it must (see `startStepUp`)."
    )


# ------------------------------------------------------------------------- inputs

_CURRENT_PASSWORD = (
    "The current password (re-authentication); may be left out only while the session is fresh."
)
_CODE = "The six-digit code the authenticator app shows."
_RECOVERY = "One of the recovery codes (`xxxxx-xxxxx`); case, spaces and dashes do not matter."
_PASSKEY = "The browser's answer to `navigator.credentials.get`: `PublicKeyCredential.toJSON()`."


@strawberry.input(description="Give exactly one second factor.")
class SecondFactorAnswerFields:
    code: str | None = strawberry.field(default=None, description=_CODE)
    recovery_code: str | None = strawberry.field(default=None, description=_RECOVERY)
    passkey: JSON | None = strawberry.field(default=None, description=_PASSKEY)

    def answer(self) -> FactorAnswer:
        return FactorAnswer(self.code, self.recovery_code, self.passkey)


@strawberry.input(description="The second step of a login: the token and one second factor.")
class CompleteLoginInput(SecondFactorAnswerFields):
    token: str = strawberry.field(description="`secondFactor.token` from `login`.")
    remember_device: bool = strawberry.field(
        default=False,
        description="Let this device skip the second factor at login for the days the "
        "utility allows (needs the device cookie or `X-Device-Token`).",
    )


@strawberry.input(description="A fresh second factor for this session (step-up).")
class StepUpInput(SecondFactorAnswerFields):
    pass


@strawberry.input(description="A passkey login.")
class LoginWithPasskeyInput:
    credential: JSON = strawberry.field(
        description="The browser's answer to `navigator.credentials.get` with the options of "
        "`startPasskeyLogin`: `PublicKeyCredential.toJSON()`."
    )


@strawberry.input(description="Re-authentication for a change of the second factor.")
class ReauthenticationFields:
    current_password: str | None = strawberry.field(default=None, description=_CURRENT_PASSWORD)


@strawberry.input(description="Re-authentication for adding a passkey.")
class StartPasskeyRegistrationInput(ReauthenticationFields):
    pass


@strawberry.input(description="Re-authentication for setting up an authenticator app.")
class StartAuthenticatorAppEnrolmentInput(ReauthenticationFields):
    pass


@strawberry.input(description="Re-authentication for removing the authenticator app.")
class RemoveAuthenticatorAppInput(ReauthenticationFields):
    pass


@strawberry.input(description="Re-authentication for replacing the recovery codes.")
class RegenerateRecoveryCodesInput(ReauthenticationFields):
    pass


@strawberry.input(description="A new passkey.")
class RegisterPasskeyInput:
    name: str = strawberry.field(description="A name to recognise it by, e.g. 'Laptop'.")
    credential: JSON = strawberry.field(
        description="The browser's answer to `navigator.credentials.create` with the options "
        "of `startPasskeyRegistration`: `PublicKeyCredential.toJSON()`."
    )


@strawberry.input(description="Which passkey to remove.")
class RemovePasskeyInput(ReauthenticationFields):
    id: strawberry.ID = strawberry.field(description="`id` of the passkey.")


@strawberry.input(description="Which passkey to rename, and its new name.")
class RenamePasskeyInput:
    id: strawberry.ID = strawberry.field(description="`id` of the passkey.")
    name: str = strawberry.field(
        description="The new name (1–100 characters once spaces are collapsed), e.g. 'Phone'."
    )


@strawberry.input(description="The authenticator app's first code.")
class ConfirmAuthenticatorAppInput:
    code: str = strawberry.field(description=_CODE)


# ----------------------------------------------------------------------- payloads


def _errors() -> list[SecondFactorError]:
    return strawberry.field(
        default_factory=list, description="Why the operation failed; empty on success."
    )


def _mailed_to() -> str | None:
    return strawberry.field(
        default=None, description="The login's address the change was reported to, masked."
    )


def _recovery_codes() -> list[str] | None:
    return strawberry.field(
        default=None,
        description="Ten recovery codes, shown this once: each logs in once when the passkey "
        "or phone is lost. Set when this turned the second factor on or replaced the codes.",
    )


def _options(what: str) -> JSON | None:
    return strawberry.field(default=None, description=what)


@strawberry.type(description="Result of a login that started a session.")
class SessionStartedFields:
    errors: list[SecondFactorError] = _errors()
    token: str | None = strawberry.field(
        default=None, description="Session token for apps: `Authorization: Bearer <token>`."
    )
    csrf_token: str | None = strawberry.field(
        default=None, description="Send as `X-CSRF-Token` with cookie-authenticated mutations."
    )
    session_expires_at: dt.datetime | None = strawberry.field(
        default=None, description="The session ends at the latest then."
    )
    device_token: str | None = strawberry.field(
        default=None, description="This device's token for apps: send as `X-Device-Token`."
    )
    account: AccountType | None = strawberry.field(
        default=None, description="The logged-in account."
    )
    mailed_to: str | None = strawberry.field(
        default=None, description="Set when the login's address was told of a new device."
    )


@strawberry.type(description="Result of `completeLogin`.")
class CompleteLoginPayload(SessionStartedFields):
    pass


@strawberry.type(description="Result of `loginWithPasskey`.")
class LoginWithPasskeyPayload(SessionStartedFields):
    pass


@strawberry.type(description="Result of `startPasskeyLogin`.")
class StartPasskeyLoginPayload:
    errors: list[SecondFactorError] = _errors()
    options: JSON | None = _options(
        "Options for `navigator.credentials.get` (no allow list: the browser offers the "
        "passkeys it holds for this site); the challenge is valid for minutes, once."
    )


@strawberry.type(description="Result of `startPasskeyRegistration`.")
class StartPasskeyRegistrationPayload:
    errors: list[SecondFactorError] = _errors()
    options: JSON | None = _options(
        "Options for `navigator.credentials.create` (binary members base64url); the "
        "challenge is valid for minutes, once."
    )


@strawberry.type(description="Result of `registerPasskey`.")
class RegisterPasskeyPayload:
    errors: list[SecondFactorError] = _errors()
    passkey: PasskeyType | None = strawberry.field(default=None, description="The new passkey.")
    recovery_codes: list[str] | None = _recovery_codes()
    mailed_to: str | None = _mailed_to()


@strawberry.type(description="Result of `renamePasskey`.")
class RenamePasskeyPayload:
    errors: list[SecondFactorError] = _errors()
    passkey: PasskeyType | None = strawberry.field(
        default=None, description="The passkey with its new name."
    )


@strawberry.type(description="Result of `removePasskey` and `removeAuthenticatorApp`.")
class RemoveSecondFactorFields:
    errors: list[SecondFactorError] = _errors()
    second_factor_enabled: bool | None = strawberry.field(
        default=None, description="Whether a second factor is still set up."
    )
    mailed_to: str | None = _mailed_to()


@strawberry.type(description="Result of `removePasskey`.")
class RemovePasskeyPayload(RemoveSecondFactorFields):
    pass


@strawberry.type(description="Result of `removeAuthenticatorApp`.")
class RemoveAuthenticatorAppPayload(RemoveSecondFactorFields):
    pass


@strawberry.type(description="Result of `startAuthenticatorAppEnrolment`.")
class StartAuthenticatorAppEnrolmentPayload:
    errors: list[SecondFactorError] = _errors()
    otpauth_uri: str | None = strawberry.field(
        default=None, description="`otpauth://totp/…`: show it as a QR code for the app to scan."
    )
    secret: str | None = strawberry.field(
        default=None, description="The same secret in base32, for typing into the app by hand."
    )
    expires_at: dt.datetime | None = strawberry.field(
        default=None, description="Confirm with the app's first code before then."
    )


@strawberry.type(description="Result of `confirmAuthenticatorApp`.")
class ConfirmAuthenticatorAppPayload:
    errors: list[SecondFactorError] = _errors()
    recovery_codes: list[str] | None = _recovery_codes()
    mailed_to: str | None = _mailed_to()


@strawberry.type(description="Result of `regenerateRecoveryCodes`.")
class RegenerateRecoveryCodesPayload:
    errors: list[SecondFactorError] = _errors()
    recovery_codes: list[str] | None = _recovery_codes()
    mailed_to: str | None = _mailed_to()


@strawberry.type(description="Result of `startStepUp`.")
class StartStepUpPayload:
    errors: list[SecondFactorError] = _errors()
    methods: list[SecondFactorMethod] = strawberry.field(
        default_factory=list, description="What the login can give as its second factor."
    )
    passkey_options: JSON | None = _options(
        "When `methods` has PASSKEY: options for `navigator.credentials.get`, for `stepUp`."
    )


@strawberry.type(description="Result of `stepUp`.")
class StepUpPayload:
    errors: list[SecondFactorError] = _errors()
    valid_until: dt.datetime | None = strawberry.field(
        default=None, description="Sensitive changes need no second factor again until then."
    )


# --------------------------------------------------------------------- operations


def _session_started(cls: Any, outcome: Outcome[Any], info: Info) -> Any:
    done = outcome.value
    account = AccountType.from_model(done.login, done.customer_numbers) if done else None
    return payload(cls, outcome, info.context.locale, account=account)


@strawberry.type
class SecondFactorQuery:
    @strawberry.field(description="The logged-in login's second factor.")
    async def second_factor(self, info: Info) -> SecondFactorType:
        seen = await manage_ops.overview(info.context)
        return SecondFactorType(
            enabled=seen.enabled,
            passkeys=[PasskeyType.from_model(row) for row in seen.passkeys],
            authenticator_app=AuthenticatorAppType.from_model(seen.authenticator_app)
            if seen.authenticator_app
            else None,
            recovery_codes_left=seen.recovery_codes_left,
            step_up_valid_until=seen.step_up_valid_until,
        )


FACTOR_ANSWER: dict[str, Paths] = {
    "CHOICE_REQUIRED": "input",
    "CODE_FORMAT_INVALID": ("input.code", "input.recoveryCode"),
    "CODE_INVALID": ("input.code", "input.recoveryCode"),
    "PASSKEY_MALFORMED": "input.passkey.*",
    "PASSKEY_UNKNOWN": "input.passkey",
    "PASSKEY_REJECTED": "input.passkey",
}
"""What `resolvers.second_factor.common.check_answer` answers for a second factor given as
`code`, `recoveryCode` or `passkey` (CHALLENGE_EXPIRED is declared by each mutation)."""


@strawberry.type
class SecondFactorMutation:
    @declare_errors(CHALLENGE_EXPIRED=("input.token", "input.passkey"), **FACTOR_ANSWER)
    @strawberry.mutation(
        description="The second step of a password login that answered `secondFactor`: the "
        "token and one second factor start the session."
    )
    async def complete_login(
        self, info: Info, input: Annotated[CompleteLoginInput, _arg("Token and second factor.")]
    ) -> CompleteLoginPayload:
        outcome = await login_ops.complete_login(
            info.context, input.token, input.answer(), input.remember_device
        )
        return _session_started(CompleteLoginPayload, outcome, info)

    @declare_errors()
    @strawberry.mutation(
        description="Start a login with a passkey: options for `navigator.credentials.get`."
    )
    async def start_passkey_login(self, info: Info) -> StartPasskeyLoginPayload:
        outcome = await login_ops.start_passkey_login(info.context)
        return payload(
            StartPasskeyLoginPayload, outcome, info.context.locale, options=outcome.value
        )

    @declare_errors(
        PASSKEY_MALFORMED="input.credential.*",
        CHALLENGE_EXPIRED="input.credential",
        PASSKEY_UNKNOWN="input.credential",
        PASSKEY_REJECTED="input.credential",
    )
    @strawberry.mutation(
        description="Log in with a passkey instead of the password (it verifies the person, so "
        "it counts as both factors)."
    )
    async def login_with_passkey(
        self, info: Info, input: Annotated[LoginWithPasskeyInput, _arg("The passkey's answer.")]
    ) -> LoginWithPasskeyPayload:
        outcome = await login_ops.login_with_passkey(info.context, input.credential)
        return _session_started(LoginWithPasskeyPayload, outcome, info)

    @declare_errors(**SENSITIVE, PASSKEY_LIMIT_REACHED=None)
    @strawberry.mutation(
        description="Start adding a passkey: options for `navigator.credentials.create`. A "
        "change of the second factor: needs the current password and, once a second factor is "
        "set up, a fresh one (SECOND_FACTOR_REQUIRED: `startStepUp`)."
    )
    async def start_passkey_registration(
        self,
        info: Info,
        input: Annotated[StartPasskeyRegistrationInput, _arg("Re-authentication.")],
    ) -> StartPasskeyRegistrationPayload:
        outcome = await manage_ops.start_passkey_registration(info.context, input.current_password)
        return payload(
            StartPasskeyRegistrationPayload, outcome, info.context.locale, options=outcome.value
        )

    @declare_errors(
        REQUIRED="input.name",
        TOO_LONG="input.name",
        PASSKEY_MALFORMED="input.credential.*",
        REAUTHENTICATION_REQUIRED=None,
        SECOND_FACTOR_REQUIRED=None,
        CHALLENGE_EXPIRED="input.credential",
        PASSKEY_REJECTED="input.credential",
    )
    @strawberry.mutation(
        description="Add the passkey the browser created. The first factor of a login turns "
        "the second factor on and returns ten recovery codes."
    )
    async def register_passkey(
        self, info: Info, input: Annotated[RegisterPasskeyInput, _arg("Name and credential.")]
    ) -> RegisterPasskeyPayload:
        outcome = await manage_ops.register_passkey(info.context, input.name, input.credential)
        done = outcome.value
        return payload(
            RegisterPasskeyPayload,
            outcome,
            info.context.locale,
            passkey=PasskeyType.from_model(done.passkey) if done and done.passkey else None,
        )

    @declare_errors(REQUIRED="input.name", TOO_LONG="input.name", NOT_FOUND="input.id")
    @strawberry.mutation(
        description="Give a passkey another name. Only a label for its owner: needs the "
        "session, not the password or a second factor."
    )
    async def rename_passkey(
        self, info: Info, input: Annotated[RenamePasskeyInput, _arg("Which passkey, new name.")]
    ) -> RenamePasskeyPayload:
        passkey_pk = decode_id(input.id, "Passkey") or 0
        outcome = await manage_ops.rename_passkey(info.context, passkey_pk, input.name)
        row = outcome.value
        return payload(
            RenamePasskeyPayload,
            outcome,
            info.context.locale,
            passkey=PasskeyType.from_model(row) if row else None,
        )

    @declare_errors(**SENSITIVE, NOT_FOUND="input.id")
    @strawberry.mutation(
        description="Remove a passkey (needs the current password and a fresh second factor)."
    )
    async def remove_passkey(
        self, info: Info, input: Annotated[RemovePasskeyInput, _arg("Which passkey.")]
    ) -> RemovePasskeyPayload:
        passkey_pk = decode_id(input.id, "Passkey") or 0
        outcome = await manage_ops.remove_passkey(info.context, passkey_pk, input.current_password)
        return payload(
            RemovePasskeyPayload, outcome, info.context.locale, second_factor_enabled=outcome.value
        )

    @declare_errors(**SENSITIVE, ALREADY_ENROLLED=None)
    @strawberry.mutation(
        description="Start setting up an authenticator app: a new secret as an `otpauth://` URI "
        "for a QR code; confirm with the app's first code."
    )
    async def start_authenticator_app_enrolment(
        self,
        info: Info,
        input: Annotated[StartAuthenticatorAppEnrolmentInput, _arg("Re-authentication.")],
    ) -> StartAuthenticatorAppEnrolmentPayload:
        outcome = await manage_ops.start_authenticator_app(info.context, input.current_password)
        return payload(StartAuthenticatorAppEnrolmentPayload, outcome, info.context.locale)

    @declare_errors(
        CODE_FORMAT_INVALID="input.code",
        REAUTHENTICATION_REQUIRED=None,
        SECOND_FACTOR_REQUIRED=None,
        ENROLMENT_EXPIRED="input.code",
        CODE_INVALID="input.code",
    )
    @strawberry.mutation(
        description="Confirm the authenticator app with its first code; from then on it is a "
        "second factor. The first factor of a login returns ten recovery codes."
    )
    async def confirm_authenticator_app(
        self, info: Info, input: Annotated[ConfirmAuthenticatorAppInput, _arg("The code.")]
    ) -> ConfirmAuthenticatorAppPayload:
        outcome = await manage_ops.confirm_authenticator_app(info.context, input.code)
        return payload(ConfirmAuthenticatorAppPayload, outcome, info.context.locale)

    @declare_errors(**SENSITIVE, NO_SECOND_FACTOR=None)
    @strawberry.mutation(
        description="Remove the authenticator app (needs the current password and a fresh "
        "second factor)."
    )
    async def remove_authenticator_app(
        self,
        info: Info,
        input: Annotated[RemoveAuthenticatorAppInput, _arg("Re-authentication.")],
    ) -> RemoveAuthenticatorAppPayload:
        outcome = await manage_ops.remove_authenticator_app(info.context, input.current_password)
        return payload(
            RemoveAuthenticatorAppPayload,
            outcome,
            info.context.locale,
            second_factor_enabled=outcome.value,
        )

    @declare_errors(**SENSITIVE, NO_SECOND_FACTOR=None)
    @strawberry.mutation(
        description="Replace the recovery codes with ten new ones, shown once (needs the "
        "current password and a fresh second factor)."
    )
    async def regenerate_recovery_codes(
        self,
        info: Info,
        input: Annotated[RegenerateRecoveryCodesInput, _arg("Re-authentication.")],
    ) -> RegenerateRecoveryCodesPayload:
        outcome = await manage_ops.regenerate_recovery_codes(info.context, input.current_password)
        return payload(RegenerateRecoveryCodesPayload, outcome, info.context.locale)

    @declare_errors(NO_SECOND_FACTOR=None)
    @strawberry.mutation(
        description="Start a step-up: what the login can give as a fresh second factor, and "
        "passkey options. Sensitive changes answer SECOND_FACTOR_REQUIRED until `stepUp`."
    )
    async def start_step_up(self, info: Info) -> StartStepUpPayload:
        outcome = await login_ops.start_step_up(info.context)
        done = outcome.value
        return payload(
            StartStepUpPayload,
            outcome,
            info.context.locale,
            methods=_methods(done.methods) if done else [],
        )

    @declare_errors(NO_SECOND_FACTOR=None, CHALLENGE_EXPIRED="input.passkey", **FACTOR_ANSWER)
    @strawberry.mutation(
        description="Give a fresh second factor for this session; sensitive changes may follow "
        "for the minutes the utility allows."
    )
    async def step_up(
        self, info: Info, input: Annotated[StepUpInput, _arg("One second factor.")]
    ) -> StepUpPayload:
        outcome = await login_ops.step_up(info.context, input.answer())
        return payload(StepUpPayload, outcome, info.context.locale, valid_until=outcome.value)
