"""The known error database pages (everyone reads; problem managers and experts write)."""

from app.kedb import views  # noqa: F401 - the views register themselves on bp
from app.kedb.blueprint import bp

__all__ = ["bp"]
