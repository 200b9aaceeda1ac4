"""The service starts, migrates from empty, and refuses unsafe production settings."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from cryptography.fernet import Fernet
from tortoise.connection import connections
from tortoise.exceptions import IntegrityError

from models import Customer, Login, LoginCustomer, Meter, MeterReading, ReadingPeriod
from settings import ConfigurationError, Settings
from tests.conftest import gql


async def test_healthz_and_readyz_answer(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


async def test_graphql_answers_a_query(client):
    result = await gql(client, "{ apiVersion }")
    assert result.errors is None
    assert result.data == {"apiVersion": "1"}


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"secret_key": "dev-only-secret-key-change-me"}, "SECRET_KEY"),
        ({"database_url": "sqlite://var/x.sqlite3"}, "DATABASE_URL"),
        ({"mail_backend": "file"}, "MAIL_BACKEND"),
        ({"graphiql": True}, "GRAPHIQL"),
        ({"bank_data_keys": []}, "BANK_DATA_KEYS"),
        ({"webauthn_rp_id": "localhost"}, "WEBAUTHN_RP_ID"),
        ({"webauthn_origins": ["http://portal.wasser.example"]}, "WEBAUTHN_ORIGINS"),
    ],
)
def test_prod_refuses_development_defaults(override, named):
    safe = {
        "env": "prod",
        "secret_key": "x" * 40,
        "database_url": "postgres://u@db/kp",
        "mail_backend": "smtp",
        "bank_data_keys": [Fernet.generate_key().decode()],
        "webauthn_rp_id": "wasser.example",
        "webauthn_origins": ["https://portal.wasser.example"],
    }
    Settings(**safe).check_for_production()  # a safe configuration starts
    with pytest.raises(ConfigurationError, match=named):
        Settings(**{**safe, **override}).check_for_production()


def test_prod_refusal_from_the_command_line(tmp_path):
    env = {**os.environ, "ENV": "prod", "DATABASE_URL": f"sqlite://{tmp_path}/x.sqlite3"}
    done = subprocess.run(
        [sys.executable, "-m", "cli", "serve"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "SECRET_KEY" in done.stderr
    assert "DATABASE_URL" in done.stderr


def raw(sql: str):
    """Bypass the ORM's own enum checks so that the database's are what refuses."""
    return connections.get("default").execute_query(sql)


async def _customer(number: str = "1") -> Customer:
    return await Customer.create(number=number, name="Erika Mustermann")


async def test_customer_number_is_unique(app):
    await _customer("100")
    with pytest.raises(IntegrityError):
        await _customer("100")


async def test_login_email_is_unique_without_regard_to_case(app):
    await Login.create(email="Erika@Example.org", email_key="erika@example.org", password_hash="x")
    with pytest.raises(IntegrityError):
        await Login.create(
            email="erika@example.ORG", email_key="erika@example.org", password_hash="x"
        )


async def test_login_email_key_must_be_the_lowered_email(app):
    with pytest.raises(IntegrityError):
        await Login.create(email="Erika@Example.org", email_key="other@x.org", password_hash="x")


async def test_customer_belongs_to_at_most_one_login(app):
    customer = await _customer()
    first = await Login.create(email="a@x.org", email_key="a@x.org", password_hash="x")
    second = await Login.create(email="b@x.org", email_key="b@x.org", password_hash="x")
    await LoginCustomer.create(login=first, customer=customer)
    with pytest.raises(IntegrityError):
        await LoginCustomer.create(login=second, customer=customer)


async def test_one_main_meter_per_customer(app):
    customer = await _customer()
    day = dt.date(2020, 1, 1)
    await Meter.create(
        customer=customer, number="M1", is_main=True, kind="manual", installed_on=day
    )
    await Meter.create(
        customer=customer, number="M2", is_main=False, kind="radio", installed_on=day
    )
    with pytest.raises(IntegrityError):
        await Meter.create(
            customer=customer, number="M3", is_main=True, kind="manual", installed_on=day
        )


@pytest.mark.parametrize(
    "build",
    [
        lambda c, m: raw(
            "INSERT INTO invoice (customer_id, number, date, kind, amount_cents)"
            f" VALUES ({c.id}, 'R1', '2024-01-01', 'bogus', 1)"
        ),
        lambda c, m: Meter.create(
            customer=c,
            number="M9",
            kind="manual",
            installed_on=dt.date(2024, 1, 2),
            removed_on=dt.date(2024, 1, 1),
        ),
        lambda c, m: ReadingPeriod.create(
            meter=m,
            starts_on=dt.date(2024, 2, 1),
            ends_on=dt.date(2024, 1, 1),
            key_date=dt.date(2024, 1, 1),
        ),
        lambda c, m: ReadingPeriod.create(
            starts_on=dt.date(2024, 1, 1), ends_on=dt.date(2024, 2, 1), key_date=dt.date(2024, 2, 1)
        ),
        lambda c, m: MeterReading.create(
            meter=m, value="-1", read_on=dt.date(2024, 1, 1), source="customer"
        ),
        lambda c, m: raw(
            "INSERT INTO meter_reading (meter_id, value, read_on, source, created_at)"
            f" VALUES ({m.id}, 1, '2024-01-01', 'guess', CURRENT_TIMESTAMP)"
        ),
        lambda c, m: Login.create(
            email="a@x.org", email_key="a@x.org", password_hash="x", state="active"
        ),
    ],
    ids=[
        "invoice-kind",
        "meter-removed-before-installed",
        "period-ends-before-start",
        "period-without-meter",
        "negative-reading",
        "reading-source",
        "active-login-unconfirmed",
    ],
)
async def test_database_checks_refuse_bad_rows(app, build):
    customer = await _customer()
    meter = await Meter.create(
        customer=customer,
        number="M1",
        is_main=True,
        kind="manual",
        installed_on=dt.date(2020, 1, 1),
    )
    with pytest.raises(IntegrityError):
        await build(customer, meter)


def test_real_uvicorn_process_serves_graphql(real_server):
    """In-process ASGI tests miss start-up and context bugs: start the real server (which
    migrates first, as `serve` does by default)."""
    with real_server(migrate=True) as server:
        answer = httpx.post(f"{server.url}/graphql", json={"query": "{ apiVersion }"})
        assert answer.json() == {"data": {"apiVersion": "1"}}


def test_serve_prints_the_address_it_serves_on(real_server):
    # given `serve --port N` on a port other than the default
    with real_server() as server:
        # then it names that port, not 8000
        assert server.port != 8000
        assert f"Serving the API at {server.url}/graphql" in server.output()
        assert ":8000" not in server.output()


def test_graceful_shutdown_lets_in_flight_requests_finish(real_server):
    """SIGTERM while a slow login (bcrypt cost 14) runs: the client still gets its answer."""
    import threading

    answers: list[httpx.Response] = []
    login = """mutation { login(input: { email: "nobody@example.org", password: "Irgendwas#123" }) {
        errors { code } } }"""
    with real_server(BCRYPT_ROUNDS="14") as server:
        request = threading.Thread(
            target=lambda: answers.append(
                httpx.post(server.url + "/graphql", json={"query": login}, timeout=30)
            )
        )
        request.start()
        time.sleep(0.3)  # the login is hashing now
        code, _ = server.stop(signal.SIGTERM)
        request.join(timeout=30)
    # uvicorn re-raises the signal after a clean shutdown: ended by SIGTERM, not killed
    assert code in (0, -signal.SIGTERM)
    assert answers
    assert answers[0].status_code == 200
    assert answers[0].json()["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_an_idempotency_key_is_used_once_per_login(app):
    customer = await _customer()
    meter = await Meter.create(
        customer=customer,
        number="M1",
        is_main=True,
        kind="manual",
        installed_on=dt.date(2020, 1, 1),
    )
    row = {"meter": meter, "source": "customer", "submitted_by_id": 7, "idempotency_key": "k-1"}
    await MeterReading.create(value="1", read_on=dt.date(2024, 1, 1), **row)
    with pytest.raises(IntegrityError):
        await MeterReading.create(value="2", read_on=dt.date(2024, 1, 2), **row)
