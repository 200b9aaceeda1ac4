"""GraphQL types of the account area: the account, its sessions, payloads and errors.

Every mutation takes one `input: <Mutation>Input!` and returns its own
`<Mutation>Payload!`, whose first field is `errors: [AccountError!]!` (empty on
success). Payloads
of operations that mail say which address they mailed, masked (R19), and those
that start a timed step say until when it is valid (`expiresAt`) and from when
a new mail can be asked for (`resendAvailableAt`), both in UTC.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON

from models import FactorMethod, Language
from models.account_codes import AccountErrorCode
from models.contact_codes import ContactErrorCode
from resolvers import customer_context
from resolvers.accounts import contact as contact_ops
from resolvers.accounts import email as email_ops
from resolvers.accounts import language as language_ops
from resolvers.accounts import password as password_ops
from resolvers.accounts import profile as profile_ops
from resolvers.accounts import registration as registration_ops
from resolvers.accounts import sessions as session_ops
from resolvers.second_factor.gate import SecondFactorNeeded
from schema.context import Info
from schema.errors import SENSITIVE, Paths, UserError, declare_errors, error_type, payload
from schema.ids import Node, decode_id, encode_id

if TYPE_CHECKING:
    from models import Login as LoginRow
    from models import Session as SessionRow


@error_type(AccountErrorCode)
@strawberry.type(description="An expected failure of an account operation.")
class AccountError(UserError):
    pass


@error_type(ContactErrorCode)
@strawberry.type(
    description="An expected failure of the public contact form, which anyone may use "
    "without a login (so not an `AccountError`)."
)
class ContactError(UserError):
    pass


@strawberry.enum(description="Which department a contact message goes to.")
class ContactDepartment(Enum):
    BILLING = strawberry.enum_value(
        "billing",
        description="Verbrauchsabrechnung: invoices, and requests to delete a login (R8).",
    )
    GENERAL = strawberry.enum_value("general", description="Customer service: everything else.")


@strawberry.enum(name="Language", description="A language the portal writes in.")
class LanguageEnum(Enum):
    DE = strawberry.enum_value("de", description="German (Deutsch).")
    EN = strawberry.enum_value("en", description="English.")


# ------------------------------------------------------------------ objects


@strawberry.enum(description="A kind of second factor.")
class SecondFactorMethod(Enum):
    PASSKEY = strawberry.enum_value(
        FactorMethod.PASSKEY.value,
        description="A passkey (WebAuthn), answered with `navigator.credentials.get`.",
    )
    AUTHENTICATOR_APP = strawberry.enum_value(
        FactorMethod.AUTHENTICATOR_APP.value,
        description="The six-digit code of an authenticator app (TOTP).",
    )
    RECOVERY_CODE = strawberry.enum_value(
        FactorMethod.RECOVERY_CODE.value, description="One of the single-use recovery codes."
    )

    @classmethod
    def of(cls, methods: list[FactorMethod]) -> list[SecondFactorMethod]:
        return [cls(method.value) for method in methods]


@strawberry.type(
    description="The password was right, but the login has a second factor and this device "
    "is not remembered: no session yet. Finish with `completeLogin` before `expiresAt`."
)
class SecondFactorChallenge:
    token: str = strawberry.field(description="Single-use token for `completeLogin`.")
    expires_at: dt.datetime = strawberry.field(description="The token is valid until then.")
    methods: list[SecondFactorMethod] = strawberry.field(
        description="What the login can give as its second factor."
    )
    passkey_options: JSON | None = strawberry.field(
        description="When `methods` has PASSKEY: the options for `navigator.credentials.get` "
        "(binary members base64url); its answer goes to `completeLogin`'s `passkey`."
    )

    @classmethod
    def of(cls, needed: SecondFactorNeeded) -> SecondFactorChallenge:
        return cls(
            token=needed.token,
            expires_at=needed.expires_at,
            methods=SecondFactorMethod.of(needed.methods),
            passkey_options=JSON(needed.passkey_options) if needed.passkey_options else None,
        )


@strawberry.type(name="Account", description="The logged-in user account (Benutzerkonto).")
class AccountType(Node):
    email: str = strawberry.field(description="The login e-mail address.")
    preferred_language: LanguageEnum = strawberry.field(
        description="The language of every mail to this login: from the registration's "
        "Accept-Language, then as set by `setPreferredLanguage`."
    )
    created_at: dt.datetime = strawberry.field(description="When the login was registered.")
    confirmed_at: dt.datetime | None = strawberry.field(
        description="When the registration was confirmed with the PIN."
    )
    last_login_at: dt.datetime | None = strawberry.field(description="The latest login.")
    password_changed_at: dt.datetime | None = strawberry.field(
        description="The latest change of the password, null if never changed."
    )
    customer_numbers: list[str] = strawberry.field(
        description="Customer numbers this login holds, oldest first (numbers only)."
    )

    @classmethod
    def from_model(cls, row: LoginRow, customer_numbers: list[str]) -> AccountType:
        return cls(
            id=encode_id("Account", row.id),
            email=row.email,
            preferred_language=LanguageEnum(row.preferred_language.value),
            created_at=row.created_at,
            confirmed_at=row.confirmed_at,
            last_login_at=row.last_login_at,
            password_changed_at=row.password_changed_at,
            customer_numbers=customer_numbers,
        )


@strawberry.type(
    name="Session",
    description="A client logged in to this login; `node(id:)` finds the login's own live "
    "sessions.",
)
class SessionType(Node):
    id: strawberry.ID = strawberry.field(
        description="Opaque ID; identifies the session for `endSessions`."
    )
    created_at: dt.datetime = strawberry.field(description="When the client logged in.")
    last_used_at: dt.datetime = strawberry.field(
        description="Last request of the client (to the minute)."
    )
    expires_at: dt.datetime = strawberry.field(
        description="The session ends at the latest then (absolute timeout)."
    )
    client: str = strawberry.field(description="The client's User-Agent, as it sent it.")
    client_address: str = strawberry.field(description="Network address the client logged in from.")
    current: bool = strawberry.field(description="True for the session making this request.")

    @classmethod
    def from_model(cls, row: SessionRow, current_id: int | None) -> SessionType:
        return cls(
            id=encode_id("Session", row.id),
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            client=row.client,
            client_address=row.client_address,
            current=row.id == current_id,
        )


# ------------------------------------------------------------------- inputs

_EMAIL = "The login e-mail address."
_TOKEN = "The token from the link in the mail (`?token=`)."
_CURRENT_PASSWORD = (
    "The current password (re-authentication); REAUTHENTICATION_REQUIRED when missing or wrong."
)
_NEW_PASSWORD = "The new password (R3)."


def _current_password() -> str | None:
    return strawberry.field(default=None, description=_CURRENT_PASSWORD)


@strawberry.input(description="What registering needs (R1): customer, proof, e-mail, password.")
class RegisterInput:
    customer_number: str = strawberry.field(description="The customer number (Kundennummer).")
    invoice_number: str | None = strawberry.field(
        default=None, description="Number of the customer's latest invoice."
    )
    meter_number: str | None = strawberry.field(
        default=None, description="Number of the customer's main meter (instead of the invoice)."
    )
    email: str = strawberry.field(description="The login e-mail address; the PIN goes there.")
    password: str = strawberry.field(description="The chosen password (R3).")


@strawberry.input(description="The PIN that confirms a registration.")
class ConfirmPinInput:
    email: str = strawberry.field(description=_EMAIL)
    pin: str = strawberry.field(description="The six-digit PIN from the mail.")


@strawberry.input(description="The pending registration to mail a new PIN for.")
class ResendPinInput:
    email: str = strawberry.field(description=_EMAIL)


@strawberry.input(description="E-mail and password.")
class LoginInput:
    email: str = strawberry.field(description=_EMAIL)
    password: str = strawberry.field(description="The password.")


@strawberry.input(description="Which sessions a logout ends.")
class LogoutInput:
    all_sessions: bool = strawberry.field(
        default=False, description="End every session of the login, not only this one."
    )


@strawberry.input(
    one_of=True,
    description="Which sessions to end: exactly one of `sessionId` or `allOthers: true`.",
)
class EndSessionsInput:
    session_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The session to end (`id` from `sessions`)."
    )
    all_others: bool | None = strawberry.field(
        default=strawberry.UNSET, description="True: end every session but the current one."
    )


@strawberry.input(description="The address to mail a password-reset link to.")
class RequestPasswordResetInput:
    email: str = strawberry.field(description=_EMAIL)


@strawberry.input(description="The reset link's token and the new password.")
class ResetPasswordInput:
    token: str = strawberry.field(description=_TOKEN)
    new_password: str = strawberry.field(description=_NEW_PASSWORD)


@strawberry.input(description="The current password and the new one.")
class ChangePasswordInput:
    current_password: str | None = _current_password()
    new_password: str = strawberry.field(description=_NEW_PASSWORD)


@strawberry.input(description="The current password and the new login e-mail address.")
class ChangeEmailInput:
    current_password: str | None = _current_password()
    new_email: str = strawberry.field(description="The new login e-mail address.")


@strawberry.input(description="The token of the link sent to the new address.")
class ConfirmEmailChangeInput:
    token: str = strawberry.field(description=_TOKEN)


@strawberry.input(description="The token of the undo link sent to the old address.")
class UndoEmailChangeInput:
    token: str = strawberry.field(description=_TOKEN)


@strawberry.input(description="Re-authentication for deleting the login.")
class DeleteProfileInput:
    current_password: str | None = _current_password()


@strawberry.input(description="A message through the public contact form.")
class SendContactMessageInput:
    department: ContactDepartment = strawberry.field(description="Who should answer.")
    name: str = strawberry.field(description="The sender's name.")
    customer_number: str | None = strawberry.field(
        default=None, description="The sender's customer number, if any."
    )
    email: str = strawberry.field(description="Where the department should answer.")
    subject: str = strawberry.field(description="Subject line.")
    text: str = strawberry.field(description="The message.")


# ----------------------------------------------------------------- payloads


def _errors() -> Any:
    """The `errors` field every payload starts with."""
    return strawberry.field(
        default_factory=list, description="Why the operation failed; empty on success."
    )


def _mailed_to(
    description: str = "The address mailed, masked like `e***a@example.org` (R19).",
) -> Any:
    return strawberry.field(default=None, description=description)


def _ended_sessions() -> int:
    return strawberry.field(default=0, description="How many sessions ended.")


@strawberry.type(description="A result that mailed a PIN or a link, valid for a while.")
class LinkMailedFields:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = _mailed_to()
    expires_at: dt.datetime | None = strawberry.field(
        default=None, description="Until when the PIN or link just sent is valid (UTC)."
    )
    resend_available_at: dt.datetime | None = strawberry.field(
        default=None, description="From when another mail can be requested (UTC)."
    )


@strawberry.type(description="Result of `register`.")
class RegisterPayload(LinkMailedFields):
    registration_expires_at: dt.datetime | None = strawberry.field(
        default=None,
        description="If the PIN is not confirmed by then, the registration is removed.",
    )
    device_token: str | None = strawberry.field(
        default=None,
        description="Device token for apps (send as `X-Device-Token`): the device that "
        "registered keeps its own PIN attempts, whatever others enter. Browsers get a cookie.",
    )


@strawberry.type(description="Result of `confirmPin`.")
class ConfirmPinPayload:
    errors: list[AccountError] = _errors()
    confirmed: bool = strawberry.field(
        default=False, description="True when the login is now confirmed and can log in."
    )


@strawberry.type(description="Result of `resendPin`.")
class ResendPinPayload(LinkMailedFields):
    pass


@strawberry.type(description="Result of `login`.")
class LoginPayload:
    errors: list[AccountError] = _errors()
    token: str | None = strawberry.field(
        default=None,
        description="Session token for apps: send as `Authorization: Bearer <token>`. "
        "Browsers can ignore it: the session is also set as an HttpOnly cookie.",
    )
    csrf_token: str | None = strawberry.field(
        default=None,
        description="Send as `X-CSRF-Token` header with mutations authenticated by the cookie.",
    )
    session_expires_at: dt.datetime | None = strawberry.field(
        default=None, description="The session ends at the latest then."
    )
    device_token: str | None = strawberry.field(
        default=None,
        description="Device token for apps: keep it and send it as `X-Device-Token` header "
        "with later requests, above all with the next `login`; a known device is never locked "
        "out by someone else's wrong passwords. Browsers get it as an HttpOnly cookie.",
    )
    account: AccountType | None = strawberry.field(
        default=None, description="The logged-in account."
    )
    mailed_to: str | None = _mailed_to(
        "Set when this was a client not seen before for the login: the address told of the "
        "new login, masked (R19)."
    )
    second_factor: SecondFactorChallenge | None = strawberry.field(
        default=None,
        description="Set instead of a session when the login has a second factor and this "
        "device is not remembered: finish with `completeLogin`.",
    )


@strawberry.type(description="Result of `logout`.")
class LogoutPayload:
    errors: list[AccountError] = _errors()
    ended_sessions: int = _ended_sessions()


@strawberry.type(description="Result of `endSessions`.")
class EndSessionsPayload:
    errors: list[AccountError] = _errors()
    ended_sessions: int = _ended_sessions()


@strawberry.type(
    description="Result of `requestPasswordReset`: the same whether or not the "
    "address belongs to a login."
)
class RequestPasswordResetPayload(LinkMailedFields):
    pass


_TOLD_OF_PASSWORD = "The address told of the change, masked (R19)."


@strawberry.type(description="Result of `resetPassword`.")
class ResetPasswordPayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = _mailed_to(_TOLD_OF_PASSWORD)


@strawberry.type(description="Result of `changePassword`.")
class ChangePasswordPayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = _mailed_to(_TOLD_OF_PASSWORD)


@strawberry.type(description="Result of `changeEmail`: a link went to the new address.")
class ChangeEmailPayload(LinkMailedFields):
    pass


@strawberry.type(description="Result of `confirmEmailChange`.")
class ConfirmEmailChangePayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = _mailed_to(
        "The old address, told of the change with an undo link; masked."
    )


@strawberry.type(description="Result of `undoEmailChange`.")
class UndoEmailChangePayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = _mailed_to("The restored address, sent a password-reset link; masked.")
    expires_at: dt.datetime | None = strawberry.field(
        default=None, description="Until when that reset link is valid (UTC)."
    )


@strawberry.type(description="Result of `deleteProfile`.")
class DeleteProfilePayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = _mailed_to("The address sent the confirmation of deletion, masked.")


@strawberry.input(description="The language for `setPreferredLanguage`.")
class SetPreferredLanguageInput:
    language: LanguageEnum = strawberry.field(
        description="The language every mail to the login is written in from now on."
    )


@strawberry.type(description="Result of `setPreferredLanguage`.")
class SetPreferredLanguagePayload:
    errors: list[AccountError] = _errors()
    preferred_language: LanguageEnum | None = strawberry.field(
        default=None, description="The login's preferred language now."
    )


@strawberry.type(description="Result of `sendContactMessage`.")
class SendContactMessagePayload:
    errors: list[ContactError] = _errors()
    mailed_to: str | None = _mailed_to("The department's address the message went to, masked.")
    reference: int | None = strawberry.field(
        default=None, description="Number of the message, to quote in later contact."
    )


# ------------------------------------------------------- query, mutation


def _input(description: str) -> object:
    return strawberry.argument(description=description)


@strawberry.type
class AccountQuery:
    @strawberry.field(description="The logged-in account; null when not logged in.")
    async def me(self, info: Info) -> AccountType | None:
        login = info.context.login
        if login is None:
            return None
        # Through the loader the customer queries share (one statement for both).
        customers = await customer_context.linked_customers(info.context)
        return AccountType.from_model(login, [c.number for c in customers])

    @strawberry.field(description="The logged-in login's live sessions, newest first.")
    async def sessions(self, info: Info) -> list[SessionType]:
        rows = await session_ops.live_sessions(info.context)
        session = info.context.session
        return [SessionType.from_model(row, session.id if session else None) for row in rows]


def password_policy(path: str) -> dict[str, Paths]:
    """What the password policy (R3) answers for a password being set at `path`."""
    codes = (
        "PASSWORD_TOO_SHORT",
        "PASSWORD_CHARACTER_CLASSES_MISSING",
        "PASSWORD_TOO_LONG",
        "PASSWORD_CONTAINS_PERSONAL_DATA",
        "PASSWORD_TOO_COMMON",
    )
    return dict.fromkeys(codes, path)


@strawberry.type
class AccountMutation:
    @declare_errors(
        REQUIRED="input.customerNumber",
        CUSTOMER_NOT_VERIFIED=None,
        NO_ANNUAL_BILL="input.customerNumber",
        REGISTRATION_PENDING="input.customerNumber",
        CUSTOMER_NUMBER_TAKEN="input.customerNumber",
        PROOF_REQUIRED=None,
        EMAIL_INVALID="input.email",
        EMAIL_IN_USE="input.email",
        **password_policy("input.password"),
        RESEND_NOT_YET_AVAILABLE=None,
    )
    @strawberry.mutation(
        description="Register a login (R1–R5): customer number with the latest invoice's or "
        "the main meter's number, e-mail and password. A PIN is mailed to confirm."
    )
    async def register(
        self, info: Info, input: Annotated[RegisterInput, _input("The registration.")]
    ) -> RegisterPayload:
        data = registration_ops.Registration(
            customer_number=input.customer_number,
            email=input.email,
            password=input.password,
            invoice_number=input.invoice_number,
            meter_number=input.meter_number,
        )
        outcome = await registration_ops.register(info.context, data)
        return payload(RegisterPayload, outcome, info.context.locale)

    @declare_errors(PIN_INVALID="input.pin", PIN_VOID="input.pin", PIN_EXPIRED="input.pin")
    @strawberry.mutation(description="Confirm a registration with the PIN from the mail (R4).")
    async def confirm_pin(
        self, info: Info, input: Annotated[ConfirmPinInput, _input("E-mail and PIN.")]
    ) -> ConfirmPinPayload:
        outcome = await registration_ops.confirm_pin(info.context, input.email, input.pin)
        return payload(ConfirmPinPayload, outcome, info.context.locale, confirmed=outcome.ok)

    @declare_errors(EMAIL_INVALID="input.email", RESEND_NOT_YET_AVAILABLE=None)
    @strawberry.mutation(
        description="Mail a new PIN for a pending registration; possible 5 minutes after the "
        "last one (R4). Answers the same for any address."
    )
    async def resend_pin(
        self, info: Info, input: Annotated[ResendPinInput, _input("The address.")]
    ) -> ResendPinPayload:
        outcome = await registration_ops.resend_pin(info.context, input.email)
        return payload(ResendPinPayload, outcome, info.context.locale)

    @declare_errors(INVALID_CREDENTIALS="input.password", LOGIN_NOT_CONFIRMED="input.email")
    @strawberry.mutation(
        description="Log in with e-mail and password. Returns a session token for apps and "
        "sets the session cookie for browsers."
    )
    async def login(
        self, info: Info, input: Annotated[LoginInput, _input("E-mail and password.")]
    ) -> LoginPayload:
        outcome = await session_ops.login(info.context, input.email, input.password)
        done = outcome.value
        if isinstance(done, SecondFactorNeeded):
            return LoginPayload(second_factor=SecondFactorChallenge.of(done))
        account = AccountType.from_model(done.login, done.customer_numbers) if done else None
        return payload(LoginPayload, outcome, info.context.locale, account=account)

    @declare_errors()
    @strawberry.mutation(
        description="Log out: end this session, or with `allSessions` every session of the login."
    )
    async def logout(
        self,
        info: Info,
        input: Annotated[LogoutInput, _input("Which sessions; default this one.")] = LogoutInput(),
    ) -> LogoutPayload:
        outcome = await session_ops.logout(info.context, input.all_sessions)
        return payload(
            LogoutPayload, outcome, info.context.locale, ended_sessions=outcome.value or 0
        )

    @declare_errors(CHOICE_REQUIRED=None, NOT_FOUND="input.sessionId")
    @strawberry.mutation(
        description="End one session of the logged-in login (e.g. of a lost phone), or all "
        "sessions but the current one."
    )
    async def end_sessions(
        self, info: Info, input: Annotated[EndSessionsInput, _input("Which sessions.")]
    ) -> EndSessionsPayload:
        session_id = input.session_id or None
        pk = None if session_id is None else decode_id(session_id, "Session") or 0
        outcome = await session_ops.end_sessions_of_login(info.context, pk, bool(input.all_others))
        return payload(
            EndSessionsPayload, outcome, info.context.locale, ended_sessions=outcome.value or 0
        )

    @declare_errors(EMAIL_INVALID="input.email", RESEND_NOT_YET_AVAILABLE=None)
    @strawberry.mutation(
        description="Forgotten password (R7): mail a link, valid 7 days, to set a new one. "
        "Answers the same whether or not the address belongs to a login."
    )
    async def request_password_reset(
        self, info: Info, input: Annotated[RequestPasswordResetInput, _input("The address.")]
    ) -> RequestPasswordResetPayload:
        outcome = await password_ops.request_password_reset(info.context, input.email)
        return payload(RequestPasswordResetPayload, outcome, info.context.locale)

    @declare_errors(
        LINK_INVALID="input.token",
        LINK_EXPIRED="input.token",
        **password_policy("input.newPassword"),
    )
    @strawberry.mutation(
        description="Set a new password with the token from the reset link; ends every session."
    )
    async def reset_password(
        self, info: Info, input: Annotated[ResetPasswordInput, _input("Token and new password.")]
    ) -> ResetPasswordPayload:
        outcome = await password_ops.reset_password(info.context, input.token, input.new_password)
        return payload(ResetPasswordPayload, outcome, info.context.locale)

    @declare_errors(**SENSITIVE, **password_policy("input.newPassword"))
    @strawberry.mutation(
        description="Change the password; needs the current one. Ends the other sessions."
    )
    async def change_password(
        self,
        info: Info,
        input: Annotated[ChangePasswordInput, _input("Current and new password.")],
    ) -> ChangePasswordPayload:
        outcome = await password_ops.change_password(
            info.context, input.current_password, input.new_password
        )
        return payload(ChangePasswordPayload, outcome, info.context.locale)

    @declare_errors(
        **SENSITIVE,
        EMAIL_INVALID="input.newEmail",
        NOTHING_CHANGED="input.newEmail",
        EMAIL_IN_USE="input.newEmail",
        RESEND_NOT_YET_AVAILABLE=None,
    )
    @strawberry.mutation(
        description="Change the login e-mail (R6); needs the current password. A link goes to "
        "the new address; the change takes effect when it is followed."
    )
    async def change_email(
        self,
        info: Info,
        input: Annotated[ChangeEmailInput, _input("Current password and new address.")],
    ) -> ChangeEmailPayload:
        outcome = await email_ops.change_email(
            info.context, input.current_password, input.new_email
        )
        return payload(ChangeEmailPayload, outcome, info.context.locale)

    @declare_errors(
        LINK_INVALID="input.token", LINK_EXPIRED="input.token", EMAIL_IN_USE="input.token"
    )
    @strawberry.mutation(
        description="Confirm a new login e-mail with the token from the link sent to it; "
        "the old address is told, with a link to undo."
    )
    async def confirm_email_change(
        self, info: Info, input: Annotated[ConfirmEmailChangeInput, _input("The link's token.")]
    ) -> ConfirmEmailChangePayload:
        outcome = await email_ops.confirm_email_change(info.context, input.token)
        return payload(ConfirmEmailChangePayload, outcome, info.context.locale)

    @declare_errors(
        LINK_INVALID="input.token", LINK_EXPIRED="input.token", EMAIL_IN_USE="input.token"
    )
    @strawberry.mutation(
        description="Undo an e-mail change with the token from the notice to the old address: "
        "restores it, ends every session and mails a password-reset link."
    )
    async def undo_email_change(
        self, info: Info, input: Annotated[UndoEmailChangeInput, _input("The link's token.")]
    ) -> UndoEmailChangePayload:
        outcome = await email_ops.undo_email_change(info.context, input.token)
        return payload(UndoEmailChangePayload, outcome, info.context.locale)

    @declare_errors(**SENSITIVE)
    @strawberry.mutation(
        description="Delete the login (R16, R17); needs the current password. Customer numbers "
        "can be registered again at once."
    )
    async def delete_profile(
        self, info: Info, input: Annotated[DeleteProfileInput, _input("Re-authentication.")]
    ) -> DeleteProfilePayload:
        outcome = await profile_ops.delete_profile(info.context, input.current_password)
        return payload(DeleteProfilePayload, outcome, info.context.locale)

    @declare_errors()
    @strawberry.mutation(
        description="Set the language of every mail to the login (a login's Accept-Language no "
        "longer changes it)."
    )
    async def set_preferred_language(
        self,
        info: Info,
        input: Annotated[SetPreferredLanguageInput, _input("The language.")],
    ) -> SetPreferredLanguagePayload:
        chosen = Language(str(input.language.value))
        outcome = await language_ops.set_preferred_language(info.context, chosen)
        return payload(
            SetPreferredLanguagePayload,
            outcome,
            info.context.locale,
            preferred_language=LanguageEnum(outcome.value.value) if outcome.value else None,
        )

    @declare_errors(
        REQUIRED=("input.name", "input.subject", "input.text"),
        TOO_LONG=("input.name", "input.customerNumber", "input.subject", "input.text"),
        EMAIL_INVALID="input.email",
    )
    @strawberry.mutation(
        description="Send a message to a department, e.g. a deletion request to billing (R8)."
    )
    async def send_contact_message(
        self, info: Info, input: Annotated[SendContactMessageInput, _input("The message.")]
    ) -> SendContactMessagePayload:
        data = contact_ops.ContactRequest(
            department=str(input.department.value),
            name=input.name,
            email=input.email,
            subject=input.subject,
            text=input.text,
            customer_number=input.customer_number,
        )
        outcome = await contact_ops.send_contact_message(info.context, data)
        return payload(
            SendContactMessagePayload, outcome, info.context.locale, reference=outcome.value
        )
