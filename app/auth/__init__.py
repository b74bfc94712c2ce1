"""Sign-in, sign-out and the language choice; also registers the layout's template helpers."""

from app.auth import templating, views  # noqa: F401 - the views register themselves on bp
from app.auth.blueprint import bp

templating.register(bp)

__all__ = ["bp"]
