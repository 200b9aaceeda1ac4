"""The mail outbox: a mail is a row written in the same transaction as its cause."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model


class MailPriority(IntEnum):
    """Which due mail goes first: a person waiting for a PIN or link comes before a notice."""

    WAITED_FOR = 0
    NORMAL = 1
    BULK = 2


class MailStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class OutboxMail(Model):
    """A rendered mail waiting for, or past, delivery by the worker."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=40)
    recipient = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=300)
    body_text = fields.TextField()
    body_html = fields.TextField()
    message_id = fields.CharField(max_length=200, unique=True)
    status = fields.CharEnumField(MailStatus, max_length=10, default=MailStatus.QUEUED)
    attempts = fields.IntField(default=0)
    priority = fields.SmallIntField(
        default=MailPriority.NORMAL, db_default=int(MailPriority.NORMAL)
    )
    # Which of the worker's lanes delivers it: the same for every mail to one address, so
    # one address's mails go out one after another, in the order they were queued.
    shard = fields.SmallIntField(default=0, db_default=0)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_mail"
        indexes = [("status", "next_attempt_at"), ("status", "priority", "next_attempt_at")]
        constraints = [
            CheckConstraint(check="status IN ('queued', 'sent', 'failed')", name="ck_mail_status"),
            CheckConstraint(check="attempts >= 0", name="ck_mail_attempts"),
        ]
