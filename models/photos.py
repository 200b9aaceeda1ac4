"""Meter photos: evidence for a reading, stored re-encoded without metadata."""

from __future__ import annotations

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model

from models.customers import MeterReading


class MeterPhoto(Model):
    """A photo of the meter (Zählerfoto) attached to a reading.

    The image bytes live in the document storage under `storage_key` (random,
    not guessable); the row goes with its reading, and the storage object with
    the row (`ops/purge.py` removes what a cascade left behind).
    """

    id = fields.IntField(primary_key=True)
    reading: fields.OneToOneRelation[MeterReading] = fields.OneToOneField(
        "models.MeterReading", related_name="photo", on_delete=fields.CASCADE
    )
    reading_id: int
    storage_key = fields.CharField(max_length=100, unique=True)
    content_type = fields.CharField(max_length=20)
    width = fields.IntField()
    height = fields.IntField()
    size_bytes = fields.IntField()
    sha256 = fields.CharField(max_length=64)
    uploaded_by_login_id = fields.IntField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "meter_photo"
        indexes = [("uploaded_by_login_id",), ("created_at",)]
        constraints = [
            CheckConstraint(
                check="content_type IN ('image/jpeg', 'image/png', 'image/webp')",
                name="ck_photo_content_type",
            ),
            CheckConstraint(check="width > 0 AND height > 0", name="ck_photo_dimensions"),
        ]
