"""The dashboard query costs the same number of SQL statements for 1 customer
number as for 20: every relation is loaded per request in one batch.

Statements are counted where they reach the database driver: the Tortoise
client's execute methods are wrapped, and only statements of the request
under test count (the mail worker polls the same database meanwhile).
"""

from __future__ import annotations

from contextvars import ContextVar

import pytest
from tortoise.connection import connections

from tests.conftest import gql
from tests.factories import TODAY, logged_in, make_household

DASHBOARD = """
query Dashboard {
  customers {
    number isActive
    baseData { name city }
    onlineConsent { given }
    invoices(first: 3) { edges { node { number date amountCents } } totalCount }
    meters {
      number kind isMain
      readingWindow { state endsOn keyDate }
      lastReading { value readOn }
      readings(first: 2) { edges { node { value } } totalCount }
      yearlyConsumption { year consumption }
    }
  }
}
"""

_statements: ContextVar[list[str] | None] = ContextVar("statements", default=None)
EXECUTE_METHODS = (
    "execute_query",
    "execute_query_dict",
    "execute_insert",
    "execute_many",
    "execute_script",
)


@pytest.fixture
def count_sql(app, monkeypatch):
    """Wrap the database client's execute methods; `count_sql(awaitable)` runs it
    and returns its result with the SQL statements it sent."""
    client_class = type(connections.get("default"))
    for name in EXECUTE_METHODS:
        original = getattr(client_class, name)

        def wrapper(self, query, *args, _original=original, **kwargs):
            log = _statements.get()
            if log is not None:
                log.append(query)
            return _original(self, query, *args, **kwargs)

        monkeypatch.setattr(client_class, name, wrapper)

    async def run(awaitable):
        log: list[str] = []
        token = _statements.set(log)
        try:
            return await awaitable, log
        finally:
            _statements.reset(token)

    return run


async def _login_with_households(settings, count: int, prefix: str):
    households = [await make_household(TODAY, f"{prefix}{n:04}") for n in range(count)]
    _, token = await logged_in(settings, *(h.customer for h in households))
    return households, token


async def test_dashboard_costs_the_same_statements_for_1_and_20_customers(
    clock, client, settings, count_sql
):
    # given one login with one customer number and another with twenty
    _, one_token = await _login_with_households(settings, 1, "1")
    twenty, twenty_token = await _login_with_households(settings, 20, "2")

    # when each loads the dashboard
    one, one_sql = await count_sql(gql(client, DASHBOARD, token=one_token))
    many, many_sql = await count_sql(gql(client, DASHBOARD, token=twenty_token))

    # then both get everything, for the same number of statements
    assert one.errors is None
    assert many.errors is None
    assert len(one.data["customers"]) == 1
    assert len(many.data["customers"]) == 20
    print(f"SQL statements: {len(one_sql)} for 1 customer, {len(many_sql)} for 20")
    assert len(one_sql) == len(many_sql), "\n".join(many_sql)
    assert len(many_sql) <= 8, "\n".join(many_sql)

    # and each customer shows its own meters and invoices only
    for household, shown in zip(twenty, many.data["customers"], strict=True):
        assert shown["number"] == household.customer.number
        assert {m["number"] for m in shown["meters"]} == {
            household.main.number,
            household.radio.number,
        }
        assert shown["invoices"]["edges"][0]["node"]["number"] == household.latest_invoice.number
        assert shown["invoices"]["totalCount"] == 2
        main = next(m for m in shown["meters"] if m["isMain"])
        assert main["readingWindow"]["state"] == "OPEN"
        assert main["lastReading"]["value"] == "1001.250"
        assert main["readings"]["totalCount"] == 3
    assert sum(c["isActive"] for c in many.data["customers"]) == 1


async def test_loaders_are_per_request_and_see_fresh_data(clock, client, settings, count_sql):
    # given a dashboard loaded once
    (household,), token = await _login_with_households(settings, 1, "3")
    first, _ = await count_sql(gql(client, DASHBOARD, token=token))
    household.customer.city = "Neustadt"
    await household.customer.save(update_fields=["city"])

    # when it is loaded again
    second, sql = await count_sql(gql(client, DASHBOARD, token=token))

    # then it is read anew, not from a cache of the earlier request
    assert first.data["customers"][0]["baseData"]["city"] == "Musterstadt"
    assert second.data["customers"][0]["baseData"]["city"] == "Neustadt"
    assert sql
