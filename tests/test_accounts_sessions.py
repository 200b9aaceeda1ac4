"""The login's sessions, ending one or all others, notices of new clients,
and re-authentication for sensitive changes."""

from __future__ import annotations

import datetime as dt

import pytest
import strawberry
from starlette.routing import Route

from models import OutboxMail
from resolvers.auth import reauthenticate
from schema import Mutation, Query
from schema.context import Info
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

SESSIONS = "{ sessions { id current client clientAddress createdAt lastUsedAt expiresAt } }"
END = """
mutation End($input: EndSessionsInput!) {
  endSessions(input: $input) { errors { code field message } endedSessions }
}
"""
ME = "{ me { email } }"
PHONE = {"User-Agent": "Stadtwerke-App/3.1 (iPhone)"}


async def test_sessions_lists_every_session_and_marks_the_current(client, mailbox):
    # given a login on the computer and on a phone
    computer = await register_and_login(client, mailbox)
    await log_in(client, headers=PHONE)

    # when the computer lists the sessions
    result = await gql(client, SESSIONS, token=computer)

    # then both show, newest first, with client, address and times
    sessions = result.data["sessions"]
    assert [(s["client"], s["current"]) for s in sessions] == [
        ("Stadtwerke-App/3.1 (iPhone)", False),
        ("python-httpx/0.28.1", True),
    ]
    assert all(s["clientAddress"] == "203.0.113.7" for s in sessions)
    assert all(s["createdAt"] and s["lastUsedAt"] and s["expiresAt"] for s in sessions)


async def test_sessions_needs_a_login(client):
    result = await gql(client, SESSIONS)
    assert result.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_end_one_session_such_as_a_lost_phone(client, mailbox):
    computer = await register_and_login(client, mailbox)
    phone = (await log_in(client, headers=PHONE))["token"]
    listed = (await gql(client, SESSIONS, token=computer)).data["sessions"]
    phone_id = next(s["id"] for s in listed if not s["current"])

    result = await gql(client, END, {"input": {"sessionId": phone_id}}, token=computer)

    assert result.data["endSessions"] == {"errors": [], "endedSessions": 1}
    assert (await gql(client, ME, token=phone)).data["me"] is None
    assert (await gql(client, ME, token=computer)).data["me"] is not None


async def test_end_all_other_sessions(client, mailbox):
    computer = await register_and_login(client, mailbox)
    others = [(await log_in(client))["token"] for _ in range(2)]
    result = await gql(client, END, {"input": {"allOthers": True}}, token=computer)
    assert result.data["endSessions"] == {"errors": [], "endedSessions": 2}
    for token in others:
        assert (await gql(client, ME, token=token)).data["me"] is None
    assert (await gql(client, ME, token=computer)).data["me"] is not None


async def test_sessions_of_another_login_cannot_be_found(client, mailbox):
    erika = await register_and_login(client, mailbox)
    max_ = await register_and_login(
        client, mailbox, customer=await make_customer_with_proofs("100002"), email="max@example.org"
    )
    max_session = (await gql(client, SESSIONS, token=max_)).data["sessions"][0]["id"]
    result = await gql(client, END, {"input": {"sessionId": max_session}}, token=erika)
    assert codes(result.data["endSessions"]) == ["NOT_FOUND"]
    assert (await gql(client, ME, token=max_)).data["me"] is not None


async def test_end_sessions_needs_exactly_one_choice(client, mailbox):
    token = await register_and_login(client, mailbox)
    others = (await log_in(client))["token"]
    for choice in ({}, {"sessionId": "1", "allOthers": True}):
        refused = await gql(client, END, {"input": choice}, token=token)
        assert refused.data is None, choice  # @oneOf: exactly one
        assert refused.errors, choice
    result = await gql(client, END, {"input": {"allOthers": False}}, token=token)
    assert codes(result.data["endSessions"]) == ["CHOICE_REQUIRED"]
    assert (await gql(client, ME, token=others)).data["me"] is not None


# ------------------------------------------------------------------ new-client notices


async def test_login_from_a_new_device_is_told_to_the_address(client, mailbox, settings):
    # given a login registered, and logged in, from this computer, which keeps its device token
    await register(client, mailbox, await make_customer_with_proofs())
    computer = {"X-Device-Token": (await log_in(client))["deviceToken"]}
    assert await OutboxMail.filter(kind="new_client_login").count() == 0

    # when it logs in from a phone (a device without the computer's token)
    payload = await log_in(client, headers=PHONE)
    assert payload["mailedTo"] == "e***a@example.org"

    # then the address is told when, from which client, and where to reset the password
    mail = (await mailbox.wait_for("erika@example.org", 2))[-1]
    assert mail["Subject"] == "Neue Anmeldung in Ihrem Benutzerkonto"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Stadtwerke-App/3.1 (iPhone) (203.0.113.7)" in text
    assert "Zeitpunkt: " in text
    assert f"{settings.portal_url}/forgot-password" in text

    # and a second login from the phone (with its device token) is not news
    phone = {**PHONE, "X-Device-Token": payload["deviceToken"]}
    assert (await log_in(client, headers=phone))["mailedTo"] is None
    assert (await log_in(client, headers=computer))["mailedTo"] is None
    assert await OutboxMail.filter(kind="new_client_login").count() == 1


async def test_a_browser_update_is_no_new_device(client, mailbox):
    # given a login that logged in from this browser (its device cookie)
    await register(client, mailbox, await make_customer_with_proofs())
    await gql(client, LOGIN, {"email": "erika@example.org", "password": PASSWORD})
    assert client.cookies.get("kp_device")

    # when the browser, updated, sends a new User-Agent with the same device cookie
    updated = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Firefox/140.0"}
    result = await gql(
        client, LOGIN, {"email": "erika@example.org", "password": PASSWORD}, headers=updated
    )

    # then no notice is mailed
    assert result.data["login"]["mailedTo"] is None
    assert await OutboxMail.filter(kind="new_client_login").count() == 0

    # but a login from another device (no device cookie), the same User-Agent, is told once
    client.cookies.clear()
    other = await gql(
        client, LOGIN, {"email": "erika@example.org", "password": PASSWORD}, headers=updated
    )
    assert other.data["login"]["mailedTo"] == "e***a@example.org"
    assert await OutboxMail.filter(kind="new_client_login").count() == 1


async def test_notice_does_not_carry_links_a_client_put_in_its_user_agent(client, mailbox):
    await register_and_login(client, mailbox)
    agent = "Urgent: secure your account at https://evil.example/login <b>now</b>"
    await log_in(client, headers={"User-Agent": agent})
    mail = (await mailbox.wait_for("erika@example.org", 2))[-1]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "evil.example" not in text
    assert "evil.example" not in html
    assert "<b>" not in html
    assert "Urgent: secure your account at bnow/b (203.0.113.7)" in text


# -------------------------------------------------------------------- re-authentication


@strawberry.type
class MutationWithSensitiveChange(Mutation):
    """Stands in for other areas' sensitive mutations (setOnlineCustomer, …)."""

    @strawberry.mutation
    async def sensitive_change(self, info: Info, current_password: str | None = None) -> bool:
        return await reauthenticate(info.context, current_password)


SENSITIVE = """
mutation Sensitive($password: String) { sensitiveChange(currentPassword: $password) }
"""


@pytest.fixture
def app_with_sensitive_change(app):
    route = next(r for r in app.routes if isinstance(r, Route) and r.path == "/graphql")
    route.endpoint.schema = strawberry.Schema(query=Query, mutation=MutationWithSensitiveChange)
    return app


async def test_session_older_than_15_minutes_must_give_the_password_again(
    app_with_sensitive_change, client, mailbox, clock
):
    # given a fresh login: no password needed
    token = await register_and_login(client, mailbox)
    assert (await gql(client, SENSITIVE, token=token)).data["sensitiveChange"] is True

    # when 15 minutes have passed since it logged in
    clock.shift(dt.timedelta(minutes=15))

    # then the password is needed, and a wrong one does not do
    assert (await gql(client, SENSITIVE, token=token)).data["sensitiveChange"] is False
    wrong = await gql(client, SENSITIVE, {"password": "Wrong#Pass1"}, token=token)
    assert wrong.data["sensitiveChange"] is False
    right = await gql(client, SENSITIVE, {"password": PASSWORD}, token=token)
    assert right.data["sensitiveChange"] is True

    # and the right password counts as a new login for the next 15 minutes
    clock.shift(dt.timedelta(minutes=14))
    assert (await gql(client, SENSITIVE, token=token)).data["sensitiveChange"] is True


async def test_wrong_password_at_reauthentication_counts_as_failed_login(
    app_with_sensitive_change, client, mailbox, settings
):
    settings.login_failures_per_login = 2
    token = await register_and_login(client, mailbox)
    for _ in range(2):
        await gql(client, SENSITIVE, {"password": "Wrong#Pass1"}, token=token)
    result = await gql(client, SENSITIVE, {"password": PASSWORD}, token=token)
    assert result.errors[0]["extensions"]["code"] == "RATE_LIMITED"


@pytest.mark.parametrize(
    ("document", "name"),
    [
        (
            "mutation($p: String) { changePassword(input: { currentPassword: $p,"
            ' newPassword: "Neu#Quelle77" }) { errors { code field } } }',
            "changePassword",
        ),
        (
            "mutation($p: String) { changeEmail(input:"
            ' { currentPassword: $p, newEmail: "n@example.org" }) { errors { code field } } }',
            "changeEmail",
        ),
        (
            "mutation($p: String) { deleteProfile(input: { currentPassword: $p })"
            " { errors { code field } } }",
            "deleteProfile",
        ),
    ],
)
async def test_sensitive_mutations_answer_one_code_for_missing_or_wrong_password(
    client, mailbox, document, name
):
    # a fresh session, yet these always need the password
    token = await register_and_login(client, mailbox)
    for password in (None, "Wrong#Pass1"):
        result = await gql(client, document, {"p": password}, token=token)
        assert result.data[name]["errors"] == [
            {"code": "REAUTHENTICATION_REQUIRED", "field": ["input", "currentPassword"]}
        ]
