"""Admin: messages between processes that found no receiver yet, and retrying them."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.admin.blueprint import bp
from app.services import workflow
from app.services.governance import require_admin


@bp.route("/messages")
@login_required
def messages():
    """Undeliverable messages: name, sender, payload, attempts, last error."""
    require_admin(current_user)
    page = workflow.undeliverable_messages(page=max(request.args.get("page", 1, type=int) or 1, 1))
    return render_template("admin/messages.html", page=page)


@bp.post("/messages/<int:message_id>/retry")
@login_required
def retry_message(message_id: int):
    """Try to deliver one message again now."""
    require_admin(current_user)
    status = workflow.retry_message(message_id)
    flash(_("Message %(id)s: %(status)s", id=message_id, status=status), "info")
    return redirect(url_for("admin.messages"))
