"""Auditors' pages: the hash-chained audit log, an instance's full history, and the chain check."""

from flask import Blueprint

bp = Blueprint("audit", __name__)

from app.audit import views  # noqa: E402,F401 - the views register themselves on bp
