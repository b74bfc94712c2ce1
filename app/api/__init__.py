"""The JSON API under /api/v1: what the pages do, for integrations and monitoring systems."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from app.api import notices, registry_views, views  # noqa: E402,F401 - routes register on import
