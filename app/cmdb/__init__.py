"""The CMDB pages: configuration items, their relations and history (everyone reads, config roles edit)."""

from app.cmdb import views  # noqa: F401 - the views register themselves on bp
from app.cmdb.blueprint import bp

__all__ = ["bp"]
