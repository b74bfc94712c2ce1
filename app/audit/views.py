"""Read the audit log, an instance's full record, and verify the hash chain (auditors; nothing changes)."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user, login_required

from app.audit.blueprint import bp
from app.services import governance, workflow
from app.tasks.formview import data_items, field_index

PER_PAGE = 50


@bp.route("/")
@login_required
def log():
    """The audit log, newest event first, paged."""
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    result = governance.events_page(current_user, page=page, per_page=PER_PAGE)
    return render_template("audit/log.html", page=result)


@bp.route("/instances/<int:instance_id>")
@login_required
def instance(instance_id: int):
    """Everything recorded about one instance: the readable history and every raw event with its hashes."""
    events = governance.events_page(current_user, instance_id=instance_id, per_page=1000)
    instance = workflow.get_instance(current_user, instance_id)
    history = workflow.instance_history(current_user, instance)
    index = field_index(entry.form for entry in history)
    entries = [(entry, data_items(entry.data, index)) for entry in history]
    return render_template(
        "audit/instance.html",
        instance=instance,
        entries=entries,
        events=sorted(events.items, key=lambda event: event.sequence),
    )


@bp.route("/verify")
@login_required
def verify():
    """Recompute the whole hash chain and show the result."""
    report = governance.verify_chain(current_user)
    return render_template("audit/verify.html", report=report)
