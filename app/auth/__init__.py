"""Sign-in, sign-out and the language choice; also registers the layout's template helpers."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import templating, views  # noqa: E402,F401 - the views register themselves on bp

templating.register(bp)
