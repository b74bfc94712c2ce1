"""Role holders' pages: the inbox, task forms, starting processes, my requests and the instance page."""

from app.tasks import instance_views, views  # noqa: F401 - the views register themselves on bp
from app.tasks.blueprint import bp

__all__ = ["bp"]
