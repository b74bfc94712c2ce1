"""The known error database pages (everyone reads; problem managers and experts write)."""

from flask import Blueprint

bp = Blueprint("kedb", __name__)

from app.kedb import views  # noqa: E402,F401 - the views register themselves on bp
