"""Builders for second-factor tests: the operations as module constants, and a login
with a passkey or an authenticator app set up through the API.

The relying party of the tests is `wasser.example`, the portal's page
`https://portal.wasser.example` (the `settings` fixture below sets both).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from security import totp
from settings import Settings
from tests.authenticator import SoftAuthenticator
from tests.conftest import gql
from tests.factories import PASSWORD, codes

ORIGIN = "https://portal.wasser.example"
RP_ID = "wasser.example"

ERRORS = "errors { code field message }"
SESSION = "token csrfToken sessionExpiresAt deviceToken mailedTo account { email }"

LOGIN = f"""
mutation Login($email: String!, $password: String!) {{
  login(input: {{ email: $email, password: $password }}) {{
    {ERRORS} {SESSION}
    secondFactor {{ token expiresAt methods passkeyOptions }}
  }}
}}
"""
COMPLETE_LOGIN = f"""
mutation Complete($input: CompleteLoginInput!) {{
  completeLogin(input: $input) {{ {ERRORS} {SESSION} }}
}}
"""
START_PASSKEY_LOGIN = f"mutation {{ startPasskeyLogin {{ {ERRORS} options }} }}"
LOGIN_WITH_PASSKEY = f"""
mutation Passkey($input: LoginWithPasskeyInput!) {{
  loginWithPasskey(input: $input) {{ {ERRORS} {SESSION} }}
}}
"""
START_REGISTRATION = f"""
mutation Start($input: StartPasskeyRegistrationInput!) {{
  startPasskeyRegistration(input: $input) {{ {ERRORS} options }}
}}
"""
REGISTER_PASSKEY = f"""
mutation Register($input: RegisterPasskeyInput!) {{
  registerPasskey(input: $input) {{
    {ERRORS} passkey {{ id name createdAt lastUsedAt synced }} recoveryCodes mailedTo
  }}
}}
"""
REMOVE_PASSKEY = f"""
mutation Remove($input: RemovePasskeyInput!) {{
  removePasskey(input: $input) {{ {ERRORS} secondFactorEnabled mailedTo }}
}}
"""
RENAME_PASSKEY = f"""
mutation Rename($input: RenamePasskeyInput!) {{
  renamePasskey(input: $input) {{ {ERRORS} passkey {{ id name }} }}
}}
"""
START_APP = f"""
mutation StartApp($input: StartAuthenticatorAppEnrolmentInput!) {{
  startAuthenticatorAppEnrolment(input: $input) {{ {ERRORS} otpauthUri secret expiresAt }}
}}
"""
CONFIRM_APP = f"""
mutation ConfirmApp($input: ConfirmAuthenticatorAppInput!) {{
  confirmAuthenticatorApp(input: $input) {{ {ERRORS} recoveryCodes mailedTo }}
}}
"""
REMOVE_APP = f"""
mutation RemoveApp($input: RemoveAuthenticatorAppInput!) {{
  removeAuthenticatorApp(input: $input) {{ {ERRORS} secondFactorEnabled mailedTo }}
}}
"""
REGENERATE = f"""
mutation Regenerate($input: RegenerateRecoveryCodesInput!) {{
  regenerateRecoveryCodes(input: $input) {{ {ERRORS} recoveryCodes mailedTo }}
}}
"""
START_STEP_UP = f"mutation {{ startStepUp {{ {ERRORS} methods passkeyOptions }} }}"
STEP_UP = f"""
mutation StepUp($input: StepUpInput!) {{ stepUp(input: $input) {{ {ERRORS} validUntil }} }}
"""
OVERVIEW = """
{ secondFactor {
    enabled recoveryCodesLeft stepUpValidUntil
    passkeys { id name createdAt lastUsedAt synced }
    authenticatorApp { createdAt lastUsedAt }
} }
"""


def with_relying_party(settings: Settings) -> Settings:
    """The conftest settings with the tests' relying party; each test module overrides its
    `settings` fixture with it."""
    return settings.model_copy(update={"webauthn_rp_id": RP_ID, "webauthn_origins": [ORIGIN]})


def device() -> SoftAuthenticator:
    return SoftAuthenticator(origin=ORIGIN, rp_id=RP_ID)


async def call(
    client: httpx.AsyncClient, document: str, variables: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    """Run a mutation or query and return its one root field's value."""
    result = await gql(client, document, variables, **kw)
    assert result.errors is None, result.errors
    return next(iter(result.data.values()))


async def add_passkey(
    client: httpx.AsyncClient, token: str, authenticator: SoftAuthenticator, name: str = "Laptop"
) -> dict[str, Any]:
    """Register `authenticator` as a passkey of the logged-in login; the payload."""
    started = await call(
        client, START_REGISTRATION, {"input": {"currentPassword": PASSWORD}}, token=token
    )
    assert started["errors"] == [], started
    credential = authenticator.create(started["options"])
    done = await call(
        client, REGISTER_PASSKEY, {"input": {"name": name, "credential": credential}}, token=token
    )
    assert done["errors"] == [], done
    return done


def code_now(secret: str, offset: int = 0) -> str:
    """The app's code for the current time step (plus `offset` steps)."""
    return totp.code_at_step(secret, totp.step_at(dt.datetime.now(dt.UTC)) + offset)


async def add_app(client: httpx.AsyncClient, token: str) -> tuple[str, list[str] | None]:
    """Set up an authenticator app; its secret and the recovery codes (if first factor)."""
    started = await call(client, START_APP, {"input": {"currentPassword": PASSWORD}}, token=token)
    assert started["errors"] == [], started
    secret = parse_qs(urlsplit(started["otpauthUri"]).query)["secret"][0]
    assert secret == started["secret"]
    done = await call(client, CONFIRM_APP, {"input": {"code": code_now(secret)}}, token=token)
    assert done["errors"] == [], done
    return secret, done["recoveryCodes"]


async def password_login(
    client: httpx.AsyncClient, email: str = "erika@example.org", **kw: Any
) -> dict[str, Any]:
    """A password login's payload; the client keeps no cookie."""
    payload = await call(client, LOGIN, {"email": email, "password": PASSWORD}, **kw)
    client.cookies.clear()
    return payload


def only_codes(payload: dict[str, Any]) -> list[str]:
    return codes(payload)


def recovery_code_shape(code: str) -> bool:
    return bool(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code))
