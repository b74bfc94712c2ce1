"""The knowledge base pages: search, articles, submitting and reviewing, attached documents."""

from app.kb import render, views  # noqa: F401 - the views register themselves on bp
from app.kb.blueprint import bp

bp.add_app_template_filter(render.render_markdown, "markdown")

__all__ = ["bp"]
