"""Admin: scheduled processes (next occurrences), waiting timers, and starting a scheduled process now."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.admin.blueprint import bp
from app.services import workflow


@bp.route("/schedules")
@login_required
def schedules_page():
    """Upcoming occurrences of every schedule and the next waiting timers."""
    return render_template("admin/schedules.html", upcoming=workflow.upcoming_work(current_user))


@bp.post("/schedules/<process_id>/start")
@login_required
def start_scheduled(process_id: str):
    """Start one instance of a scheduled process now."""
    instance = workflow.start_scheduled_now(current_user, process_id)
    flash(_("Started %(key)s.", key=instance.business_key), "success")
    return redirect(url_for("admin.schedules_page"))
