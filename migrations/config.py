"""Configuration for Tortoise's own migration tool (`tortoise -c migrations.config.TORTOISE_ORM`)."""

from db import tortoise_config
from settings import get_settings

TORTOISE_ORM = tortoise_config(get_settings().database_url)
