"""Device cookies and throttling without lockout (OWASP: slow down online guessing
with device cookies): the guesser is slowed per client, the owner from a known
device or from another client still gets in, for passwords, PINs, reset links and
customer claims."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.requests import Request

from models import AuditEvent, Login
from security.devices import DEVICE_COOKIE, DEVICE_HEADER, device_id, known_device
from tests.conftest import gql, pin_from
from tests.factories import (
    CONFIRM_PIN,
    LOGIN,
    PASSWORD,
    REGISTER,
    TODAY,
    codes,
    make_customer_with_proofs,
    make_household,
    register,
    register_input,
)
from tests.test_accounts_password import NEW_PASSWORD, RESET, request_link, token_of

WRONG = {"email": "erika@example.org", "password": "Wrong#Pass1"}
RIGHT = {"email": "erika@example.org", "password": PASSWORD}
ADD = """
mutation Add($input: AddCustomerNumberInput!) {
  addCustomerNumber(input: $input) { customer { number } errors { code } }
}
"""


@contextlib.asynccontextmanager
async def client_at(app: Any, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client from another network address (cookies kept, as a browser keeps them)."""
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
        yield c


def refused(result: Any) -> bool:
    return bool(result.errors) and result.errors[0]["extensions"]["code"] == "RATE_LIMITED"


def request_with(token: str) -> Request:
    return Request({"type": "http", "headers": [(DEVICE_HEADER.encode(), token.encode())]})


async def device_token_of_login(client: httpx.AsyncClient) -> str:
    """Log in (an app: no cookies kept) and return the device token of the payload."""
    result = await gql(client, LOGIN.replace("mailedTo", "mailedTo deviceToken"), RIGHT)
    assert result.data["login"]["errors"] == [], result.data
    client.cookies.clear()
    return result.data["login"]["deviceToken"]


# ----------------------------------------------------------------- the cookie


async def test_login_sets_an_httponly_device_cookie_and_returns_the_same_token(client, mailbox):
    # given a confirmed login
    await register(client, mailbox, await make_customer_with_proofs())
    client.cookies.clear()

    # when it logs in
    result = await gql(client, LOGIN.replace("mailedTo", "mailedTo deviceToken"), RIGHT)

    # then the browser gets the device cookie, HttpOnly, Secure, SameSite=Lax, a year long
    cookie = next(
        c for c in result.response.headers.get_list("set-cookie") if c.startswith(DEVICE_COOKIE)
    )
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=lax" in cookie
    assert "Max-Age=31536000" in cookie
    # and an app gets the same token in the payload
    token = result.data["login"]["deviceToken"]
    assert cookie.split(";")[0] == f"{DEVICE_COOKIE}={token}"


async def test_a_device_is_known_to_the_login_it_logged_in_to_since_its_first_login(
    client, mailbox, settings, clock
):
    # given a device that logged in once, and again a day later
    await register(client, mailbox, await make_customer_with_proofs())
    client.cookies.clear()
    first = await device_token_of_login(client)
    first_at = dt.datetime.now(dt.UTC)
    clock.shift(dt.timedelta(days=1))
    second = (
        await gql(
            client,
            LOGIN.replace("mailedTo", "mailedTo deviceToken"),
            RIGHT,
            headers={"X-Device-Token": first},
        )
    ).data["login"]["deviceToken"]
    login = await Login.get(email_key="erika@example.org")

    # then the device keeps its id, and is known to the login since the first login
    device = known_device(request_with(second), settings, login)
    assert device is not None
    assert device.device_id == device_id(request_with(first), settings)
    assert abs((device.since - first_at).total_seconds()) < 2


async def test_forged_and_foreign_device_tokens_are_unknown(client, mailbox, settings):
    # given two logins, a device that logged in to the first only
    await register(client, mailbox, await make_customer_with_proofs())
    await register(
        client, mailbox, await make_customer_with_proofs("100002"), email="max@example.org"
    )
    client.cookies.clear()
    token = await device_token_of_login(client)
    erika = await Login.get(email_key="erika@example.org")
    max_ = await Login.get(email_key="max@example.org")

    # then it is unknown to the other login, and a token altered by one letter is nobody's
    assert known_device(request_with(token), settings, erika) is not None
    assert known_device(request_with(token), settings, max_) is None
    body, signature = token.split(".")
    forged = body + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    assert known_device(request_with(forged), settings, erika) is None
    assert device_id(request_with("not a token"), settings) is None


async def test_a_password_change_makes_earlier_devices_unknown(client, mailbox, settings):
    # given a device known to the login
    await register(client, mailbox, await make_customer_with_proofs())
    client.cookies.clear()
    token = await device_token_of_login(client)

    # when the password is reset through the mailed link
    link = await request_link(client, mailbox, count=2)
    reset = await gql(client, RESET, {"token": token_of(link), "password": NEW_PASSWORD})
    assert reset.data["resetPassword"]["errors"] == []

    # then the device no longer counts as known to it
    login = await Login.get(email_key="erika@example.org")
    assert known_device(request_with(token), settings, login) is None


# -------------------------------------------------------------------- passwords


async def test_a_guesser_is_slowed_but_the_owner_logs_in_from_another_client(
    app, client, mailbox, settings
):
    # given a login, and a guesser who used up its own attempts for it
    settings.login_failures_per_client_of_login = 3
    await register(client, mailbox, await make_customer_with_proofs())
    async with client_at(app, "198.51.100.66") as guesser:
        for _ in range(3):
            assert codes((await gql(guesser, LOGIN, WRONG)).data["login"]) == [
                "INVALID_CREDENTIALS"
            ]
        # when the guesser tries again, even with the right password, it is refused
        again = await gql(guesser, LOGIN, RIGHT)
        assert refused(again)
        assert again.response.status_code == 429

    # then the owner, from a client that never logged in before, still logs in
    async with client_at(app, "192.0.2.10") as owner:
        result = await gql(owner, LOGIN, RIGHT)
    assert result.data["login"]["errors"] == []


async def test_unknown_clients_share_a_limit_that_known_devices_pass(
    app, client, mailbox, settings
):
    # given a login whose owner logged in once from a phone (a known device)
    settings.login_failures_per_client_of_login = 3
    settings.login_failures_per_login = 5
    await register(client, mailbox, await make_customer_with_proofs())
    async with client_at(app, "192.0.2.10") as phone:
        device = await device_token_of_login(phone)

    # when guessers from two addresses use up the login's budget for unknown clients
    for address, tries in (("198.51.100.1", 3), ("198.51.100.2", 2)):
        async with client_at(app, address) as guesser:
            for _ in range(tries):
                await gql(guesser, LOGIN, WRONG)

    # then an unknown client is refused even with the right password, and it is audited
    async with client_at(app, "203.0.113.99") as stranger:
        assert refused(await gql(stranger, LOGIN, RIGHT))
    assert await AuditEvent.filter(action="lockout").count() == 1
    # while the phone logs in, even from a guesser's own address
    async with client_at(app, "198.51.100.1") as phone_on_that_network:
        result = await gql(phone_on_that_network, LOGIN, RIGHT, headers={"X-Device-Token": device})
    assert result.data["login"]["errors"] == []


async def test_wrong_passwords_from_a_known_device_are_limited_for_that_device(
    app, client, mailbox, settings
):
    # given a known device (a browser: it sends the cookie)
    settings.login_failures_per_client_of_login = 2
    await register(client, mailbox, await make_customer_with_proofs())
    async with client_at(app, "192.0.2.10") as browser:
        assert (await gql(browser, LOGIN, RIGHT)).data["login"]["errors"] == []
        assert DEVICE_COOKIE in browser.cookies
        # when it gives wrong passwords, then it is slowed like any client
        for _ in range(2):
            await gql(browser, LOGIN, WRONG)
        assert refused(await gql(browser, LOGIN, RIGHT))


async def test_the_address_limit_does_not_hold_back_a_known_device(app, client, mailbox, settings):
    # given an address that tried many logins (credential stuffing) and reached its limit
    settings.login_failures_per_address = 3
    await register(client, mailbox, await make_customer_with_proofs())
    async with client_at(app, "192.0.2.10") as phone:
        device = await device_token_of_login(phone)
    async with client_at(app, "198.51.100.7") as stuffer:
        for n in range(3):
            await gql(stuffer, LOGIN, {"email": f"x{n}@example.org", "password": "Wrong#Pass1"})
        assert refused(await gql(stuffer, LOGIN, RIGHT))
        # then the owner's known device behind the same address still logs in
        result = await gql(stuffer, LOGIN, RIGHT, headers={"X-Device-Token": device})
    assert result.data["login"]["errors"] == []


# ------------------------------------------------------------------------- PIN


async def test_others_cannot_void_the_pin_of_the_device_that_registered(
    app, client, mailbox, settings
):
    # given a registration from a browser (it keeps the device cookie)
    settings.pin_max_attempts = 2
    settings.pin_attempts_per_pin = 3
    result = await gql(client, REGISTER, register_input(await make_customer_with_proofs()))
    assert result.data["register"]["errors"] == []
    pin = pin_from(await mailbox.last_text("erika@example.org"))
    wrong = {"email": "erika@example.org", "pin": f"{(int(pin) + 1) % 1_000_000:06d}"}

    # when guessers from other addresses enter wrong PINs until it is void for them
    for address in ("198.51.100.1", "198.51.100.2"):
        async with client_at(app, address) as guesser:
            answers = [codes((await gql(guesser, CONFIRM_PIN, wrong)).data["confirmPin"])]
            answers.append(codes((await gql(guesser, CONFIRM_PIN, wrong)).data["confirmPin"]))
            assert answers[-1] == ["PIN_VOID"]
    async with client_at(app, "198.51.100.3") as third:
        right_elsewhere = await gql(third, CONFIRM_PIN, {**wrong, "pin": pin})
    assert codes(right_elsewhere.data["confirmPin"]) == ["PIN_VOID"]

    # then the device that registered still confirms with the right PIN
    mine = await gql(client, CONFIRM_PIN, {**wrong, "pin": pin})
    assert mine.data["confirmPin"] == {"errors": [], "confirmed": True}


async def test_one_pin_guesser_does_not_void_the_pin_for_another_client(
    app, client, mailbox, settings
):
    # given a registration whose browser dropped its cookie (the PIN is typed on a phone)
    settings.pin_max_attempts = 2
    pin = await register(client, mailbox, await make_customer_with_proofs(), confirm=False)
    wrong = {"email": "erika@example.org", "pin": f"{(int(pin) + 1) % 1_000_000:06d}"}
    async with client_at(app, "198.51.100.1") as guesser:
        for _ in range(2):
            await gql(guesser, CONFIRM_PIN, wrong)
        assert codes((await gql(guesser, CONFIRM_PIN, {**wrong, "pin": pin})).data["confirmPin"])

    # then the owner's phone, another client, still confirms
    async with client_at(app, "192.0.2.10") as phone:
        result = await gql(phone, CONFIRM_PIN, {**wrong, "pin": pin})
    assert result.data["confirmPin"]["confirmed"] is True


# ----------------------------------------------------------------- registration


async def test_a_proof_guesser_does_not_block_the_customers_own_registration(
    app, client, mailbox, settings
):
    # given someone who used up their guesses of a customer's invoice number
    settings.proof_failures_per_customer = 2
    settings.proof_failures_per_customer_all_clients = 3
    customer = await make_customer_with_proofs()
    async with client_at(app, "198.51.100.1") as guesser:
        for guess in ("R-1", "R-2"):
            await gql(guesser, REGISTER, register_input(customer, invoice=guess))
        assert refused(await gql(guesser, REGISTER, register_input(customer)))

    # then the customer registers from another client
    result = await gql(client, REGISTER, register_input(customer))
    assert result.data["register"]["errors"] == []


async def test_proof_guesses_from_many_clients_together_are_bounded(app, client, mailbox, settings):
    settings.proof_failures_per_customer = 2
    settings.proof_failures_per_customer_all_clients = 3
    customer = await make_customer_with_proofs()
    for address, guesses in (("198.51.100.1", 2), ("198.51.100.2", 1)):
        async with client_at(app, address) as guesser:
            for n in range(guesses):
                await gql(guesser, REGISTER, register_input(customer, invoice=f"R-{n}"))
    assert refused(await gql(client, REGISTER, register_input(customer)))


# ------------------------------------------------------------------ reset links


async def test_a_known_device_uses_its_reset_link_from_a_throttled_address(
    app, client, mailbox, settings
):
    # given an owner with a known device, and a link guesser behind the same address
    settings.link_failures_per_address = 2
    await register(client, mailbox, await make_customer_with_proofs())
    client.cookies.clear()
    device = await device_token_of_login(client)
    token = token_of(await request_link(client, mailbox, count=2))
    for _ in range(2):
        await gql(client, RESET, {"token": "x" * 43, "password": NEW_PASSWORD})

    # when a client without the device sends the right link, it is refused for now
    assert refused(await gql(client, RESET, {"token": token, "password": NEW_PASSWORD}))

    # then the owner's device is let through with it
    result = await gql(
        client,
        RESET,
        {"token": token, "password": NEW_PASSWORD},
        headers={"X-Device-Token": device},
    )
    assert result.data["resetPassword"]["errors"] == []


# ------------------------------------------------------------------- claims


async def test_claim_guessing_with_a_stolen_session_does_not_block_the_owners_device(
    app, client, mailbox, settings, clock
):
    # given a login whose owner logged in from a known device, and a thief with its token
    settings.customer_claim_failures_per_client_of_login = 2
    settings.customer_claim_failures_per_login = 3
    first = await make_customer_with_proofs()
    await register(client, mailbox, first)
    client.cookies.clear()
    owner = await gql(client, LOGIN.replace("mailedTo", "mailedTo deviceToken"), RIGHT)
    device, session = owner.data["login"]["deviceToken"], owner.data["login"]["token"]
    second = await make_household(TODAY, "100002", name="Max Mustermann")
    wrong = {"customerNumber": "100002", "invoiceNumber": "R-NOPE"}

    # when the thief guesses from two addresses until unknown clients are refused
    for address, tries in (("198.51.100.1", 2), ("198.51.100.2", 1)):
        async with client_at(app, address) as thief:
            for _ in range(tries):
                result = await gql(thief, ADD, {"input": wrong}, token=session)
                assert codes(result.data["addCustomerNumber"]) == ["CUSTOMER_NOT_VERIFIED"]
    async with client_at(app, "198.51.100.3") as thief:
        assert refused(await gql(thief, ADD, {"input": wrong}, token=session))

    # then the owner's device still adds the customer with the right proof
    right = {"customerNumber": "100002", "invoiceNumber": second.latest_invoice.number}
    result = await gql(
        client, ADD, {"input": right}, token=session, headers={"X-Device-Token": device}
    )
    assert result.data["addCustomerNumber"] == {"customer": {"number": "100002"}, "errors": []}
