"""Where mail goes: an SMTP server in production, a folder of .eml files in development."""

from __future__ import annotations

import logging
import re
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import aiosmtplib

from models import OutboxMail
from settings import Settings

log = logging.getLogger("kundenportal.mail")


class TemporaryFailure(Exception):
    """Try again later: connection refused, timeout, 4xx."""


class PermanentFailure(Exception):
    """Do not try again: the server refused the mail for good (5xx)."""


def build_message(mail: OutboxMail, settings: Settings) -> EmailMessage:
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


async def send_smtp(message: EmailMessage, settings: Settings) -> None:
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            use_tls=settings.smtp_tls,
            start_tls=True if settings.smtp_starttls else None if not settings.smtp_tls else False,
            timeout=settings.smtp_timeout_seconds,
        )
    except aiosmtplib.SMTPResponseException as error:
        if 400 <= error.code < 500:
            raise TemporaryFailure(f"{error.code} {error.message}") from error
        raise PermanentFailure(f"{error.code} {error.message}") from error
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        raise TemporaryFailure(type(error).__name__ + ": " + str(error)) from error


_SECRETS = re.compile(r"\b\d{6}\b|https?://\S+")


def write_file(message: EmailMessage, mail: OutboxMail, settings: Settings) -> Path:
    """Development back end: one .eml file per mail, and a log line to act on."""
    folder = Path(settings.mail_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{mail.created_at:%Y%m%dT%H%M%S}-{mail.id}-{mail.kind}.eml"
    path.write_bytes(bytes(message))
    extra = ""
    if settings.env == "dev":
        # Only in dev: the PIN or link, so a newcomer can finish a flow without a mail server.
        extra = " " + " ".join(_SECRETS.findall(mail.body_text)[:2])
    log.info("mail written to %s: %s%s", path.name, mail.subject, extra)
    return path


async def deliver(mail: OutboxMail, settings: Settings) -> None:
    message = build_message(mail, settings)
    if settings.mail_backend == "smtp":
        await send_smtp(message, settings)
    else:
        write_file(message, mail, settings)
