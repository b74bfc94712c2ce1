"""Service level targets: everyone reads them; the service level manager edits them."""

from app.sla import views  # noqa: F401 - routes register on import
from app.sla.blueprint import bp

__all__ = ["bp"]
