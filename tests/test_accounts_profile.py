"""Deleting a login: by its owner (R16, R17) and by staff from the command line (R8)."""

from __future__ import annotations

from models import AuditEvent, Customer, Login, LoginCustomer, OneTimeSecret, Session
from tests.conftest import gql
from tests.factories import (
    LOGIN,
    PASSWORD,
    codes,
    make_customer_with_proofs,
    register,
    register_and_login,
)

DELETE = """
mutation Delete($current: String) {
  deleteProfile(input: { currentPassword: $current }) { errors { code field message } mailedTo }
}
"""
ME = "{ me { email } }"


async def test_delete_profile_needs_the_current_password(client, mailbox):
    token = await register_and_login(client, mailbox)
    for current in (None, "Wrong#Pass1"):
        result = await gql(client, DELETE, {"current": current}, token=token)
        assert codes(result.data["deleteProfile"]) == ["REAUTHENTICATION_REQUIRED"]
    assert (await gql(client, ME, token=token)).data["me"] is not None


async def test_deleted_profile_is_gone_and_its_number_registers_again_at_once(client, mailbox):
    # given a login with two sessions (the second on a new device, which is told) and a
    # pending reset link
    customer = await make_customer_with_proofs()
    token = await register_and_login(client, mailbox, customer=customer)
    other = await gql(client, LOGIN, {"email": "erika@example.org", "password": PASSWORD})
    await gql(
        client,
        'mutation { requestPasswordReset(input: { email: "erika@example.org" }) { mailedTo } }',
    )
    await mailbox.wait_for("erika@example.org", 3)  # the link is mailed after the answer

    # when it deletes its profile
    result = await gql(client, DELETE, {"current": PASSWORD}, token=token)

    # then a confirmation is mailed, and login, sessions, secrets and links are gone
    assert result.data["deleteProfile"] == {"errors": [], "mailedTo": "e***a@example.org"}
    mail = (await mailbox.wait_for("erika@example.org", 4))[-1]
    assert mail["Subject"] == "Ihr Benutzerkonto wurde gelöscht"
    assert (await gql(client, ME, token=token)).data["me"] is None
    assert (await gql(client, ME, token=other.data["login"]["token"])).data["me"] is None
    refused = await gql(client, LOGIN, {"email": "erika@example.org", "password": PASSWORD})
    assert codes(refused.data["login"]) == ["INVALID_CREDENTIALS"]
    for model in (Login, Session, OneTimeSecret, LoginCustomer):
        assert await model.all().count() == 0
    # the customer's master data stays
    assert await Customer.filter(number="100001").exists()

    # and the customer number can be registered again at once (R17)
    await register(client, mailbox, customer, email="erika.neu@example.org")


async def test_staff_delete_a_login_by_customer_number_with_a_reason(client, mailbox, staff):
    # given a login whose owner lost access to its e-mail and asked billing to delete it
    customer = await make_customer_with_proofs()
    token = await register_and_login(client, mailbox, customer=customer)
    login_id = (await Login.get()).id

    # when staff delete it from the command line
    run = await staff(
        "delete-login",
        "--customer",
        "100001",
        "--reason",
        "contact message #7",
        "--actor",
        "b.meier",
    )

    # then it is gone, the address is told, and the number is free again
    assert run.code == 0, run.stderr
    assert "e***a@example.org" in run.stdout
    assert (await gql(client, ME, token=token)).data["me"] is None
    mail = (await mailbox.wait_for("erika@example.org", 2))[-1]
    assert "Kundenservice" in mail.get_body(preferencelist=("plain",)).get_content()
    await register(client, mailbox, customer, email="erika.neu@example.org")

    # and the audit trail says who, what and why, with no personal data
    event = await AuditEvent.get(action="login_deleted_by_staff")
    assert event.actor == "staff:b.meier"
    assert event.login_id == login_id
    assert event.details == {"reason": "contact message #7"}


async def test_staff_delete_a_login_by_email(client, mailbox, staff):
    await register_and_login(client, mailbox)
    run = await staff(
        "delete-login", "--email", "ERIKA@example.org", "--reason", "request by phone"
    )
    assert run.code == 0
    assert await Login.all().count() == 0


async def test_staff_delete_of_an_unknown_login_says_so(client, staff):
    run = await staff("delete-login", "--email", "nobody@example.org", "--reason", "x")
    assert run.code == 1
    assert "No login found" in run.stderr


async def test_staff_delete_needs_a_reason(client, staff):
    run = await staff("delete-login", "--email", "a@example.org")
    assert run.code == 2
    assert "--reason" in run.stderr
