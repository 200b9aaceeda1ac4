"""GraphQL types of the account area: the login, its sessions, payloads and errors.

Every payload carries `errors: [AccountError!]!` (empty on success). Payloads
of operations that mail say which address they mailed, masked (R19), and those
that start a timed step say until when it is valid (`expiresAt`) and from when
a new mail can be asked for (`resendAvailableAt`), both in UTC.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from models import FactorMethod
from models.account_codes import AccountErrorCode
from models.errors import Problem
from resolvers import customer_context
from resolvers.accounts import contact as contact_ops
from resolvers.accounts import email as email_ops
from resolvers.accounts import password as password_ops
from resolvers.accounts import profile as profile_ops
from resolvers.accounts import registration as registration_ops
from resolvers.accounts import sessions as session_ops
from resolvers.second_factor.gate import SecondFactorNeeded
from schema.context import Info
from schema.errors import UserError, error_type, graphql_enum, payload

if TYPE_CHECKING:
    from models import Login as LoginRow
    from models import Session as SessionRow


AccountErrorCodeEnum = graphql_enum(AccountErrorCode)


@error_type(AccountErrorCode)
@strawberry.type(description="An expected failure of an account operation.")
class AccountError(UserError):
    code: Enum = strawberry.field(
        graphql_type=AccountErrorCodeEnum, description="Stable code to switch on."
    )

    @classmethod
    def from_problem(cls, problem: Problem, locale: str) -> AccountError:
        return cls(
            code=AccountErrorCodeEnum[problem.code.name],
            field=list(problem.field) if problem.field else None,
            message=problem.code.message(locale, **problem.params),
        )


@strawberry.enum(description="Which department a contact message goes to.")
class ContactDepartment(Enum):
    BILLING = strawberry.enum_value(
        "billing",
        description="Verbrauchsabrechnung: invoices, and requests to delete a login (R8).",
    )
    GENERAL = strawberry.enum_value("general", description="Customer service: everything else.")


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


@strawberry.type(name="Login", description="The logged-in user account (Benutzerkonto).")
class LoginType:
    email: str = strawberry.field(description="The login e-mail address.")
    locale: str = strawberry.field(description="Language of mails: `de` or `en`.")
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
    def from_model(cls, row: LoginRow, customer_numbers: list[str]) -> LoginType:
        return cls(
            email=row.email,
            locale=row.locale,
            created_at=row.created_at,
            confirmed_at=row.confirmed_at,
            last_login_at=row.last_login_at,
            password_changed_at=row.password_changed_at,
            customer_numbers=customer_numbers,
        )


@strawberry.type(name="Session", description="A client logged in to this login.")
class SessionType:
    id: strawberry.ID = strawberry.field(description="Identifies the session for `endSessions`.")
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
            id=strawberry.ID(str(row.id)),
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            client=row.client,
            client_address=row.client_address,
            current=row.id == current_id,
        )


# ------------------------------------------------------------------- inputs


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


@strawberry.input(description="A message through the public contact form.")
class ContactMessageInput:
    department: ContactDepartment = strawberry.field(description="Who should answer.")
    name: str = strawberry.field(description="The sender's name.")
    customer_number: str | None = strawberry.field(
        default=None, description="The sender's customer number, if any."
    )
    email: str = strawberry.field(description="Where the department should answer.")
    subject: str = strawberry.field(description="Subject line.")
    text: str = strawberry.field(description="The message.")


# ----------------------------------------------------------------- payloads


def _errors() -> list[AccountError]:
    return strawberry.field(
        default_factory=list, description="Why the operation failed; empty on success."
    )


def _mailed_to() -> str | None:
    return strawberry.field(
        default=None, description="The address mailed, masked like `e***a@example.org` (R19)."
    )


def _expires_at() -> dt.datetime | None:
    return strawberry.field(
        default=None, description="Until when the PIN or link just sent is valid (UTC)."
    )


def _resend_available_at() -> dt.datetime | None:
    return strawberry.field(
        default=None, description="From when another mail can be requested (UTC)."
    )


@strawberry.type(description="Result of `register`.")
class RegisterPayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = _mailed_to()
    expires_at: dt.datetime | None = _expires_at()
    resend_available_at: dt.datetime | None = _resend_available_at()
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
class ResendPinPayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = _mailed_to()
    expires_at: dt.datetime | None = _expires_at()
    resend_available_at: dt.datetime | None = _resend_available_at()


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
    login: LoginType | None = strawberry.field(default=None, description="The logged-in login.")
    mailed_to: str | None = strawberry.field(
        default=None,
        description="Set when this was a client not seen before for the login: the address "
        "told of the new login, masked (R19).",
    )
    second_factor: SecondFactorChallenge | None = strawberry.field(
        default=None,
        description="Set instead of a session when the login has a second factor and this "
        "device is not remembered: finish with `completeLogin`.",
    )


@strawberry.type(description="Result of `logout` and `endSessions`.")
class EndSessionsPayload:
    errors: list[AccountError] = _errors()
    ended_sessions: int = strawberry.field(default=0, description="How many sessions ended.")


@strawberry.type(
    description="Result of `requestPasswordReset`: the same whether or not the "
    "address belongs to a login."
)
class RequestPasswordResetPayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = _mailed_to()
    expires_at: dt.datetime | None = _expires_at()
    resend_available_at: dt.datetime | None = _resend_available_at()


@strawberry.type(description="Result of `resetPassword` and `changePassword`.")
class PasswordPayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = strawberry.field(
        default=None, description="The address told of the change, masked (R19)."
    )


@strawberry.type(description="Result of `changeEmail`: a link went to the new address.")
class ChangeEmailPayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = _mailed_to()
    expires_at: dt.datetime | None = _expires_at()
    resend_available_at: dt.datetime | None = _resend_available_at()


@strawberry.type(description="Result of `confirmEmailChange`.")
class ConfirmEmailChangePayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = strawberry.field(
        default=None, description="The old address, told of the change with an undo link; masked."
    )


@strawberry.type(description="Result of `undoEmailChange`.")
class UndoEmailChangePayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = strawberry.field(
        default=None, description="The restored address, sent a password-reset link; masked."
    )
    expires_at: dt.datetime | None = strawberry.field(
        default=None, description="Until when that reset link is valid (UTC)."
    )


@strawberry.type(description="Result of `deleteProfile`.")
class DeleteProfilePayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = strawberry.field(
        default=None, description="The address sent the confirmation of deletion, masked."
    )


@strawberry.type(description="Result of `sendContactMessage`.")
class SendContactMessagePayload:
    errors: list[AccountError] = _errors()
    mailed_to: str | None = strawberry.field(
        default=None, description="The department's address the message went to, masked."
    )
    reference: int | None = strawberry.field(
        default=None, description="Number of the message, to quote in later contact."
    )


# ------------------------------------------------------- query, mutation


def _arg(description: str) -> object:
    return strawberry.argument(description=description)


Email = Annotated[str, _arg("An e-mail address.")]
Token = Annotated[str, _arg("The token from the link in the mail (`?token=`).")]
CurrentPassword = Annotated[
    str | None, _arg("The current password; REAUTHENTICATION_REQUIRED when missing or wrong.")
]
NewPassword = Annotated[str, _arg("The new password (R3).")]


@strawberry.type
class AccountQuery:
    @strawberry.field(description="The logged-in login; null when not logged in.")
    async def me(self, info: Info) -> LoginType | None:
        login = info.context.login
        if login is None:
            return None
        # Through the loader the customer queries share (one statement for both).
        customers = await customer_context.linked_customers(info.context)
        return LoginType.from_model(login, [c.number for c in customers])

    @strawberry.field(description="The logged-in login's live sessions, newest first.")
    async def sessions(self, info: Info) -> list[SessionType]:
        rows = await session_ops.live_sessions(info.context)
        session = info.context.session
        return [SessionType.from_model(row, session.id if session else None) for row in rows]


@strawberry.type
class AccountMutation:
    @strawberry.mutation(
        description="Register a login (R1–R5): customer number with the latest invoice's or "
        "the main meter's number, e-mail and password. A PIN is mailed to confirm."
    )
    async def register(
        self, info: Info, input: Annotated[RegisterInput, _arg("The registration.")]
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

    @strawberry.mutation(description="Confirm a registration with the PIN from the mail (R4).")
    async def confirm_pin(
        self,
        info: Info,
        email: Email,
        pin: Annotated[str, _arg("The six-digit PIN from the mail.")],
    ) -> ConfirmPinPayload:
        outcome = await registration_ops.confirm_pin(info.context, email, pin)
        return payload(ConfirmPinPayload, outcome, info.context.locale, confirmed=outcome.ok)

    @strawberry.mutation(
        description="Mail a new PIN for a pending registration; possible 5 minutes after the "
        "last one (R4). Answers the same for any address."
    )
    async def resend_pin(self, info: Info, email: Email) -> ResendPinPayload:
        outcome = await registration_ops.resend_pin(info.context, email)
        return payload(ResendPinPayload, outcome, info.context.locale)

    @strawberry.mutation(
        description="Log in with e-mail and password. Returns a session token for apps and "
        "sets the session cookie for browsers."
    )
    async def login(
        self,
        info: Info,
        email: Email,
        password: Annotated[str, _arg("The password.")],
    ) -> LoginPayload:
        outcome = await session_ops.login(info.context, email, password)
        done = outcome.value
        if isinstance(done, SecondFactorNeeded):
            return LoginPayload(second_factor=SecondFactorChallenge.of(done))
        login = LoginType.from_model(done.login, done.customer_numbers) if done else None
        return payload(LoginPayload, outcome, info.context.locale, login=login)

    @strawberry.mutation(description="Log out: end this session, or every session of the login.")
    async def logout(
        self,
        info: Info,
        all_sessions: Annotated[bool, _arg("End every session of the login.")] = False,
    ) -> EndSessionsPayload:
        outcome = await session_ops.logout(info.context, all_sessions)
        return payload(
            EndSessionsPayload, outcome, info.context.locale, ended_sessions=outcome.value or 0
        )

    @strawberry.mutation(
        description="End one session of the logged-in login (e.g. of a lost phone), or all "
        "sessions but the current one. Give exactly one of the two arguments."
    )
    async def end_sessions(
        self,
        info: Info,
        session_id: Annotated[
            strawberry.ID | None, _arg("The session to end (`id` from `sessions`).")
        ] = None,
        all_others: Annotated[bool, _arg("End every session but the current one.")] = False,
    ) -> EndSessionsPayload:
        outcome = await session_ops.end_sessions_of_login(info.context, session_id, all_others)
        return payload(
            EndSessionsPayload, outcome, info.context.locale, ended_sessions=outcome.value or 0
        )

    @strawberry.mutation(
        description="Forgotten password (R7): mail a link, valid 7 days, to set a new one. "
        "Answers the same whether or not the address belongs to a login."
    )
    async def request_password_reset(self, info: Info, email: Email) -> RequestPasswordResetPayload:
        outcome = await password_ops.request_password_reset(info.context, email)
        return payload(RequestPasswordResetPayload, outcome, info.context.locale)

    @strawberry.mutation(
        description="Set a new password with the token from the reset link; ends every session."
    )
    async def reset_password(
        self, info: Info, token: Token, new_password: NewPassword
    ) -> PasswordPayload:
        outcome = await password_ops.reset_password(info.context, token, new_password)
        return payload(PasswordPayload, outcome, info.context.locale)

    @strawberry.mutation(
        description="Change the password; needs the current one. Ends the other sessions."
    )
    async def change_password(
        self, info: Info, current_password: CurrentPassword, new_password: NewPassword
    ) -> PasswordPayload:
        outcome = await password_ops.change_password(info.context, current_password, new_password)
        return payload(PasswordPayload, outcome, info.context.locale)

    @strawberry.mutation(
        description="Change the login e-mail (R6); needs the current password. A link goes to "
        "the new address; the change takes effect when it is followed."
    )
    async def change_email(
        self,
        info: Info,
        current_password: CurrentPassword,
        new_email: Annotated[str, _arg("The new login e-mail address.")],
    ) -> ChangeEmailPayload:
        outcome = await email_ops.change_email(info.context, current_password, new_email)
        return payload(ChangeEmailPayload, outcome, info.context.locale)

    @strawberry.mutation(
        description="Confirm a new login e-mail with the token from the link sent to it; "
        "the old address is told, with a link to undo."
    )
    async def confirm_email_change(self, info: Info, token: Token) -> ConfirmEmailChangePayload:
        outcome = await email_ops.confirm_email_change(info.context, token)
        return payload(ConfirmEmailChangePayload, outcome, info.context.locale)

    @strawberry.mutation(
        description="Undo an e-mail change with the token from the notice to the old address: "
        "restores it, ends every session and mails a password-reset link."
    )
    async def undo_email_change(self, info: Info, token: Token) -> UndoEmailChangePayload:
        outcome = await email_ops.undo_email_change(info.context, token)
        return payload(UndoEmailChangePayload, outcome, info.context.locale)

    @strawberry.mutation(
        description="Delete the login (R16, R17); needs the current password. Customer numbers "
        "can be registered again at once."
    )
    async def delete_profile(
        self, info: Info, current_password: CurrentPassword
    ) -> DeleteProfilePayload:
        outcome = await profile_ops.delete_profile(info.context, current_password)
        return payload(DeleteProfilePayload, outcome, info.context.locale)

    @strawberry.mutation(
        description="Send a message to a department, e.g. a deletion request to billing (R8)."
    )
    async def send_contact_message(
        self, info: Info, input: Annotated[ContactMessageInput, _arg("The message.")]
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
