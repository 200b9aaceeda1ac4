"""The dashboard read (`resolvers.dashboard`): the benchmark's dashboard document costs a
constant number of SQL statements whatever the number of customer numbers, at most two
on PostgreSQL (the session, then the whole tree), and the one-statement read answers
exactly what the generic loaders answer."""

from __future__ import annotations

import datetime as dt

import pytest
from tortoise.connection import connections

from benchmarks.documents import DASHBOARD
from models import MeterReading, ReadingSource
from resolvers import dashboard
from tests.conftest import gql
from tests.factories import TODAY, make_meter, make_period, make_reading
from tests.test_customers_dataloaders import (
    _login_with_households,
    count_sql,  # noqa: F401  (fixture)
)

EVERYTHING = """
query Everything {
  me { email customerNumbers }
  customers {
    id number isActive
    baseData { name street postalCode city phone email }
    onlineConsent { given changedAt wordingVersion }
    invoices(first: 3) {
      totalCount
      edges { cursor node { id number date kind amountCents } }
      pageInfo { hasNextPage endCursor hasPreviousPage startCursor }
    }
    small: invoices(first: 1) { totalCount edges { node { number } } pageInfo { hasNextPage } }
    meters {
      id number isMain kind unit installedOn removedOn
      readingWindow { state startsOn endsOn keyDate acceptsReadings }
      lastReading { id value readOn source recordedAt corrected }
    }
  }
}
"""


def _on_postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


async def test_the_dashboard_costs_the_same_statements_for_1_and_20_customer_numbers(
    clock,
    client,
    settings,
    count_sql,  # noqa: F811
):
    # given one login with one customer number and another with twenty
    _, one_token = await _login_with_households(settings, 1, "1")
    _, twenty_token = await _login_with_households(settings, 20, "2")

    # when each loads the benchmark's dashboard
    one, one_sql = await count_sql(gql(client, DASHBOARD, token=one_token))
    many, many_sql = await count_sql(gql(client, DASHBOARD, token=twenty_token))

    # then the same number of statements, two on PostgreSQL: the session, then the data
    assert one.errors is None
    assert many.errors is None
    assert len(many.data["customers"]) == 20
    assert len(one_sql) == len(many_sql), "\n".join(many_sql)
    if _on_postgres():
        assert len(many_sql) <= 2, "\n".join(many_sql)
    assert one.data["me"]["customerNumbers"] == ["10000"]


async def test_the_one_statement_read_answers_what_the_loaders_answer(
    clock, client, settings, monkeypatch
):
    # given customers with invoices, meters (one in a group with its own period, one
    # removed), readings (one corrected) and periods
    households, token = await _login_with_households(settings, 3, "3")
    first = households[0]
    grouped = await make_meter(first.customer, "G-1", installed_on=dt.date(2016, 1, 1))
    grouped.group = "Gruppe-Nord"
    await grouped.save(update_fields=["group"])
    await make_period(
        TODAY - dt.timedelta(days=3), TODAY + dt.timedelta(days=9), group="Gruppe-Nord"
    )
    await make_reading(grouped, "12.125", TODAY - dt.timedelta(days=400))
    wrong = await make_reading(first.main, "1500.000", TODAY - dt.timedelta(days=2))
    right = await make_reading(
        first.main, "1010.500", TODAY - dt.timedelta(days=2), source=ReadingSource.CUSTOMER
    )
    await MeterReading.filter(id=wrong.id).update(replaced_by_id=right.id)
    removed = await make_meter(households[1].customer, "R-OLD", installed_on=dt.date(2010, 1, 1))
    removed.removed_on = dt.date(2020, 1, 1)
    await removed.save(update_fields=["removed_on"])

    # when the dashboard is read with the tree (on PostgreSQL) and with the loaders alone
    fast = await gql(client, EVERYTHING, token=token)
    monkeypatch.setattr(dashboard, "want_tree", lambda ctx, first: None)
    generic = await gql(client, EVERYTHING, token=token)

    # then the answers are equal, field by field
    assert fast.errors is None
    assert generic.errors is None
    for mine, reference in zip(fast.data["customers"], generic.data["customers"], strict=True):
        for name, value in reference.items():
            assert mine[name] == value, name
    assert fast.data == generic.data
    shown = fast.data["customers"][0]
    meter = next(m for m in shown["meters"] if m["number"] == "G-1")
    assert meter["readingWindow"]["state"] == "OPEN"
    main = next(m for m in shown["meters"] if m["isMain"])
    assert main["lastReading"]["value"] == "1010.500"
    assert shown["invoices"]["totalCount"] == 2


@pytest.mark.parametrize("first", [0, 2, 100])
async def test_any_page_size_of_the_dashboards_invoices_matches_the_loaders(
    clock, client, settings, monkeypatch, first
):
    _, token = await _login_with_households(settings, 2, "4")
    document = DASHBOARD.replace("invoices(first: 3)", f"invoices(first: {first})")
    fast = await gql(client, document, token=token)
    monkeypatch.setattr(dashboard, "want_tree", lambda ctx, first: None)
    generic = await gql(client, document, token=token)
    assert fast.errors is None
    assert fast.data == generic.data
