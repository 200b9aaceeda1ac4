"""Relay's `node(id:)` and `nodes(ids:)`: every object with an ID is found again by it,
through the logged-in login only; a malformed ID or another login's gives null alike."""

from __future__ import annotations

import datetime as dt

import pytest

from models import BaseDataChange, BudgetChangeRequest, MeterReading, Passkey, Session
from schema.ids import encode_id
from tests.conftest import gql
from tests.factories import NOW, TODAY, logged_in, make_household, reported_move_out

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Customer { number }
    ... on Meter { number }
    ... on Invoice { number }
    ... on Reading { value }
    ... on BaseDataChange { customerNumber }
    ... on BudgetChangeRequest { amountCents }
    ... on Session { current }
    ... on MoveOut { moveOutOn }
    ... on Passkey { name }
    ... on Account { email }
  }
}
"""
NODES = "query Nodes($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


async def _everything_of(household, login):
    """One object of each type with an ID: (type name, primary key, a field to expect)."""
    customer = household.customer
    reading = await MeterReading.filter(meter_id=household.main.id).first()
    assert reading is not None
    change = await BaseDataChange.create(
        customer=customer,
        login=login,
        changes={"phone": {"old": customer.phone, "new": "+49 30 7654321"}},
        created_at=NOW,
        expires_at=NOW + dt.timedelta(hours=1),
    )
    request = await BudgetChangeRequest.create(
        customer=customer,
        amount_cents=4500,
        previous_cents=4000,
        effective_on=TODAY + dt.timedelta(days=30),
        created_at=NOW,
    )
    session = await Session.filter(login_id=login.id).first()
    assert session is not None
    move_out = await reported_move_out(customer, TODAY + dt.timedelta(days=20), at=NOW)
    passkey = await Passkey.create(
        login=login,
        name=f"Telefon {customer.number}",
        credential_id=f"credential-{customer.number}",
        public_key="pQECAyYgASFYIA",
        user_handle=f"handle-{login.id}",
        created_at=NOW,
    )
    return [
        ("Customer", customer.id, {"number": customer.number}),
        ("Meter", household.main.id, {"number": household.main.number}),
        ("Invoice", household.latest_invoice.id, {"number": household.latest_invoice.number}),
        ("Reading", reading.id, {"value": f"{reading.value:.3f}"}),
        ("BaseDataChange", change.id, {"customerNumber": customer.number}),
        ("BudgetChangeRequest", request.id, {"amountCents": 4500}),
        ("Session", session.id, {"current": True}),
        ("MoveOut", move_out.id, {"moveOutOn": move_out.move_out_on.isoformat()}),
        ("Passkey", passkey.id, {"name": f"Telefon {customer.number}"}),
        ("Account", login.id, {"email": login.email}),
    ]


async def test_every_object_with_an_id_is_refetched_by_it(clock, client, settings):
    # given
    household = await make_household(TODAY, "100001")
    login, token = await logged_in(settings, household.customer)
    objects = await _everything_of(household, login)

    for type_name, pk, expected in objects:
        # when
        result = await gql(client, NODE, {"id": encode_id(type_name, pk)}, token=token)

        # then
        assert result.errors is None, result.errors
        assert result.data["node"] == {
            "__typename": type_name,
            "id": encode_id(type_name, pk),
            **expected,
        }


async def test_nodes_answers_in_order_with_null_for_what_is_not_found(clock, client, settings):
    # given
    household = await make_household(TODAY, "100001")
    _, token = await logged_in(settings, household.customer)
    meter = encode_id("Meter", household.main.id)
    invoice = encode_id("Invoice", household.latest_invoice.id)

    # when
    result = await gql(
        client,
        NODES,
        {"ids": [invoice, "not-an-id", meter, encode_id("Meter", 10**9)]},
        token=token,
    )

    # then
    assert result.errors is None
    assert result.data["nodes"] == [
        {"__typename": "Invoice", "id": invoice},
        None,
        {"__typename": "Meter", "id": meter},
        None,
    ]


async def test_another_logins_objects_are_null_as_unknown_ids_are(clock, client, settings):
    # given someone else's household and a login with a household of its own
    theirs = await make_household(TODAY, "100002")
    their_login, _ = await logged_in(settings, theirs.customer)
    objects = await _everything_of(theirs, their_login)
    mine = await make_household(TODAY, "100001")
    _, token = await logged_in(settings, mine.customer)
    ids = [encode_id(type_name, pk) for type_name, pk, _ in objects]

    # when
    one_by_one = [await gql(client, NODE, {"id": id}, token=token) for id in ids]
    all_at_once = await gql(client, NODES, {"ids": ids}, token=token)

    # then nothing of theirs shows, and nothing tells their IDs from unknown ones
    assert [r.data for r in one_by_one] == [{"node": None}] * len(ids)
    assert all(r.errors is None for r in one_by_one)
    assert all_at_once.data == {"nodes": [None] * len(ids)}
    assert "100002" not in all_at_once.response.text


@pytest.mark.parametrize(
    "id",
    ["", "%%%", "bm90IGFuIGlk", encode_id("Login", 1), encode_id("Meter", 0)[:-1] + "!"],
)
async def test_a_malformed_id_is_null_not_an_error(clock, client, settings, id):
    household = await make_household(TODAY, "100001")
    _, token = await logged_in(settings, household.customer)

    result = await gql(client, NODE, {"id": id}, token=token)

    assert result.errors is None
    assert result.data == {"node": None}


async def test_nodes_takes_at_most_a_page_of_ids(clock, client, settings):
    household = await make_household(TODAY, "100001")
    _, token = await logged_in(settings, household.customer)
    meter = encode_id("Meter", household.main.id)

    at_most = await gql(client, NODES, {"ids": [meter] * 100}, token=token)
    too_many = await gql(
        client, NODES, {"ids": [meter] * 101}, token=token, headers={"Accept-Language": "en"}
    )

    assert len(at_most.data["nodes"]) == 100
    assert too_many.data is None
    assert too_many.errors[0]["extensions"]["code"] == "TOO_MANY_IDS"
    assert too_many.errors[0]["message"] == "Too many IDs: at most 100 at once."


async def test_node_needs_a_login(clock, client, settings):
    household = await make_household(TODAY, "100001")

    result = await gql(client, NODE, {"id": encode_id("Customer", household.customer.id)})

    assert result.data == {"node": None}
    assert result.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
