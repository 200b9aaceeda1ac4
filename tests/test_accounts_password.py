"""Forgotten password (R7) and changing the password, with links read from real mails."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, quote, urlsplit

from models import OutboxMail
from tests.conftest import gql, link_from
from tests.factories import (
    LOGIN,
    PASSWORD,
    close_to,
    codes,
    log_in,
    make_customer_with_proofs,
    register,
    register_and_login,
)

REQUEST_RESET = """
mutation RequestReset($email: String!) {
  requestPasswordReset(input: { email: $email }) {
    errors { code field message }
    mailedTo expiresAt resendAvailableAt
  }
}
"""

RESET = """
mutation Reset($token: String!, $password: String!) {
  resetPassword(input: { token: $token, newPassword: $password }) {
    errors { code field message }
    mailedTo
  }
}
"""

CHANGE = """
mutation Change($current: String, $password: String!) {
  changePassword(input: { currentPassword: $current, newPassword: $password }) {
    errors { code field message }
    mailedTo
  }
}
"""

ME = "{ me { email passwordChangedAt } }"
NEW_PASSWORD = "Quellwasser&Tal9"


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


async def request_link(client, mailbox, count: int = 1, email: str = "erika@example.org") -> str:
    result = await gql(client, REQUEST_RESET, {"email": email})
    assert result.data["requestPasswordReset"]["errors"] == []
    return link_from(await mailbox.last_text(email, count))


async def test_reset_link_copied_whole_sets_a_new_password(client, mailbox, settings):
    # given a login with a session
    token = await register_and_login(client, mailbox)
    now = dt.datetime.now(dt.UTC)

    # when the password is forgotten
    result = await gql(client, REQUEST_RESET, {"email": "erika@example.org"})

    # then a link valid 7 days was mailed to the masked address
    payload = result.data["requestPasswordReset"]
    assert payload["errors"] == []
    assert payload["mailedTo"] == "e***a@example.org"
    assert close_to(payload["expiresAt"], now + dt.timedelta(days=7))
    assert close_to(payload["resendAvailableAt"], now + dt.timedelta(minutes=5))
    text = await mailbox.last_text("erika@example.org", 2)
    assert "7 Tage gültig" in text
    link = link_from(text)
    # the link points at the front end and needs no escaping: it survives being copied whole
    assert link.startswith(f"{settings.portal_url}/reset-password?token=")
    assert quote(link, safe=":/?=&") == link
    html = (await mailbox.wait_for("erika@example.org"))[-1].get_body(preferencelist=("html",))
    assert f'href="{link}"' in html.get_content()

    # when the new password is set with the token from the copied link
    reset = await gql(client, RESET, {"token": token_of(link), "password": NEW_PASSWORD})

    # then the owner is told by mail, the old password and every session are gone
    assert reset.data["resetPassword"] == {"errors": [], "mailedTo": "e***a@example.org"}
    notice = await mailbox.wait_for("erika@example.org", 3)
    assert notice[-1]["Subject"] == "Ihr Passwort wurde geändert"
    assert (await gql(client, ME, token=token)).data["me"] is None
    old = await gql(client, LOGIN, {"email": "erika@example.org", "password": PASSWORD})
    assert codes(old.data["login"]) == ["INVALID_CREDENTIALS"]
    await log_in(client, password=NEW_PASSWORD)


async def test_reset_answers_the_same_for_an_unknown_address(client, mailbox):
    customer = await make_customer_with_proofs()
    await register(client, mailbox, customer)
    known = (await gql(client, REQUEST_RESET, {"email": "erika@example.org"})).data
    unknown = (await gql(client, REQUEST_RESET, {"email": "ernst@example.org"})).data
    known, unknown = known["requestPasswordReset"], unknown["requestPasswordReset"]
    assert known["errors"] == unknown["errors"] == []
    assert known["mailedTo"] == "e***a@example.org"
    assert unknown["mailedTo"] == "e***t@example.org"
    assert close_to(known["expiresAt"], dt.datetime.fromisoformat(unknown["expiresAt"]))
    await mailbox.wait_for("erika@example.org", 2)
    assert await OutboxMail.filter(recipient="ernst@example.org").count() == 0


async def test_reset_link_is_valid_for_7_days(client, mailbox, clock):
    await register_and_login(client, mailbox)
    link = await request_link(client, mailbox, 2)
    clock.shift(dt.timedelta(days=7, minutes=1))
    result = await gql(client, RESET, {"token": token_of(link), "password": NEW_PASSWORD})
    assert codes(result.data["resetPassword"]) == ["LINK_EXPIRED"]


async def test_reset_link_still_works_on_the_seventh_day(client, mailbox, clock):
    await register_and_login(client, mailbox)
    link = await request_link(client, mailbox, 2)
    clock.shift(dt.timedelta(days=6, hours=23))
    result = await gql(client, RESET, {"token": token_of(link), "password": NEW_PASSWORD})
    assert result.data["resetPassword"]["errors"] == []


async def test_reset_link_works_once(client, mailbox):
    await register_and_login(client, mailbox)
    token = token_of(await request_link(client, mailbox, 2))
    first = await gql(client, RESET, {"token": token, "password": NEW_PASSWORD})
    assert first.data["resetPassword"]["errors"] == []
    again = await gql(client, RESET, {"token": token, "password": "Andere#Quelle8"})
    assert codes(again.data["resetPassword"]) == ["LINK_INVALID"]


async def test_newer_reset_link_voids_the_older(client, mailbox, clock):
    await register_and_login(client, mailbox)
    older = token_of(await request_link(client, mailbox, 2))
    clock.shift(dt.timedelta(minutes=5))
    newer = token_of(await request_link(client, mailbox, 3))
    result = await gql(client, RESET, {"token": older, "password": NEW_PASSWORD})
    assert codes(result.data["resetPassword"]) == ["LINK_INVALID"]
    result = await gql(client, RESET, {"token": newer, "password": NEW_PASSWORD})
    assert result.data["resetPassword"]["errors"] == []


async def test_second_reset_mail_only_after_the_cooldown(client, mailbox, clock):
    await register_and_login(client, mailbox)
    await request_link(client, mailbox, 2)
    sent_at = dt.datetime.now(dt.UTC)
    for address in ("erika@example.org", "ernst@example.org"):
        if address == "ernst@example.org":
            await gql(client, REQUEST_RESET, {"email": address})
        early = (await gql(client, REQUEST_RESET, {"email": address})).data
        payload = early["requestPasswordReset"]
        assert codes(payload) == ["RESEND_NOT_YET_AVAILABLE"]
        assert close_to(payload["resendAvailableAt"], sent_at + dt.timedelta(minutes=5))
        assert payload["mailedTo"] is None
    clock.shift(dt.timedelta(minutes=5))
    await request_link(client, mailbox, 3)


async def test_unknown_reset_tokens_are_refused_and_limited(client, mailbox, settings):
    settings.link_failures_per_address = 2
    for _ in range(2):
        result = await gql(client, RESET, {"token": "x" * 43, "password": NEW_PASSWORD})
        assert codes(result.data["resetPassword"]) == ["LINK_INVALID"]
    result = await gql(client, RESET, {"token": "y" * 43, "password": NEW_PASSWORD})
    assert result.errors[0]["extensions"]["code"] == "RATE_LIMITED"


async def test_reset_applies_the_password_policy(client, mailbox):
    await register_and_login(client, mailbox)
    token = token_of(await request_link(client, mailbox, 2))
    result = await gql(client, RESET, {"token": token, "password": "kurz"})
    assert "PASSWORD_TOO_SHORT" in codes(result.data["resetPassword"])
    # the link still works for a good password
    result = await gql(client, RESET, {"token": token, "password": NEW_PASSWORD})
    assert result.data["resetPassword"]["errors"] == []


async def test_change_password_needs_the_current_password(client, mailbox):
    token = await register_and_login(client, mailbox)
    for current in (None, "Wrong#Pass1"):
        result = await gql(
            client, CHANGE, {"current": current, "password": NEW_PASSWORD}, token=token
        )
        assert result.data["changePassword"]["errors"] == [
            {
                "code": "REAUTHENTICATION_REQUIRED",
                "field": ["input", "currentPassword"],
                "message": "Bitte bestätigen Sie die Änderung mit Ihrem aktuellen Passwort.",
            }
        ]
    await log_in(client)  # unchanged


async def test_change_password_ends_the_other_sessions_and_tells_the_owner(client, mailbox):
    # given two sessions (the second on another device, which is told: PIN, notice)
    token = await register_and_login(client, mailbox)
    other = (await log_in(client))["token"]
    await mailbox.wait_for("erika@example.org", 2)

    # when the password is changed in the first
    result = await gql(client, CHANGE, {"current": PASSWORD, "password": NEW_PASSWORD}, token=token)

    # then the other session ends, this one stays, and a notice goes to the address
    assert result.data["changePassword"] == {"errors": [], "mailedTo": "e***a@example.org"}
    assert (await gql(client, ME, token=other)).data["me"] is None
    me = (await gql(client, ME, token=token)).data["me"]
    assert me["passwordChangedAt"] is not None
    notice = (await mailbox.wait_for("erika@example.org", 3))[-1]
    assert notice["Subject"] == "Ihr Passwort wurde geändert"
    await log_in(client, password=NEW_PASSWORD)


async def test_change_password_applies_the_policy(client, mailbox):
    token = await register_and_login(client, mailbox)
    result = await gql(
        client, CHANGE, {"current": PASSWORD, "password": "erika#Quelle1"}, token=token
    )
    assert codes(result.data["changePassword"]) == ["PASSWORD_CONTAINS_PERSONAL_DATA"]
