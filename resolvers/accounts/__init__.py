"""The account area: the whole life of a login (R1–R8, R16–R19).

One module per family: `registration`, `sessions`, `password`, `email`,
`profile`, `contact`; shared pieces in `common`, `links`, `notices`; the request guards
(login, rate limits, re-authentication) in `resolvers.auth`.
This module only binds them to the schema.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.accounts import contact as contact_ops
from resolvers.accounts import email as email_ops
from resolvers.accounts import password as password_ops
from resolvers.accounts import profile as profile_ops
from resolvers.accounts import registration as registration_ops
from resolvers.accounts import sessions as session_ops
from resolvers.accounts.registration import purge_accounts, purge_expired_registrations
from resolvers.context import Info
from schema.accounts import (
    ChangeEmailPayload,
    ConfirmEmailChangePayload,
    ConfirmPinPayload,
    ContactMessageInput,
    DeleteProfilePayload,
    EndSessionsPayload,
    LoginPayload,
    LoginType,
    PasswordPayload,
    RegisterInput,
    RegisterPayload,
    RequestPasswordResetPayload,
    ResendPinPayload,
    SendContactMessagePayload,
    SessionType,
    UndoEmailChangePayload,
)

__all__ = [
    "AccountMutation",
    "AccountQuery",
    "purge_accounts",
    "purge_expired_registrations",
]


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
        return await session_ops.me(info)

    @strawberry.field(description="The logged-in login's live sessions, newest first.")
    async def sessions(self, info: Info) -> list[SessionType]:
        return await session_ops.sessions(info)


@strawberry.type
class AccountMutation:
    @strawberry.mutation(
        description="Register a login (R1–R5): customer number with the latest invoice's or "
        "the main meter's number, e-mail and password. A PIN is mailed to confirm."
    )
    async def register(
        self, info: Info, input: Annotated[RegisterInput, _arg("The registration.")]
    ) -> RegisterPayload:
        return await registration_ops.register(info, input)

    @strawberry.mutation(description="Confirm a registration with the PIN from the mail (R4).")
    async def confirm_pin(
        self,
        info: Info,
        email: Email,
        pin: Annotated[str, _arg("The six-digit PIN from the mail.")],
    ) -> ConfirmPinPayload:
        return await registration_ops.confirm_pin(info, email, pin)

    @strawberry.mutation(
        description="Mail a new PIN for a pending registration; possible 5 minutes after the "
        "last one (R4). Answers the same for any address."
    )
    async def resend_pin(self, info: Info, email: Email) -> ResendPinPayload:
        return await registration_ops.resend_pin(info, email)

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
        return await session_ops.login(info, email, password)

    @strawberry.mutation(description="Log out: end this session, or every session of the login.")
    async def logout(
        self,
        info: Info,
        all_sessions: Annotated[bool, _arg("End every session of the login.")] = False,
    ) -> EndSessionsPayload:
        return await session_ops.logout(info, all_sessions)

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
        return await session_ops.end_sessions_of_login(info, session_id, all_others)

    @strawberry.mutation(
        description="Forgotten password (R7): mail a link, valid 7 days, to set a new one. "
        "Answers the same whether or not the address belongs to a login."
    )
    async def request_password_reset(self, info: Info, email: Email) -> RequestPasswordResetPayload:
        return await password_ops.request_password_reset(info, email)

    @strawberry.mutation(
        description="Set a new password with the token from the reset link; ends every session."
    )
    async def reset_password(
        self, info: Info, token: Token, new_password: NewPassword
    ) -> PasswordPayload:
        return await password_ops.reset_password(info, token, new_password)

    @strawberry.mutation(
        description="Change the password; needs the current one. Ends the other sessions."
    )
    async def change_password(
        self, info: Info, current_password: CurrentPassword, new_password: NewPassword
    ) -> PasswordPayload:
        return await password_ops.change_password(info, current_password, new_password)

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
        return await email_ops.change_email(info, current_password, new_email)

    @strawberry.mutation(
        description="Confirm a new login e-mail with the token from the link sent to it; "
        "the old address is told, with a link to undo."
    )
    async def confirm_email_change(self, info: Info, token: Token) -> ConfirmEmailChangePayload:
        return await email_ops.confirm_email_change(info, token)

    @strawberry.mutation(
        description="Undo an e-mail change with the token from the notice to the old address: "
        "restores it, ends every session and mails a password-reset link."
    )
    async def undo_email_change(self, info: Info, token: Token) -> UndoEmailChangePayload:
        return await email_ops.undo_email_change(info, token)

    @strawberry.mutation(
        description="Delete the login (R16, R17); needs the current password. Customer numbers "
        "can be registered again at once."
    )
    async def delete_profile(
        self, info: Info, current_password: CurrentPassword
    ) -> DeleteProfilePayload:
        return await profile_ops.delete_profile(info, current_password)

    @strawberry.mutation(
        description="Send a message to a department, e.g. a deletion request to billing (R8)."
    )
    async def send_contact_message(
        self, info: Info, input: Annotated[ContactMessageInput, _arg("The message.")]
    ) -> SendContactMessagePayload:
        return await contact_ops.send_contact_message(info, input)
