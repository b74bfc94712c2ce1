"""Notice pages: thin views over app/services/notifications.py."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.notices.blueprint import bp
from app.services import core
from app.services.core import get_runtime


@bp.app_context_processor
def _unread():
    """The unread count for the bell in the top bar (signed-in users only)."""
    if current_user and current_user.is_authenticated:
        return {"unread_notices": core.unread_count(current_user)}
    return {"unread_notices": 0}


@bp.get("/notices")
@login_required
def index():
    """The user's notices, newest first; ``?unread=1`` shows only the unread ones."""
    unread_only = bool(request.args.get("unread"))
    page = core.list_notices(
        current_user, unread_only=unread_only, page=max(request.args.get("page", 1, type=int) or 1, 1)
    )
    return render_template("notices/index.html", page=page, unread_only=unread_only)


@bp.post("/notices/read")
@login_required
def mark_read():
    """Mark one notice (``id``) or all of them read, then go back to the list or to the record."""
    notice_id = request.form.get("id", type=int)
    core.mark_read(current_user, [notice_id] if notice_id else None, get_runtime().now())
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("notices.index"))
