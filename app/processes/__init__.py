"""Process owners' pages: the deployed processes, their versions and diagrams, and their instances."""

from flask import Blueprint

bp = Blueprint("processes", __name__)

from app.processes import views  # noqa: E402,F401 - the views register themselves on bp
