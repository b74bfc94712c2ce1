"""Service level targets: everyone reads them; the service level manager edits them."""

from flask import Blueprint

bp = Blueprint("sla", __name__)

from app.sla import views  # noqa: E402,F401 - routes register on import
