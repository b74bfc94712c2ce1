"""Role holders' pages: the inbox, task forms, starting processes, my requests and the instance page."""

from flask import Blueprint

bp = Blueprint("tasks", __name__)

from app.tasks import instance_views, views  # noqa: E402,F401 - the views register themselves on bp
