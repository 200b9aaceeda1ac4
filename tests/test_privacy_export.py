"""GDPR: a logged-in user downloads everything held about them, and nothing of anyone else."""

from __future__ import annotations

import asyncio
import datetime as dt

from models import Customer, Invoice, Login, LoginCustomer, Meter, MeterReading
from security.sessions import start_session
from tests.conftest import gql
from tests.factories import PASSWORD, make_login, register_and_login

EXPORT = "{ myDataExport }"


async def _login_with_customer(settings, email: str, number: str) -> tuple[Login, str]:
    login = await make_login(email=email)
    customer = await Customer.create(number=number, name=f"Kunde {number}", city="Musterstadt")
    await LoginCustomer.create(login=login, customer=customer)
    await Invoice.create(
        customer=customer,
        number=f"R-{number}",
        date=dt.date(2025, 1, 5),
        kind="annual",
        amount_cents=12345,
    )
    meter = await Meter.create(
        customer=customer,
        number=f"Z-{number}",
        is_main=True,
        kind="manual",
        installed_on=dt.date(2020, 1, 1),
    )
    await MeterReading.create(
        meter=meter,
        value="123.456",
        read_on=dt.date(2025, 1, 1),
        source="customer",
        submitted_by_id=login.id,
    )
    _, token = await start_session(login, settings, client="test", address="203.0.113.7")
    return login, token


async def test_export_holds_the_users_data_and_no_secret(client, settings):
    # given
    _, token = await _login_with_customer(settings, "Erika@Example.org", "100001")
    await _login_with_customer(settings, "other@example.org", "200002")
    # when
    result = await gql(client, EXPORT, token=token)
    # then
    assert result.errors is None
    data = result.data["myDataExport"]
    assert data["login"]["email"] == "Erika@Example.org"
    assert [c["number"] for c in data["customers"]] == ["100001"]
    customer = data["customers"][0]
    assert customer["invoices"][0]["number"] == "R-100001"
    assert customer["meters"][0]["readings"][0]["value"] == "123.456"
    assert customer["meters"][0]["readings"][0]["submittedByYou"] is True
    text = str(data)
    assert "200002" not in text
    assert "$2b$" not in text  # no password hash
    assert token not in text
    assert len(data["sessions"]) == 1


async def test_export_needs_a_login(client):
    result = await gql(client, EXPORT)
    assert result.data is None
    assert result.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_deletion_leaves_no_personal_data_of_the_login_behind(client, mailbox):
    from models import AuditEvent, Login, MailStatus, OutboxMail, Session

    # given a login that registered, logged in and got mails
    token = await register_and_login(client, mailbox)
    for _ in range(200):  # every mail so far delivered
        if not await OutboxMail.filter(status=MailStatus.QUEUED).exists():
            break
        await asyncio.sleep(0.05)
    # when it deletes its profile
    deleted = await gql(
        client,
        "mutation($p: String) {"
        " deleteProfile(input: { currentPassword: $p }) { errors { code } } }",
        {"p": PASSWORD},
        token=token,
    )
    assert deleted.data["deleteProfile"]["errors"] == []
    # then nothing links the person to the portal any more, but the queued deletion notice
    assert await Login.all().count() == 0
    assert await Session.all().count() == 0
    assert all(e.client_address == "" for e in await AuditEvent.all())
    assert {e.action for e in await AuditEvent.all()} >= {"profile_deleted"}
    still_addressed = await OutboxMail.filter(recipient="erika@example.org")
    assert [m.kind for m in still_addressed] == ["profile_deleted"]
    assert still_addressed[0].status == MailStatus.QUEUED or still_addressed[0].sent_at
    for mail in await OutboxMail.exclude(kind="profile_deleted"):
        assert mail.recipient == "e***a@example.org"
        assert mail.body_text == ""
