"""Device cookies: "has this browser or app logged in to this login before, and since when?"

OWASP's "slow down online guessing attacks with device cookies": a client that
once logged in successfully to a login carries a token that says so, signed by
the server, and is trusted more than an unknown client for that login only.
The throttles (`security.throttle`) let a known device past the per-login limit
that unknown clients share, so a guesser elsewhere never locks the owner out.

The token is stateless: base64url JSON `{"d": device id, "l": [[login id, since,
stamp], …]}` plus an HMAC under the secret key. One device id per browser or
app (128 random bits, kept across logins: the stable identifier for "new login
from a new device" notices and for remembering a device for a second factor);
one entry per login it logged in to (the newest `MAX_LOGINS`). An entry is bound
to the login's current password: `stamp` is the time of the last password
change, so after a change or reset every device is unknown to that login again
until it logs in anew.

Browsers get it as the HttpOnly cookie `kp_device` (Secure and SameSite like the
session cookie, a year long, kept on logout: it is no credential by itself).
Apps get it as `deviceToken` in the `login` payload and send it back in the
`X-Device-Token` header on later requests; the header wins over the cookie.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from models import Login
from settings import Settings

DEVICE_COOKIE = "kp_device"
DEVICE_HEADER = "x-device-token"
MAX_LOGINS = 8
MAX_TOKEN_CHARS = 1024


@dataclass(frozen=True)
class KnownDevice:
    """A device that logged in to a login: its stable id and when it first did."""

    device_id: str
    since: dt.datetime


@dataclass(frozen=True)
class DeviceToken:
    """What `remember_device` hands out: the token to set and the device it names."""

    token: str
    device: KnownDevice
    new_to_login: bool
    """True when this device had not logged in to this login before (a notice is due)."""


@dataclass(frozen=True)
class _Claims:
    device_id: str
    logins: tuple[tuple[int, int, int], ...]  # (login id, since epoch, password stamp)


def _stamp(login: Login) -> int:
    changed = login.password_changed_at
    return int(changed.timestamp()) if changed else 0


def _b64(data: bytes) -> str:
    """URL-safe base64 without padding: a cookie value that needs no quoting."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _sign(body: str, settings: Settings) -> str:
    key = settings.secret_key.encode()
    return _b64(hmac.new(key, b"device:" + body.encode(), hashlib.sha256).digest()[:18])


def _encode(claims: _Claims, settings: Settings) -> str:
    data = {"d": claims.device_id, "l": [list(entry) for entry in claims.logins]}
    body = _b64(json.dumps(data, separators=(",", ":")).encode())
    return body + "." + _sign(body, settings)


def _decode(token: str, settings: Settings) -> _Claims | None:
    """The claims of a token this server signed, or None for anything else."""
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        return None
    body, signature = token.split(".")
    if not hmac.compare_digest(signature.encode(), _sign(body, settings).encode()):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        device_id = str(data["d"])
        logins = tuple((int(a), int(b), int(c)) for a, b, c in data["l"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    return _Claims(device_id, logins)


def presented_device_token(request: Request) -> str:
    """The device token the client sent: the header (apps) or else the cookie (browsers)."""
    return request.headers.get(DEVICE_HEADER, "").strip() or request.cookies.get(DEVICE_COOKIE, "")


def _claims(request: Request, settings: Settings) -> _Claims | None:
    return _decode(presented_device_token(request), settings)


def device_id(request: Request, settings: Settings) -> str | None:
    """The stable id of the device behind the request, if it carries a valid device token."""
    claims = _claims(request, settings)
    return claims.device_id if claims else None


def known_device(request: Request, settings: Settings, login: Login) -> KnownDevice | None:
    """Is this request from a device that logged in to `login` before (with its current
    password)? Its id and since when, or None for an unknown client."""
    claims = _claims(request, settings)
    if claims is None:
        return None
    for login_id, since, stamp in claims.logins:
        if login_id == login.id and stamp == _stamp(login):
            return KnownDevice(claims.device_id, dt.datetime.fromtimestamp(since, dt.UTC))
    return None


def remember_device(
    request: Request, settings: Settings, login: Login, now: dt.datetime
) -> DeviceToken:
    """After a successful login: the device token that adds `login` to this device's
    logins (a new device id when the request carries none)."""
    claims = _claims(request, settings) or _Claims(secrets.token_urlsafe(16), ())
    earlier = known_device(request, settings, login)
    since = earlier.since if earlier else now.replace(microsecond=0)
    entry = (login.id, int(since.timestamp()), _stamp(login))
    others = [e for e in claims.logins if e[0] != login.id]
    logins = (*others[-(MAX_LOGINS - 1) :], entry)
    token = _encode(_Claims(claims.device_id, logins), settings)
    return DeviceToken(token, KnownDevice(claims.device_id, since), new_to_login=earlier is None)


def set_device_cookie(response: Response, token: str, settings: Settings) -> None:
    """The device token as an HttpOnly cookie, Secure and SameSite like the session's."""
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=settings.device_cookie_days * 86400,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )
