"""The CMDB pages: configuration items, their relations and history (everyone reads, config roles edit)."""

from flask import Blueprint

bp = Blueprint("cmdb", __name__)

from app.cmdb import views  # noqa: E402,F401 - the views register themselves on bp
