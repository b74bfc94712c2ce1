"""Notices: what processes told the signed-in user (unread count in the top bar, list, mark read)."""

from flask import Blueprint

bp = Blueprint("notices", __name__)

from app.notices import views  # noqa: E402,F401 - routes register on import
