"""The public contact form: stored, mailed to the department, handled by staff (R8)."""

from __future__ import annotations

from models import AuditEvent, ContactMessage, ContactStatus
from tests.conftest import gql

SEND = """
mutation Send($input: SendContactMessageInput!) {
  sendContactMessage(input: $input) { errors { code field message } mailedTo reference }
}
"""


def message(**overrides) -> dict:
    data = {
        "department": "BILLING",
        "name": "Erika Mustermann",
        "customerNumber": "100001",
        "email": "erika@example.org",
        "subject": "Bitte Konto löschen",
        "text": "Ich habe keinen Zugriff mehr auf meine alte E-Mail-Adresse.\nDanke!",
    }
    return {"input": {**data, **overrides}}


async def test_deletion_request_goes_to_the_billing_department(client, mailbox, settings):
    # when someone without access to their mail asks for deletion (R8)
    result = await gql(client, SEND, message())

    # then the message is stored and mailed to billing, whose masked address is returned
    payload = result.data["sendContactMessage"]
    assert payload["errors"] == []
    assert payload["mailedTo"] == "v***g@wasser.example"
    stored = await ContactMessage.get(id=payload["reference"])
    assert stored.department == "billing"
    assert stored.status == ContactStatus.OPEN
    mail = (await mailbox.wait_for(settings.billing_department_address))[0]
    assert mail["Subject"] == f"Kontaktformular #{payload['reference']}: Bitte Konto löschen"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Erika Mustermann" in text
    assert "100001" in text
    assert "erika@example.org" in text
    assert "keinen Zugriff mehr" in text


async def test_other_requests_go_to_customer_service(client, mailbox, settings):
    result = await gql(client, SEND, message(department="GENERAL", customerNumber=None))
    assert result.data["sendContactMessage"]["errors"] == []
    text = (await mailbox.wait_for(settings.general_department_address))[0].get_body(
        preferencelist=("plain",)
    )
    assert "(keine Angabe)" in text.get_content()


async def test_html_of_the_contact_mail_escapes_what_the_sender_wrote(client, mailbox, settings):
    await gql(client, SEND, message(text="<script>alert(1)</script>"))
    mail = (await mailbox.wait_for(settings.billing_department_address))[0]
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


async def test_contact_form_says_what_is_missing_and_stores_nothing(client, mailbox, settings):
    result = await gql(
        client,
        SEND,
        message(name=" ", email="nope", text="x" * (settings.contact_text_max_chars + 1)),
    )
    errors = result.data["sendContactMessage"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("REQUIRED", ["input", "name"]),
        ("TOO_LONG", ["input", "text"]),
        ("EMAIL_INVALID", ["input", "email"]),
    ]
    assert errors[1]["message"] == "Bitte verwenden Sie höchstens 5000 Zeichen."
    assert await ContactMessage.all().count() == 0


async def test_contact_form_is_rate_limited_per_client_address(client, mailbox, settings):
    settings.contact_messages_per_address = 2
    for _ in range(2):
        assert (await gql(client, SEND, message())).data["sendContactMessage"]["errors"] == []
    result = await gql(client, SEND, message())
    assert result.errors[0]["extensions"]["code"] == "RATE_LIMITED"
    assert await ContactMessage.all().count() == 2


async def test_staff_list_and_close_messages(client, mailbox, staff):
    # given two messages
    first = (await gql(client, SEND, message(subject="Konto löschen"))).data
    await gql(client, SEND, message(subject="Abschlag ändern", department="GENERAL"))
    reference = first["sendContactMessage"]["reference"]

    # when staff list them, then both show, oldest first
    listed = await staff("contact", "list")
    assert listed.code == 0
    assert listed.stdout.index("Konto löschen") < listed.stdout.index("Abschlag ändern")
    assert f"#{reference}" in listed.stdout

    # when staff close the first, then only the second is listed as open
    closing = await staff("contact", "close", str(reference), "--actor", "b.meier")
    assert closing.code == 0
    assert f"#{reference} closed" in closing.stdout
    still_open = (await staff("contact", "list")).stdout
    assert "Konto löschen" not in still_open
    assert "Abschlag ändern" in still_open
    assert "Konto löschen" in (await staff("contact", "list", "--all")).stdout
    closed = await ContactMessage.get(id=reference)
    assert closed.status == ContactStatus.CLOSED
    assert closed.closed_by == "b.meier"
    assert await AuditEvent.filter(action="contact_message_closed", actor="staff:b.meier").exists()

    # and closing it again says there is no such open message
    again = await staff("contact", "close", str(reference))
    assert again.code == 1
    assert "No open message" in again.stderr
