"""Moving in is a new supply contract: the portal passes the request to customer service
like the contact form does, in a category of its own."""

from __future__ import annotations

from models import ContactMessage, ContactStatus
from tests.conftest import gql

REQUEST = """
mutation MoveIn($input: RequestMoveInInput!) {
  requestMoveIn(input: $input) {
    reference mailedTo
    errors { code field message earliest latest }
  }
}
"""


def move_in(**overrides) -> dict:
    data = {
        "name": "Nina Neukundin",
        "street": "Am Wasserturm 3",
        "postalCode": "12345",
        "city": "Musterstadt",
        "moveInOn": "2025-04-01",
        "email": "nina@example.org",
        "message": "Bitte ab dem Einzug liefern.",
        **overrides,
    }
    return {"input": data}


async def test_move_in_request_reaches_customer_service_in_its_own_category(
    clock, client, settings, mailbox
):
    result = await gql(client, REQUEST, move_in())

    payload = result.data["requestMoveIn"]
    assert payload["errors"] == []
    assert payload["mailedTo"] == "k***e@wasser.example"
    stored = await ContactMessage.get(id=payload["reference"])
    assert stored.department == "move_in"
    assert stored.status == ContactStatus.OPEN
    assert "Am Wasserturm 3, 12345 Musterstadt" in stored.text
    mail = (await mailbox.wait_for(settings.move_in_department_address))[0]
    assert str(mail["Subject"]).startswith(f"Einzugsanfrage #{payload['reference']}: Nina")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "01.04.2025" in text
    assert "nina@example.org" in text


async def test_move_in_request_with_bad_fields_stores_nothing(clock, client, settings):
    result = await gql(
        client,
        REQUEST,
        move_in(name=" ", postalCode="1234", email="nina", moveInOn="2026-03-01"),
        headers={"Accept-Language": "en"},
    )

    errors = {tuple(e["field"]): e for e in result.data["requestMoveIn"]["errors"]}
    assert {k: e["code"] for k, e in errors.items()} == {
        ("input", "name"): "REQUIRED",
        ("input", "postalCode"): "POSTAL_CODE_INVALID",
        ("input", "email"): "EMAIL_INVALID",
        ("input", "moveInOn"): "DATE_OUT_OF_RANGE",
    }
    assert errors[("input", "moveInOn")]["latest"] == "2025-09-09"
    assert await ContactMessage.all().count() == 0
