"""Where mail goes: an SMTP server in production, a folder of .eml files in development.

`deliver()` either returns (the mail is handed over), or raises
`TemporaryFailure` (try again later) or `PermanentFailure` (never again). The
worker decides what to do with the mail; the back ends never touch the database.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiosmtplib

from mailers.outbox import mask_address
from models import OutboxMail
from settings import Settings

log = logging.getLogger("kundenportal.mail")


class TemporaryFailure(Exception):
    """Try again later: connection refused, timeout, 4xx.

    `server_down` is true when the failure is the server's, not this mail's
    (unreachable, timeout, TLS or login failed): the other mails would fail
    the same way, so the worker ends its round instead of trying each one.
    """

    def __init__(self, reason: str, *, server_down: bool = False) -> None:
        super().__init__(reason)
        self.server_down = server_down


class PermanentFailure(Exception):
    """Do not try again: the server refused the mail for good (5xx)."""


def build_message(mail: OutboxMail, settings: Settings) -> Message:
    """The MIME mail: a plain-text and an HTML part, UTF-8.

    Built with the standard library's older `MIMEMultipart` (policy `compat32`),
    which takes a third of the time of `EmailMessage`: `EmailMessage` parses and
    refolds every header through its header registry, and at the peak the worker
    builds one message per reading. `compat32` cannot write UTF-8 addresses
    (SMTPUTF8), so a mail to or from a non-ASCII address is built as an
    `EmailMessage`; both read the same in a mail client.
    """
    if not (mail.recipient.isascii() and settings.mail_from.isascii()):
        return _build_utf8_message(mail, settings)
    message = MIMEMultipart("alternative")
    message["From"] = settings.mail_from
    message["To"] = mail.recipient
    message["Subject"] = (
        Header(mail.subject, "utf-8", header_name="Subject").encode()
        if not mail.subject.isascii()
        else mail.subject
    )
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = mail.message_id
    message["Auto-Submitted"] = "auto-generated"
    message.attach(MIMEText(mail.body_text, "plain", "utf-8"))
    message.attach(MIMEText(mail.body_html, "html", "utf-8"))
    return message


def _build_utf8_message(mail: OutboxMail, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = mail.message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body_text)
    message.add_alternative(mail.body_html, subtype="html")
    return message


# ------------------------------------------------------------------------- SMTP


def smtp_options(settings: Settings) -> dict[str, Any]:
    """aiosmtplib 5.x keywords for the configured server.

    `use_tls` is implicit TLS (port 465) and excludes `start_tls` (aiosmtplib
    raises ValueError for both, and so does `Settings`). `start_tls=True`
    insists on STARTTLS and fails when the server does not offer it;
    `start_tls=None` upgrades only when the server offers it, which is the
    right default for a relay on loopback but gives no guarantee, so `prod`
    refuses a login without one of the two (see `Settings`). Certificates are
    always verified, against `SMTP_CA_FILE` when set. The timeout applies to
    each SMTP command, not to the whole delivery (the worker bounds that).
    """
    return {
        "hostname": settings.smtp_host,
        "port": settings.smtp_port,
        "username": settings.smtp_username,
        "password": settings.smtp_password,
        "use_tls": settings.smtp_tls,
        "start_tls": False if settings.smtp_tls else True if settings.smtp_starttls else None,
        "validate_certs": True,
        "cert_bundle": str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
        "timeout": settings.smtp_timeout_seconds,
    }


def _refusal(code: int, answer: str, *, server_down: bool = False) -> Exception:
    reason = f"{code} {answer}".strip()
    if 400 <= code < 500:
        return TemporaryFailure(reason, server_down=server_down)
    return PermanentFailure(reason)


def _classified(error: Exception) -> Exception:
    """An aiosmtplib error sorted into temporary and permanent.

    A 5xx to MAIL FROM, RCPT TO or DATA is the server's final word on this
    mail: permanent. Everything before the mail is offered (connecting, TLS,
    greeting, login) concerns the server or our configuration, not this
    mail, and is temporary even when the code is 5xx (a wrong password must
    not fail every queued mail at once; the operator fixes it and they go).
    """
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        worst = max(error.recipients, key=lambda refused: refused.code)
        return _refusal(worst.code, worst.message)
    if isinstance(error, aiosmtplib.SMTPSenderRefused | aiosmtplib.SMTPDataError):
        return _refusal(error.code, error.message)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        # Greeting, EHLO, STARTTLS or AUTH answered with an error.
        return TemporaryFailure(f"{error.code} {error.message}", server_down=True)
    # Refused, unreachable, timed out, disconnected, TLS failed, STARTTLS not offered.
    return TemporaryFailure(f"{type(error).__name__}: {error}", server_down=True)


_SMTP_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError)


async def send_smtp(message: Message, settings: Settings) -> None:
    """Hand `message` to the SMTP server over a connection of its own."""
    try:
        await aiosmtplib.send(message, **smtp_options(settings))
    except _SMTP_ERRORS as error:
        raise _classified(error) from error


class SmtpSession:
    """One SMTP connection, kept open across the mails of a busy spell.

    Connecting, STARTTLS and login cost several round trips per mail; at the
    peak (every reading and registration mails) they are most of the work.
    A session connects on its first mail and is reused until the worker
    finds nothing more due and closes it, so it is never idle long enough for
    the server to drop it. A connection the server closed meanwhile is opened
    again once; any failure closes it, so the next mail starts clean (no
    half-finished SMTP transaction is carried over).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: aiosmtplib.SMTP | None = None
        self._last_used = time.monotonic()
        self.connections = 0  # how many times it connected: for the benchmark and tests

    def idle_for(self) -> float:
        """Seconds since the last mail went out over this session."""
        return time.monotonic() - self._last_used

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is None or not self._client.is_connected:
            client = aiosmtplib.SMTP(**smtp_options(self.settings))
            await client.connect()
            self._client = client
            self.connections += 1
        return self._client

    async def send(self, message: Message) -> None:
        self._last_used = time.monotonic()
        reused = self._client is not None and self._client.is_connected
        try:
            try:
                await (await self._connected()).send_message(message)
            except aiosmtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                await self.close()  # the server dropped the idle connection: once more, fresh
                await (await self._connected()).send_message(message)
        except _SMTP_ERRORS as error:
            await self.close()
            raise _classified(error) from error

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await asyncio.wait_for(client.quit(), self.settings.smtp_timeout_seconds)
            except _SMTP_ERRORS:
                client.close()


# ---------------------------------------------------------------- development

_PIN = re.compile(r"(?<![\d.,/-])\d{6}(?!\d|[.,/-]\d)")
_LINK = re.compile(r"https?://[^\s<>\"']+")


def secrets_for_log(text: str, settings: Settings) -> list[str]:
    """The PIN and links of a mail's text, for the development log line only.

    A PIN is a standalone six-digit number (R4); a link is one into the
    portal other than the footer's plain portal address.
    """
    portal = settings.portal_url.rstrip("/")
    found = [f"PIN {pin}" for pin in _PIN.findall(text)[:1]]
    found += [
        f"link {link}"
        for link in _LINK.findall(text)
        if link.startswith(portal) and link.rstrip("/") != portal
    ][:2]
    return found


def write_file(message: Message, mail: OutboxMail, settings: Settings) -> Path:
    """Development back end: one .eml file per mail and one log line to act on.

    The line names the masked recipient, the subject and the file. In `dev`
    only it also shows the PIN or link, so that a newcomer can finish a
    registration without a mail server; in any other environment a mail's
    secrets never reach a log.
    """
    folder = Path(settings.mail_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{mail.created_at:%Y%m%dT%H%M%S}-{mail.id}-{mail.kind}.eml"
    path.write_bytes(bytes(message))
    extra = ""
    if settings.env == "dev":
        extra = "".join(f" {item}" for item in secrets_for_log(mail.body_text, settings))
    log.info(
        "mail to %s: %r written to %s%s",
        mask_address(mail.recipient),
        mail.subject,
        path,
        extra,
        # In dev only, the PIN or link is the point of this line: let it past the log scrubber.
        extra={"unscrubbed": bool(extra)},
    )
    return path


async def deliver(mail: OutboxMail, settings: Settings, session: SmtpSession | None = None) -> None:
    """Hand `mail` to the configured back end, over `session` when one is given."""
    message = build_message(mail, settings)
    if settings.mail_backend == "smtp":
        if session is not None:
            await session.send(message)
        else:
            await send_smtp(message, settings)
    else:
        try:
            write_file(message, mail, settings)
        except OSError as error:
            raise TemporaryFailure(f"{type(error).__name__}: {error}", server_down=True) from error
