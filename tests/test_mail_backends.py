"""Back ends: the development folder of .eml files, and SMTP with STARTTLS, TLS and login."""

from __future__ import annotations

import email
import email.policy
import logging
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import ValidationError
from tortoise.transactions import in_transaction

import clock
from mailers.outbox import queue_mail
from mailers.worker import deliver_due
from models import MailStatus, OutboxMail
from settings import ConfigurationError, Settings
from tests.conftest import Mailbox, free_port

PIN_MAIL = """Guten Tag,

Ihre PIN lautet 482913. Sie gilt 15 Minuten.
Oder öffnen Sie https://portal.wasser.example/registrierung?token=Zk3-abc_9

--
Kundenportal: https://portal.wasser.example
"""


async def queue_notice(settings: Settings, to: str, name: str = "Jörg Müß") -> OutboxMail:
    async with in_transaction() as conn:
        return await queue_mail(
            "test_notice", to=to, locale="de", settings=settings, using_db=conn, name=name
        )


async def queue_pin_mail(to: str) -> OutboxMail:
    """A mail shaped like the registration PIN mail (its template belongs to accounts)."""

    now = clock.now()
    return await OutboxMail.create(
        kind="registration_pin",
        recipient=to,
        subject="Ihre PIN für das Kundenportal",
        body_text=PIN_MAIL,
        body_html="<p>" + PIN_MAIL + "</p>",
        message_id="<pin-test@wasser.example>",
        next_attempt_at=now,
        created_at=now,
    )


# ------------------------------------------------------------ development folder


def read_eml_files(folder: Path) -> list[EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for path in sorted(folder.glob("*.eml"))
    ]


async def test_dev_back_end_writes_an_eml_that_a_mail_client_reads_with_umlauts(outbox):
    # given: the development back end
    settings = outbox.model_copy(update={"env": "dev", "mail_backend": "file"})
    mail = await queue_notice(settings, "joerg@example.org")

    # when
    await deliver_due(settings)

    # then: one .eml file, parsed as a mail client would
    [message] = read_eml_files(Path(settings.mail_dir))
    assert message["Subject"] == "Grüße vom Kundenportal"
    assert message["To"] == "joerg@example.org"
    assert message["Message-ID"] == mail.message_id
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Hallo Jörg Müß," in text and "Hallo Jörg Müß," in html
    assert (await OutboxMail.get(id=mail.id)).status == MailStatus.SENT


async def test_dev_log_line_names_masked_recipient_subject_pin_and_link(outbox, caplog):
    # given: the development back end in dev, and a mail with a PIN and a link
    settings = outbox.model_copy(update={"env": "dev", "mail_backend": "file"})
    await queue_pin_mail("erika.mustermann@example.org")

    # when
    with caplog.at_level(logging.INFO, logger="kundenportal.mail"):
        await deliver_due(settings)

    # then: one line a newcomer can act on, without the full address
    [line] = [r.getMessage() for r in caplog.records if "written to" in r.getMessage()]
    assert "e***n@example.org" in line and "erika.mustermann" not in line
    assert "Ihre PIN für das Kundenportal" in line
    assert "PIN 482913" in line
    assert "link https://portal.wasser.example/registrierung?token=Zk3-abc_9" in line
    assert line.count("https://") == 1, "the footer's plain portal address is no link to follow"


@pytest.mark.parametrize("env", ["test", "prod"])
async def test_outside_dev_no_pin_or_link_is_logged(outbox, caplog, env):
    # given: the file back end outside dev (prod refuses it at start; the back end must
    # still not leak if it is used)
    settings = outbox.model_copy(update={"env": env, "mail_backend": "file"})
    await queue_pin_mail("erika.mustermann@example.org")

    # when: delivered, with everything at INFO and above recorded (Tortoise logs SQL
    # parameters, bodies included, at DEBUG: never run production at DEBUG)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        await deliver_due(settings)

    # then: the mail was written and logged, its secrets were not
    assert any("written to" in r.getMessage() for r in caplog.records)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert "482913" not in logged and "token=" not in logged


# -------------------------------------------------------------------------- SMTP


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A self-signed certificate for 127.0.0.1 (its own CA), made with openssl."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    yield cert, key


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


class Relay(Mailbox):
    """A relay that wants a login over TLS, like a provider's submission port."""

    logins: list[tuple[str, bool]]

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        ok = (auth_data.login, auth_data.password) == (b"portal", b"s3cret-Passwort")
        self.logins.append((auth_data.login.decode(), ok))
        return AuthResult(success=ok, handled=False)  # handled=False: answer 535


@pytest.fixture
def relay(certificate) -> Iterator[Relay]:
    """STARTTLS required, login required (only over TLS)."""
    box = Relay(port=free_port())
    box.logins = []
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=box.port,
        tls_context=server_tls(certificate),
        require_starttls=True,
        authenticator=box.authenticate,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    yield box
    controller.stop()


def through(relay: Relay, settings: Settings, certificate, **changes) -> Settings:
    return settings.model_copy(
        update={
            "smtp_port": relay.port,
            "smtp_starttls": True,
            "smtp_username": "portal",
            "smtp_password": "s3cret-Passwort",
            "smtp_ca_file": certificate[0],
            **changes,
        }
    )


async def test_smtp_logs_in_after_starttls_and_delivers(outbox, relay, certificate):
    # given: a relay that insists on STARTTLS and a login
    settings = through(relay, outbox, certificate)
    mail = await queue_notice(settings, "kunde@example.org")

    # when
    await deliver_due(settings)

    # then
    assert relay.logins == [("portal", True)]
    assert [str(m["Message-ID"]) for m in relay.messages] == [mail.message_id]
    assert (await OutboxMail.get(id=mail.id)).status == MailStatus.SENT


async def test_wrong_smtp_password_keeps_mails_queued(outbox, relay, certificate):
    # given: a wrong password (a 535, but about our set-up, not about the mail)
    settings = through(relay, outbox, certificate, smtp_password="falsch")
    mail = await queue_notice(settings, "kunde@example.org")

    # when
    await deliver_due(settings)

    # then: the mail waits for the operator to fix the password
    mail = await OutboxMail.get(id=mail.id)
    assert (mail.status, mail.attempts) == (MailStatus.QUEUED, 1)
    assert mail.last_error.startswith("535")
    assert relay.messages == []


async def test_untrusted_certificate_is_refused_and_the_mail_waits(outbox, relay, certificate):
    # given: the relay's CA is not configured, so its certificate cannot be verified
    settings = through(relay, outbox, certificate, smtp_ca_file=None)
    mail = await queue_notice(settings, "kunde@example.org")

    # when
    await deliver_due(settings)

    # then: nothing was sent, no password went out, the mail waits
    assert relay.logins == [] and relay.messages == []
    mail = await OutboxMail.get(id=mail.id)
    assert mail.status == MailStatus.QUEUED and "certificate" in mail.last_error.lower()


async def test_smtp_over_implicit_tls_delivers(outbox, certificate):
    # given: a server that speaks TLS from the first byte (port 465 style)
    box = Mailbox(port=free_port())
    controller = Controller(
        box, hostname="127.0.0.1", port=box.port, ssl_context=server_tls(certificate)
    )
    controller.start()
    try:
        settings = outbox.model_copy(
            update={"smtp_port": box.port, "smtp_tls": True, "smtp_ca_file": certificate[0]}
        )
        mail = await queue_notice(settings, "kunde@example.org")

        # when
        await deliver_due(settings)
    finally:
        controller.stop()

    # then
    assert [str(m["Message-ID"]) for m in box.messages] == [mail.message_id]


def test_implicit_tls_and_starttls_exclude_each_other():
    with pytest.raises(ValidationError, match="exclude each other"):
        Settings(smtp_tls=True, smtp_starttls=True)


def test_prod_refuses_an_smtp_login_without_tls():
    settings = Settings(
        env="prod",
        secret_key="x" * 40,
        database_url="postgres://kp@db/kp",
        mail_backend="smtp",
        smtp_username="portal",
        smtp_password="secret",
    )
    with pytest.raises(ConfigurationError, match="SMTP_USERNAME needs SMTP_STARTTLS or SMTP_TLS"):
        settings.check_for_production()
