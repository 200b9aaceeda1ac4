"""Mail: a transactional outbox, its worker, back ends and templates (see README "Mail")."""

from mailers.outbox import (
    format_when,
    is_valid_email,
    mask_address,
    outbox_mail,
    purge_mail_bodies,
    purge_sent_mail,
    queue_mail,
    queue_metrics,
)

__all__ = [
    "format_when",
    "is_valid_email",
    "mask_address",
    "outbox_mail",
    "purge_mail_bodies",
    "purge_sent_mail",
    "queue_mail",
    "queue_metrics",
]
