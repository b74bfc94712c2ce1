"""Administrators' pages: users, their roles and manager flags, and the role catalogue."""

from app.admin import messages, schedules, views  # noqa: F401 - the views register themselves on bp
from app.admin.blueprint import bp

__all__ = ["bp"]
