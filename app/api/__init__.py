"""The JSON API under /api/v1: what the pages do, for integrations and monitoring systems."""

from app.api import notices, registry_views, views  # noqa: F401 - routes register on import
from app.api.blueprint import bp

__all__ = ["bp"]
