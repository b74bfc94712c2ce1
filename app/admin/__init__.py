"""Administrators' pages: users, their roles and manager flags, and the role catalogue."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.admin import messages, schedules, views  # noqa: E402,F401 - the views register themselves on bp
