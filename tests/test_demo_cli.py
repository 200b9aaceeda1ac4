"""`kundenportal seed-demo`: demo data for development, never in production."""

from __future__ import annotations

from models import Customer


async def test_seed_demo_refuses_to_run_in_production(outbox, staff):
    # when an operator runs it against a production configuration
    run = await staff("seed-demo", ENV="prod", SECRET_KEY="x" * 40)

    # then it refuses, says why, and loads nothing
    assert run.code == 2
    assert "ENV=prod" in run.stderr
    assert run.stdout == ""
    assert await Customer.all().count() == 0


async def test_seed_demo_names_no_port_the_server_may_not_use(outbox, staff):
    run = await staff("seed-demo")

    assert run.code == 0, run.stderr
    assert "Demo data loaded." in run.stdout
    assert "/graphql" in run.stdout
    assert ":8000" not in run.stdout
    assert await Customer.filter(number="100001").exists()
