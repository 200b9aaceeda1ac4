"""Logging in and out: tokens for apps, cookies with CSRF protection for browsers,
the same answer for unknown addresses, throttling, and session timeouts."""

from __future__ import annotations

import datetime as dt

import httpx

from models import AuditEvent, Session
from tests.conftest import gql
from tests.factories import (
    LOGIN,
    PASSWORD,
    codes,
    log_in,
    make_customer_with_proofs,
    register,
    register_and_login,
)

ME = "{ me { email customerNumbers lastLoginAt } }"
SESSIONS = "{ sessions { id current client clientAddress createdAt lastUsedAt expiresAt } }"
LOGOUT = """
mutation Logout($input: LogoutInput!) { logout(input: $input) { errors { code } endedSessions } }
"""


async def test_login_returns_a_token_and_sets_a_secure_cookie(client, mailbox):
    # given a confirmed login
    customer = await make_customer_with_proofs()
    await register(client, mailbox, customer)

    # when it logs in
    result = await gql(client, LOGIN, {"email": "erika@example.org", "password": PASSWORD})

    # then the payload holds a token for apps, a CSRF token and the login
    payload = result.data["login"]
    assert payload["errors"] == []
    assert len(payload["token"]) >= 43
    assert payload["csrfToken"]
    assert payload["account"] == {"email": "erika@example.org", "customerNumbers": ["100001"]}
    # and the browser gets the same session as an HttpOnly, Secure, SameSite cookie
    cookie = result.response.headers["set-cookie"]
    assert cookie.startswith(f"kp_session={payload['token']};")
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=lax" in cookie

    # and the token works as a Bearer token
    client.cookies.clear()
    me = await gql(client, ME, token=payload["token"])
    assert me.data["me"]["email"] == "erika@example.org"
    assert me.data["me"]["lastLoginAt"] is not None


async def test_session_token_is_stored_only_as_a_hash(client, mailbox):
    token = await register_and_login(client, mailbox)
    session = await Session.get()
    assert token not in session.token_hash


async def test_cookie_session_needs_the_csrf_token_for_mutations(client, mailbox):
    # given a browser logged in with the cookie
    customer = await make_customer_with_proofs()
    await register(client, mailbox, customer)
    result = await gql(client, LOGIN, {"email": "erika@example.org", "password": PASSWORD})
    csrf = result.data["login"]["csrfToken"]

    # then queries work with the cookie alone
    me = await gql(client, ME)
    assert me.data["me"]["email"] == "erika@example.org"

    # but a mutation without the CSRF header is refused (a page on another site cannot send it)
    refused = await gql(client, LOGOUT, {"input": {}})
    assert refused.errors[0]["extensions"]["code"] == "CSRF_TOKEN_INVALID"
    assert (await gql(client, ME)).data["me"] is not None

    # and with it the mutation works; the cookie is cleared
    done = await gql(client, LOGOUT, {"input": {}}, headers={"X-CSRF-Token": csrf})
    assert done.data["logout"] == {"errors": [], "endedSessions": 1}
    assert 'kp_session=""' in done.response.headers["set-cookie"]
    assert (await gql(client, ME)).data["me"] is None


async def test_wrong_password_and_unknown_address_give_the_same_error(client, mailbox):
    customer = await make_customer_with_proofs()
    await register(client, mailbox, customer)
    wrong = await gql(client, LOGIN, {"email": "erika@example.org", "password": "Wrong#Pass1"})
    unknown = await gql(client, LOGIN, {"email": "nobody@example.org", "password": PASSWORD})
    assert wrong.data["login"]["errors"] == unknown.data["login"]["errors"]
    assert wrong.data["login"]["errors"] == [
        {
            "code": "INVALID_CREDENTIALS",
            "field": ["input", "password"],
            "message": "E-Mail-Adresse oder Passwort ist nicht korrekt.",
        }
    ]
    assert wrong.data["login"]["token"] is None
    assert unknown.data["login"]["token"] is None


async def test_unknown_address_costs_the_same_bcrypt_work(app, client, mailbox):
    # given a hasher that records what it runs
    customer = await make_customer_with_proofs()
    await register(client, mailbox, customer)
    ran: list[str] = []
    hasher = app.state.hasher
    original = hasher._run

    async def recording(fn, *args):
        ran.append(fn.__name__)
        return await original(fn, *args)

    hasher._run = recording
    try:
        # when a known address with a wrong password and an unknown address log in
        await gql(client, LOGIN, {"email": "erika@example.org", "password": "Wrong#Pass1"})
        known = list(ran)
        ran.clear()
        await gql(client, LOGIN, {"email": "nobody@example.org", "password": "Wrong#Pass1"})
        unknown = list(ran)
    finally:
        hasher._run = original

    # then both ran exactly one bcrypt check (against a dummy hash for the unknown one)
    assert known == unknown == ["checkpw"]


async def test_failed_logins_are_throttled_per_login(client, mailbox, settings, clock):
    # given a login and a limit of 3 failures per 15 minutes
    settings.login_failures_per_login = 3
    customer = await make_customer_with_proofs()
    await register(client, mailbox, customer)
    client.cookies.clear()  # an unknown client: the registering browser's device would pass
    for _ in range(3):
        result = await gql(client, LOGIN, {"email": "erika@example.org", "password": "Wrong#1x"})
        assert codes(result.data["login"]) == ["INVALID_CREDENTIALS"]

    # when the right password comes next, then it is refused for now, with the time to wait
    result = await gql(client, LOGIN, {"email": "erika@example.org", "password": PASSWORD})
    assert result.errors[0]["extensions"]["code"] == "RATE_LIMITED"
    assert result.errors[0]["message"].startswith("Zu viele Versuche.")
    assert result.response.status_code == 429
    retry_after = int(result.response.headers["Retry-After"])
    assert 14 * 60 < retry_after <= 15 * 60

    # and the lockout is in the audit trail
    assert await AuditEvent.filter(action="lockout").count() == 1

    # when the window has passed, then the login works
    clock.shift(dt.timedelta(seconds=retry_after + 1))
    await log_in(client)


async def test_failed_logins_are_throttled_per_client_address(app, client, mailbox, settings):
    # given a limit of 3 failures per client address
    settings.login_failures_per_address = 3
    customer = await make_customer_with_proofs()
    await register(client, mailbox, customer)
    client.cookies.clear()  # an unknown client: the registering browser's device would pass
    for n in range(3):
        await gql(client, LOGIN, {"email": f"guess{n}@example.org", "password": "Wrong#1x"})

    # then this client is refused, also for an address it never tried
    result = await gql(client, LOGIN, {"email": "erika@example.org", "password": PASSWORD})
    assert result.errors[0]["extensions"]["code"] == "RATE_LIMITED"

    # while another client address can log in
    transport = httpx.ASGITransport(app=app, client=("198.51.100.4", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as other:
        await log_in(other)


async def test_session_ends_after_idle_timeout(client, mailbox, clock):
    token = await register_and_login(client, mailbox)
    clock.shift(dt.timedelta(minutes=59))
    assert (await gql(client, ME, token=token)).data["me"] is not None
    clock.shift(dt.timedelta(minutes=61))
    assert (await gql(client, ME, token=token)).data["me"] is None
    result = await gql(client, SESSIONS, token=token)
    assert result.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    # and the ended session is deleted, not just refused
    assert await Session.all().count() == 0


async def test_session_in_use_outlives_the_idle_timeout(client, mailbox, clock):
    # given a session used every 50 minutes (the idle timeout is 60)
    token = await register_and_login(client, mailbox)
    for _ in range(3):
        clock.shift(dt.timedelta(minutes=50))
        # then it still works, 150 minutes after the login
        assert (await gql(client, ME, token=token)).data["me"] is not None

    # when it then lies unused past the idle timeout, it ends
    clock.shift(dt.timedelta(minutes=61))
    assert (await gql(client, ME, token=token)).data["me"] is None


async def test_last_use_is_recorded_at_most_once_a_minute(client, mailbox, clock):
    # given a new session
    token = await register_and_login(client, mailbox)

    # when it is used again within the minute, its last use stays the login's time
    clock.shift(dt.timedelta(seconds=30))
    (listed,) = (await gql(client, SESSIONS, token=token)).data["sessions"]
    assert listed["lastUsedAt"] == listed["createdAt"]

    # and once the minute has passed, the use is recorded
    clock.shift(dt.timedelta(minutes=1))
    (listed,) = (await gql(client, SESSIONS, token=token)).data["sessions"]
    used = dt.datetime.fromisoformat(listed["lastUsedAt"])
    assert used - dt.datetime.fromisoformat(listed["createdAt"]) >= dt.timedelta(seconds=90)


async def test_session_ends_after_absolute_timeout(client, mailbox, settings, clock):
    settings.session_idle_minutes = 60 * 24 * 30
    token = await register_and_login(client, mailbox)
    clock.shift(dt.timedelta(days=13, hours=23))
    assert (await gql(client, ME, token=token)).data["me"] is not None
    clock.shift(dt.timedelta(hours=1, minutes=1))
    assert (await gql(client, ME, token=token)).data["me"] is None
    # and the ended session is deleted, not just refused
    assert await Session.all().count() == 0


async def test_logout_ends_this_session_or_all(client, mailbox):
    # given two sessions of one login
    first = await register_and_login(client, mailbox)
    second = (await log_in(client))["token"]
    third = (await log_in(client))["token"]

    # when the first logs out, without an input, then only it ends
    result = await gql(client, "mutation { logout { errors { code } endedSessions } }", token=first)
    assert result.data["logout"] == {"errors": [], "endedSessions": 1}
    assert (await gql(client, ME, token=first)).data["me"] is None
    assert (await gql(client, ME, token=second)).data["me"] is not None

    # when the second logs out everywhere, then the third ends too
    result = await gql(client, LOGOUT, {"input": {"allSessions": True}}, token=second)
    assert result.data["logout"]["endedSessions"] == 2
    assert (await gql(client, ME, token=third)).data["me"] is None


async def test_logout_needs_a_session(client, mailbox):
    result = await gql(client, LOGOUT, {"input": {}})
    assert result.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_me_is_null_when_not_logged_in(client):
    result = await gql(client, ME)
    assert result.errors is None
    assert result.data == {"me": None}


async def test_busy_hasher_asks_to_try_again(app, client, mailbox):
    customer = await make_customer_with_proofs()
    await register(client, mailbox, customer)
    app.state.hasher.queue_limit = 0
    try:
        result = await gql(client, LOGIN, {"email": "erika@example.org", "password": PASSWORD})
    finally:
        app.state.hasher.queue_limit = 64
    assert result.errors[0]["extensions"]["code"] == "BUSY"
    assert result.response.status_code == 429
    assert result.response.headers["Retry-After"] == "1"


async def test_audit_trail_records_logins_without_personal_data(client, mailbox):
    customer = await make_customer_with_proofs()
    await register(client, mailbox, customer)
    await gql(client, LOGIN, {"email": "erika@example.org", "password": "Wrong#Pass1"})
    await log_in(client)
    events = await AuditEvent.filter(action__in=["login", "login_failed"]).order_by("id")
    assert [(e.action, e.outcome) for e in events] == [
        ("login_failed", "failure"),
        ("login", "success"),
    ]
    assert all(e.client_address == "203.0.113.7" and e.login_id for e in events)
    for event in await AuditEvent.all():
        assert "erika" not in str(event.details).lower()
        assert "erika" not in event.actor.lower()
