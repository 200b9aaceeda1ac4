"""Partner apps and the operations they may run (trusted documents)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Partner(Model):
    """A partner app. Its API key is shown once and stored only as a hash."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    key_hash = fields.CharField(max_length=64, unique=True)
    key_prefix = fields.CharField(max_length=12)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "partner"


class PartnerOperation(Model):
    """One operation of a partner's manifest, addressable by hash or by id."""

    id = fields.IntField(primary_key=True)
    partner: fields.ForeignKeyRelation[Partner] = fields.ForeignKeyField(
        "models.Partner", related_name="operations", on_delete=fields.CASCADE
    )
    partner_id: int
    sha256 = fields.CharField(max_length=64)
    operation_id = fields.CharField(max_length=200, null=True)
    document = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "partner_operation"
        unique_together = [("partner_id", "sha256")]
