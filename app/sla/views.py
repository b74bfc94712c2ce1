"""SLA pages: the targets table, and the edit form of one service and priority."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.errors import plain
from app.services import governance
from app.services.core import get_runtime
from app.services.errors import InvalidInput
from app.sla.blueprint import bp

FIELDS = ("response_minutes", "tier_minutes", "resolution_minutes", "warning_percent")


@bp.route("/")
@login_required
def index():
    """Every target, by service and priority."""
    can_edit = bool(current_user.role_codes & governance.SLA_EDITORS)
    return render_template(
        "sla/index.html",
        targets=governance.list_targets(),
        can_edit=can_edit,
        priorities=list(governance.SLA_DEFAULTS),
    )


@bp.route("/edit", methods=["GET", "POST"])
@login_required
def edit():
    """Create or change the target of one service (``*`` for all) and priority."""
    service = (request.values.get("service") or "*").strip() or "*"
    priority = request.values.get("priority") or "P1"
    values = {field: request.form.get(field) for field in FIELDS}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            governance.save_target(current_user, service, priority, values, get_runtime().now())
        except InvalidInput as exc:
            errors = plain(exc.field_errors)
        else:
            flash(_("The service level target was saved."), "success")
            return redirect(url_for("sla.index"))
    else:
        current = dict(
            zip(FIELDS, governance.target_for(None if service == "*" else service, priority), strict=True)
        )
        values = {field: str(current[field]) for field in FIELDS}
    return render_template(
        "sla/edit.html",
        service=service,
        priority=priority,
        values=values,
        errors=errors,
        priorities=list(governance.SLA_DEFAULTS),
    ), (422 if errors else 200)
