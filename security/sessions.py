"""Sessions: an opaque 256-bit token, stored hashed, sent as Bearer header or cookie.

Browsers get an HttpOnly, Secure, SameSite=Lax cookie; a cookie-authenticated
mutation must also carry the session's CSRF token in `X-CSRF-Token`, which a
page on another site cannot read. Apps send `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from tortoise.models import Model

import clock
from models import Login, Session
from security.tokens import hash_secret, new_token, same
from settings import Settings

COOKIE_NAME = "kp_session"
CSRF_HEADER = "x-csrf-token"
TOUCH_EVERY = dt.timedelta(minutes=1)


def token_hash(token: str, settings: Settings) -> str:
    return hash_secret(token, settings.secret_key, scope="session")


def csrf_token(session: Session, settings: Settings) -> str:
    """Derived from the session, so nothing more is stored; changes with every session."""
    return hash_secret(session.token_hash, settings.secret_key, scope="csrf")[:32]


async def start_session(
    login: Login, settings: Settings, *, client: str, address: str, second_factor: bool = False
) -> tuple[Session, str]:
    """A new session for `login`; the token is returned once and never stored.

    `second_factor`: the login gave its second factor to start it (a step-up until
    `step_up_minutes` pass)."""
    token = new_token()
    now = clock.now()
    session = await Session.create(
        login=login,
        token_hash=token_hash(token, settings),
        created_at=now,
        last_used_at=now,
        authenticated_at=now,
        second_factor_at=now if second_factor else None,
        expires_at=now + dt.timedelta(hours=settings.session_absolute_hours),
        client=client[:200],
        client_address=address[:64],
    )
    return session, token


def presented_token(request: Request) -> tuple[str | None, bool]:
    """The token the client sent and whether it came from the cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    cookie = request.cookies.get(COOKIE_NAME)
    return (cookie, True) if cookie else (None, False)


def _columns(model: type[Model]) -> tuple[str, ...]:
    """Every column of `model` in field order, so that a column added later is read too."""
    return tuple(model._meta.fields_db_projection.values())


@dataclass(frozen=True)
class _SessionRead:
    """The statement behind `read_session` and the columns its rows hold, in order: the
    session's, then its login's."""

    sql: str
    session_columns: tuple[str, ...]
    login_columns: tuple[str, ...]


@functools.cache
def _session_read(dialect: str) -> _SessionRead:
    """Built once per dialect, on the first request (the models' columns are complete only
    once Tortoise is initialised)."""
    session_columns, login_columns = _columns(Session), _columns(Login)
    selected = [f's."{c}"' for c in session_columns] + [f'l."{c}"' for c in login_columns]
    token = "$1" if dialect == "postgres" else "?"
    # Names come from the models, the token hash is a parameter.
    sql = (
        f"SELECT {', '.join(selected)} "  # noqa: S608
        'FROM "session" s JOIN "login" l ON l."id" = s."login_id" '
        f'WHERE s."token_hash" = {token}'
    )
    return _SessionRead(sql, session_columns, login_columns)


async def read_session(hashed: str) -> Session | None:
    """The session with this token hash, its login attached, or None.

    Why hand-written: it runs on every authenticated request, and Tortoise's
    `filter(...).select_related("login").first()` spends 0.3–0.4 ms of CPU building the
    SQL and the instances (this read about 0.1 ms), a fifth of a dashboard request. Here the
    SQL is built once; the row becomes the same instances Tortoise builds, the login
    attached where its `select_related` puts it, so `session.login` needs no await."""
    connection = Session._meta.db
    read = _session_read(connection.capabilities.dialect)
    _, rows = await connection.execute_query(read.sql, [hashed])
    if not rows:
        return None
    values = tuple(rows[0])
    split = len(read.session_columns)
    session = Session._init_from_db(**dict(zip(read.session_columns, values[:split], strict=True)))
    login = Login._init_from_db(**dict(zip(read.login_columns, values[split:], strict=True)))
    object.__setattr__(session, "_login", login)
    return session


async def authenticate(request: Request, settings: Settings) -> tuple[Session | None, bool]:
    """The live session behind the request, or None. Expired sessions are ended."""
    token, via_cookie = presented_token(request)
    if not token or len(token) > 200:
        return None, via_cookie
    session = await read_session(token_hash(token, settings))
    if session is None:
        return None, via_cookie
    now = clock.now()
    idle_limit = session.last_used_at + dt.timedelta(minutes=settings.session_idle_minutes)
    if now >= session.expires_at or now >= idle_limit:
        await session.delete()
        return None, via_cookie
    if now - session.last_used_at >= TOUCH_EVERY:
        session.last_used_at = now
        await Session.filter(id=session.id).update(last_used_at=now)
    return session, via_cookie


def csrf_ok(request: Request, session: Session, settings: Settings) -> bool:
    return same(request.headers.get(CSRF_HEADER, ""), csrf_token(session, settings))


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=settings.session_absolute_hours * 3600,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE_NAME, path="/", httponly=True, secure=settings.cookie_secure, samesite="lax"
    )


async def end_sessions(login_id: int, *, keep: Session | None = None) -> int:
    """End all sessions of a login, or all but `keep`; returns how many ended."""
    query = Session.filter(login_id=login_id)
    if keep is not None:
        query = query.exclude(id=keep.id)
    return await query.delete()
