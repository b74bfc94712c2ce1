"""Notices: what processes told the signed-in user (unread count in the top bar, list, mark read)."""

from app.notices import views  # noqa: F401 - routes register on import
from app.notices.blueprint import bp

__all__ = ["bp"]
