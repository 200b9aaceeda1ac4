"""No password, PIN, token, session id or API key ever reaches a log line or a response
it does not belong to: a whole life, from registration to deletion, with logs captured."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs, urlsplit

from api.partners import add_partner
from ops.logs import JsonFormatter
from tests.conftest import gql, link_from
from tests.factories import PASSWORD, log_in, make_customer_with_proofs, register

REQUEST_RESET = "mutation($e: String!) { requestPasswordReset(input: { email: $e }) { mailedTo } }"
RESET = """mutation($t: String!, $p: String!) {
  resetPassword(input: { token: $t, newPassword: $p }) { errors { code } } }"""
CHANGE_PASSWORD = """mutation($c: String, $p: String!) {
  changePassword(input: { currentPassword: $c, newPassword: $p }) { errors { code } } }"""
DELETE = (
    "mutation($c: String) { deleteProfile(input: { currentPassword: $c }) { errors { code } } }"
)
WRONG_LOGIN = (
    "mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { token } }"
)
NEW_PASSWORD = "Hochbehälter#77"
NEWER_PASSWORD = "Quellwasser%2026"


async def test_a_full_account_life_logs_no_secret(client, mailbox, settings, caplog):
    caplog.set_level(logging.DEBUG)
    secrets: list[str] = [PASSWORD, NEW_PASSWORD, NEWER_PASSWORD, "Falsch#Passwort1"]

    # register and confirm with the mailed PIN
    customer = await make_customer_with_proofs()
    secrets.append(await register(client, mailbox, customer))
    # a failed and a good login
    await gql(client, WRONG_LOGIN, {"e": "erika@example.org", "p": "Falsch#Passwort1"})
    session = await log_in(client)
    secrets += [session["token"], session["csrfToken"]]
    # a password reset by link
    before = len(mailbox.to("erika@example.org"))
    await gql(client, REQUEST_RESET, {"e": "erika@example.org"})
    link = link_from(await mailbox.last_text("erika@example.org", before + 1))
    reset_token = parse_qs(urlsplit(link).query)["token"][0]
    secrets.append(reset_token)
    assert (await gql(client, RESET, {"t": reset_token, "p": NEW_PASSWORD})).data
    token = (await log_in(client, password=NEW_PASSWORD))["token"]
    secrets.append(token)
    await gql(client, CHANGE_PASSWORD, {"c": NEW_PASSWORD, "p": NEWER_PASSWORD}, token=token)
    # a partner's key in use
    _, api_key = await add_partner("Stadt-App", settings)
    secrets.append(api_key)
    await client.post("/graphql", json={"query": "{ apiVersion }"}, headers={"X-Api-Key": api_key})
    # and deletion
    deleted = await gql(client, DELETE, {"c": NEWER_PASSWORD}, token=token)
    assert deleted.data["deleteProfile"]["errors"] == []

    # aiosmtpd's "mail.log" is the test's mail server, which of course sees the mails.
    records = [r for r in caplog.records if not r.name.startswith("mail.log")]
    lines = [JsonFormatter().format(record) for record in records]
    lines += [record.getMessage() for record in records]
    assert len(lines) > 20  # the run did log
    for secret in secrets:
        leaked = [line for line in lines if secret in line]
        assert leaked == [], f"a secret appears in the log: {leaked[:2]}"
    # and no line has anything shaped like a bcrypt hash
    assert not [line for line in lines if re.search(r"\$2[aby]\$\d\d\$", line)]
