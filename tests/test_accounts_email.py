"""Changing the login e-mail (R6), confirmed from the new address, undone from the old."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

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

CHANGE_EMAIL = """
mutation ChangeEmail($current: String, $email: String!) {
  changeEmail(input: { currentPassword: $current, newEmail: $email }) {
    errors { code field message }
    mailedTo expiresAt resendAvailableAt
  }
}
"""

CONFIRM = """
mutation Confirm($token: String!) {
  confirmEmailChange(input: { token: $token }) { errors { code field message } mailedTo }
}
"""

UNDO = """
mutation Undo($token: String!) {
  undoEmailChange(input: { token: $token }) { errors { code field message } mailedTo expiresAt }
}
"""

ME = "{ me { email } }"
NEW = "erika.neu@example.net"


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


async def change(client, token: str, email: str = NEW, current: str | None = PASSWORD) -> dict:
    result = await gql(client, CHANGE_EMAIL, {"current": current, "email": email}, token=token)
    return result.data["changeEmail"]


async def test_new_address_takes_effect_only_when_confirmed_from_it(client, mailbox, settings):
    # given a logged-in login
    token = await register_and_login(client, mailbox)
    now = dt.datetime.now(dt.UTC)

    # when it asks to change its address
    payload = await change(client, token)

    # then a link goes to the new address, valid 24 hours, and nothing changed yet
    assert payload["errors"] == []
    assert payload["mailedTo"] == "e***u@example.net"
    assert close_to(payload["expiresAt"], now + dt.timedelta(hours=24))
    assert close_to(payload["resendAvailableAt"], now + dt.timedelta(minutes=5))
    text = await mailbox.last_text(NEW)
    link = link_from(text)
    assert link.startswith(f"{settings.portal_url}/confirm-email?token=")
    assert (await gql(client, ME, token=token)).data["me"]["email"] == "erika@example.org"
    refused = await gql(client, LOGIN, {"email": NEW, "password": PASSWORD})
    assert codes(refused.data["login"]) == ["INVALID_CREDENTIALS"]

    # when the link is followed
    result = await gql(client, CONFIRM, {"token": token_of(link)})

    # then the new address is the login's, and the old one is told, masked in the answer
    assert result.data["confirmEmailChange"] == {"errors": [], "mailedTo": "e***a@example.org"}
    assert (await gql(client, ME, token=token)).data["me"]["email"] == NEW
    notice = (await mailbox.wait_for("erika@example.org", 2))[-1]
    assert notice["Subject"] == "Die E-Mail-Adresse Ihres Benutzerkontos wurde geändert"
    assert "e***u@example.net" in notice.get_body(preferencelist=("plain",)).get_content()
    await log_in(client, email=NEW)


async def test_change_email_needs_the_current_password(client, mailbox):
    token = await register_and_login(client, mailbox)
    for current in (None, "", "Wrong#Pass1"):
        payload = await change(client, token, current=current)
        assert codes(payload) == ["REAUTHENTICATION_REQUIRED"]
        assert payload["errors"][0]["field"] == ["input", "currentPassword"]
    assert mailbox.to(NEW) == []


async def test_address_in_use_is_refused_without_saying_whose(client, mailbox):
    # given two logins
    await register_and_login(client, mailbox)
    other = await make_customer_with_proofs("100002", name="Max Mustermann")
    token = await register_and_login(client, mailbox, customer=other, email="max@example.org")

    # when one asks for the other's address
    payload = await change(client, token, email="Erika@Example.org")

    # then it is refused, naming neither the other login nor its customer
    assert codes(payload) == ["EMAIL_IN_USE"]
    message = payload["errors"][0]["message"]
    assert "erika" not in message.lower()
    assert "100001" not in message


async def test_change_to_own_or_invalid_address_is_refused(client, mailbox):
    token = await register_and_login(client, mailbox)
    assert codes(await change(client, token, email="ERIKA@example.org")) == ["NOTHING_CHANGED"]
    assert codes(await change(client, token, email="not-an-address")) == ["EMAIL_INVALID"]


async def test_email_change_link_expires_after_24_hours(client, mailbox, clock, settings):
    settings.session_idle_minutes = 60 * 48
    token = await register_and_login(client, mailbox)
    await change(client, token)
    link = link_from(await mailbox.last_text(NEW))
    clock.shift(dt.timedelta(hours=24, minutes=1))
    result = await gql(client, CONFIRM, {"token": token_of(link)})
    assert codes(result.data["confirmEmailChange"]) == ["LINK_EXPIRED"]
    assert (await gql(client, ME, token=token)).data["me"]["email"] == "erika@example.org"


async def test_address_taken_meanwhile_is_refused_at_confirmation(client, mailbox):
    # given a pending change to an address nobody uses yet
    token = await register_and_login(client, mailbox)
    await change(client, token)
    link = link_from(await mailbox.last_text(NEW))

    # when someone registers that address before the link is followed
    other = await make_customer_with_proofs("100002")
    await register(client, mailbox, other, email=NEW)

    # then the confirmation is refused and the login keeps its address
    result = await gql(client, CONFIRM, {"token": token_of(link)})
    assert codes(result.data["confirmEmailChange"]) == ["EMAIL_IN_USE"]
    assert (await gql(client, ME, token=token)).data["me"]["email"] == "erika@example.org"


async def test_undo_link_restores_the_old_address_ends_sessions_and_starts_a_reset(
    client, mailbox, settings
):
    # given an address change someone else made and confirmed
    token = await register_and_login(client, mailbox)
    await change(client, token)
    await gql(client, CONFIRM, {"token": token_of(link_from(await mailbox.last_text(NEW)))})
    notice = await mailbox.last_text("erika@example.org", 2)
    undo_link = link_from(notice)
    assert undo_link.startswith(f"{settings.portal_url}/undo-email-change?token=")
    assert "7 Tage gültig" in notice

    # when the owner follows the undo link from the old address
    result = await gql(client, UNDO, {"token": token_of(undo_link)})

    # then the old address is back, every session ended, and a reset link went to it
    payload = result.data["undoEmailChange"]
    assert payload["errors"] == []
    assert payload["mailedTo"] == "e***a@example.org"
    assert close_to(payload["expiresAt"], dt.datetime.now(dt.UTC) + dt.timedelta(days=7))
    assert (await gql(client, ME, token=token)).data["me"] is None
    reset_text = await mailbox.last_text("erika@example.org", 3)
    reset_link = link_from(reset_text)
    assert reset_link.startswith(f"{settings.portal_url}/reset-password?token=")
    reset = await gql(
        client,
        'mutation($t: String!) { resetPassword(input: { token: $t, newPassword: "Neue#Quelle5" }) '
        "{ errors { code } } }",
        {"t": token_of(reset_link)},
    )
    assert reset.data["resetPassword"]["errors"] == []
    await log_in(client, email="erika@example.org", password="Neue#Quelle5")

    # and the undo link works only once
    again = await gql(client, UNDO, {"token": token_of(undo_link)})
    assert codes(again.data["undoEmailChange"]) == ["LINK_INVALID"]


async def test_undo_link_is_valid_for_7_days(client, mailbox, clock):
    token = await register_and_login(client, mailbox)
    await change(client, token)
    await gql(client, CONFIRM, {"token": token_of(link_from(await mailbox.last_text(NEW)))})
    undo_link = link_from(await mailbox.last_text("erika@example.org", 2))
    clock.shift(dt.timedelta(days=7, minutes=1))
    result = await gql(client, UNDO, {"token": token_of(undo_link)})
    assert codes(result.data["undoEmailChange"]) == ["LINK_EXPIRED"]


async def test_notice_to_the_old_address_names_time_client_and_reset_page(
    client, mailbox, settings
):
    token = await register_and_login(client, mailbox)
    await change(client, token)
    await gql(
        client,
        CONFIRM,
        {"token": token_of(link_from(await mailbox.last_text(NEW)))},
        headers={"User-Agent": "Firefox/128.0"},
    )
    text = await mailbox.last_text("erika@example.org", 2)
    assert "Firefox/128.0 (203.0.113.7)" in text
    assert re.search(r"Zeitpunkt: \d\d\.\d\d\.\d{4}, \d\d:\d\d Uhr", text)
    assert f"{settings.portal_url}/forgot-password" in text
