"""Process owners' pages: the deployed processes, their versions and diagrams, and their instances."""

from app.processes import views  # noqa: F401 - the views register themselves on bp
from app.processes.blueprint import bp

__all__ = ["bp"]
