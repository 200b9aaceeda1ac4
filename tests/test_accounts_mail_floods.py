"""Caps on mails per recipient address and per client address per day,
on top of the resend cooldowns, answered with the same typed error and resendAvailableAt."""

from __future__ import annotations

import datetime as dt

import httpx

from models import OutboxMail
from tests.conftest import gql
from tests.factories import (
    REGISTER,
    close_to,
    codes,
    make_customer_with_proofs,
    register,
    register_and_login,
    register_input,
)

REQUEST_RESET = """
mutation RequestReset($email: String!) {
  requestPasswordReset(input: { email: $email }) {
    errors { code message } mailedTo expiresAt resendAvailableAt
  }
}
"""
RESEND_PIN = """
mutation ResendPin($email: String!) {
  resendPin(input: { email: $email }) { errors { code } mailedTo resendAvailableAt }
}
"""
CHANGE_EMAIL = """
mutation ChangeEmail($email: String!) {
  changeEmail(input: { currentPassword: "Tiefbrunnen#42", newEmail: $email }) {
    errors { code } mailedTo resendAvailableAt
  }
}
"""


async def test_reset_mails_to_one_address_are_capped_per_day(client, mailbox, settings, clock):
    # given a cap of 3 mails of a kind per address and day
    settings.mails_per_address_per_day = 3
    settings.session_idle_minutes = 60 * 48
    await register_and_login(client, mailbox)
    first_at = dt.datetime.now(dt.UTC)
    for n in range(3):
        result = await gql(client, REQUEST_RESET, {"email": "erika@example.org"})
        assert result.data["requestPasswordReset"]["errors"] == []
        clock.shift(dt.timedelta(minutes=5))
    await mailbox.wait_for("erika@example.org", 4)

    # when a fourth is asked for after the cooldown
    result = await gql(client, REQUEST_RESET, {"email": "erika@example.org"})

    # then it is refused like a cooldown, saying when the next is possible
    payload = result.data["requestPasswordReset"]
    assert codes(payload) == ["RESEND_NOT_YET_AVAILABLE"]
    assert close_to(payload["resendAvailableAt"], first_at + dt.timedelta(days=1))
    assert await OutboxMail.filter(kind="password_reset").count() == 3

    # and a day after the first it works again
    clock.shift(dt.timedelta(days=1) - dt.timedelta(minutes=15) + dt.timedelta(seconds=5))
    result = await gql(client, REQUEST_RESET, {"email": "erika@example.org"})
    assert result.data["requestPasswordReset"]["errors"] == []


async def test_unknown_address_is_capped_the_same_way(client, mailbox, settings, clock):
    settings.mails_per_address_per_day = 2
    answers = []
    for _ in range(3):
        result = await gql(client, REQUEST_RESET, {"email": "fremd@example.org"})
        answers.append(codes(result.data["requestPasswordReset"]))
        clock.shift(dt.timedelta(minutes=5))
    assert answers == [[], [], ["RESEND_NOT_YET_AVAILABLE"]]


async def test_one_client_cannot_mail_many_strangers(app, client, mailbox, settings):
    # given a cap of 2 mails of a kind per client address and day
    settings.mails_per_client_per_day = 2
    for n in range(2):
        result = await gql(client, REQUEST_RESET, {"email": f"opfer{n}@example.org"})
        assert result.data["requestPasswordReset"]["errors"] == []

    # when the same client asks for a third address, then it is refused
    result = await gql(client, REQUEST_RESET, {"email": "opfer9@example.org"})
    assert codes(result.data["requestPasswordReset"]) == ["RESEND_NOT_YET_AVAILABLE"]
    assert result.data["requestPasswordReset"]["resendAvailableAt"]

    # while another client still can
    transport = httpx.ASGITransport(app=app, client=("198.51.100.4", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as other:
        result = await gql(other, REQUEST_RESET, {"email": "opfer9@example.org"})
    assert result.data["requestPasswordReset"]["errors"] == []


async def test_pin_mails_are_capped_per_address(client, mailbox, settings, clock):
    settings.mails_per_address_per_day = 2
    customer = await make_customer_with_proofs()
    registered_at = dt.datetime.now(dt.UTC)
    await register(client, mailbox, customer, confirm=False)
    clock.shift(dt.timedelta(minutes=5))
    assert (await gql(client, RESEND_PIN, {"email": "erika@example.org"})).data["resendPin"][
        "errors"
    ] == []
    clock.shift(dt.timedelta(minutes=5))
    result = await gql(client, RESEND_PIN, {"email": "erika@example.org"})
    payload = result.data["resendPin"]
    assert codes(payload) == ["RESEND_NOT_YET_AVAILABLE"]
    assert close_to(payload["resendAvailableAt"], registered_at + dt.timedelta(days=1))


async def test_registration_pin_counts_towards_the_cap(client, mailbox, settings):
    settings.mails_per_client_per_day = 1
    first, second = (
        await make_customer_with_proofs("100001"),
        await make_customer_with_proofs("100002"),
    )
    await register(client, mailbox, first, confirm=False)
    result = await gql(client, REGISTER, register_input(second, email="max@example.org"))
    assert codes(result.data["register"]) == ["RESEND_NOT_YET_AVAILABLE"]
    assert result.data["register"]["resendAvailableAt"]


async def test_email_change_links_are_cooled_down_and_capped(client, mailbox, settings, clock):
    settings.mails_per_address_per_day = 2
    token = await register_and_login(client, mailbox)
    first = await gql(client, CHANGE_EMAIL, {"email": "neu@example.org"}, token=token)
    assert first.data["changeEmail"]["errors"] == []
    early = await gql(client, CHANGE_EMAIL, {"email": "neu@example.org"}, token=token)
    assert codes(early.data["changeEmail"]) == ["RESEND_NOT_YET_AVAILABLE"]
    # the cooldown is per login: another new address does not get round it
    other = await gql(client, CHANGE_EMAIL, {"email": "anders@example.org"}, token=token)
    assert codes(other.data["changeEmail"]) == ["RESEND_NOT_YET_AVAILABLE"]
    clock.shift(dt.timedelta(minutes=5))
    second = await gql(client, CHANGE_EMAIL, {"email": "neu@example.org"}, token=token)
    assert second.data["changeEmail"]["errors"] == []
    clock.shift(dt.timedelta(minutes=5))
    third = await gql(client, CHANGE_EMAIL, {"email": "neu@example.org"}, token=token)
    assert codes(third.data["changeEmail"]) == ["RESEND_NOT_YET_AVAILABLE"]
