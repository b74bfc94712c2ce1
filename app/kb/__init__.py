"""The knowledge base pages: search, articles, submitting and reviewing, attached documents."""

from flask import Blueprint

bp = Blueprint("kb", __name__)

from app.kb import render, views  # noqa: E402,F401 - the views register themselves on bp

bp.add_app_template_filter(render.render_markdown, "markdown")
