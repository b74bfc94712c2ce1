"""Auditors' pages: the hash-chained audit log, an instance's full history, and the chain check."""

from app.audit import views  # noqa: F401 - the views register themselves on bp
from app.audit.blueprint import bp

__all__ = ["bp"]
