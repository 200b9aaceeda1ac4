"""Mails are written with the change that causes them and delivered by the worker."""

from __future__ import annotations

import asyncio

import pytest
from tortoise.transactions import in_transaction

from mailers.outbox import mask_address, queue_mail
from models import MailStatus, OutboxMail


# An ASCII address takes the faster compat32 build, a UTF-8 one the SMTPUTF8 build.
@pytest.mark.parametrize("to", ["joerg@example.org", "jörg@example.org"])
async def test_queued_mail_arrives_as_valid_mime_with_umlauts(app, settings, mailbox, to):
    async with in_transaction():
        await queue_mail("test_notice", to=to, locale="de", settings=settings, name="Jörg Müß")
    message = (await mailbox.wait_for("example.org"))[0]
    assert message["To"] == to
    assert message["Subject"] == "Grüße vom Kundenportal"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"]
    assert message["Date"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Hallo Jörg Müß," in text
    assert "Hallo Jörg Müß," in html
    assert settings.utility_name in text


async def test_html_part_escapes_data(app, settings, mailbox):
    async with in_transaction():
        await queue_mail(
            "test_notice", to="a@example.org", locale="en", settings=settings, name="<b>x</b>"
        )
    message = (await mailbox.wait_for("a@example.org"))[0]
    assert message["Subject"] == "Greetings from the customer portal"
    assert "&lt;b&gt;x&lt;/b&gt;" in message.get_body(preferencelist=("html",)).get_content()


async def test_rolled_back_change_leaves_no_mail(app, settings):
    async def change_that_fails() -> None:
        async with in_transaction():
            await queue_mail(
                "test_notice", to="a@example.org", locale="de", settings=settings, name="A"
            )
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError, match="the change failed"):
        await change_that_fails()
    assert await OutboxMail.all().count() == 0


async def test_sent_mail_is_marked_sent(app, settings, mailbox):
    async with in_transaction():
        await queue_mail(
            "test_notice", to="b@example.org", locale="de", settings=settings, name="B"
        )
    await mailbox.wait_for("b@example.org")
    for _ in range(100):
        mail = await OutboxMail.get(recipient="b@example.org")
        if mail.status == MailStatus.SENT:
            break
        await asyncio.sleep(0.02)
    assert mail.status == MailStatus.SENT
    assert mail.sent_at is not None


def test_mask_address_shows_first_and_last_letter():
    assert mask_address("erika.mustermann@example.org") == "e***n@example.org"
    assert mask_address("ab@example.org") == "a***@example.org"
