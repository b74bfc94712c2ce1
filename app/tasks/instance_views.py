"""Starting processes, the requester's own requests, and the instance page with its diagram and history."""

from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.errors import plain
from app.services import workflow
from app.services.errors import InvalidInput, ProcessProblem
from app.services.workflow import related_records
from app.tasks.blueprint import bp
from app.tasks.formview import (
    auto_texts,
    data_items,
    field_index,
    initial_values,
    locale_and_zone,
    picker_choices,
    submitted_values,
)

STATUSES = ("running", "completed", "cancelled")


@bp.route("/start")
@login_required
def start_list():
    """The processes this user may start, with what their start forms are for."""
    options = workflow.startable_processes(current_user)
    return render_template("tasks/start_list.html", options=options)


@bp.route("/start/<process_id>", methods=["GET", "POST"])
@login_required
def start(process_id: str):
    """Show a process's start form; on POST start the process and go to the new instance."""
    form = workflow.start_form(current_user, process_id)
    if request.method == "GET":
        return _render_start(process_id, form, initial_values(form), {}, None)
    data = workflow.parse_form_input(form, request.form) if form else {}
    try:
        instance = workflow.start_process(current_user, process_id, data, **locale_and_zone())
    except InvalidInput as exc:
        values = submitted_values(form, request.form)
        return _render_start(process_id, form, values, plain(exc.field_errors), plain(exc.message)), 422
    except ProcessProblem as exc:
        values = submitted_values(form, request.form)
        return _render_start(process_id, form, values, {}, plain(exc.message)), 422
    flash(_("%(key)s was created.", key=instance.business_key), "success")
    return redirect(url_for("tasks.instance", instance_id=instance.id))


def _render_start(process_id: str, form, values: dict, errors: dict, message: str | None) -> str:
    return render_template(
        "tasks/start.html",
        process_id=process_id,
        form=form,
        values=values,
        errors=errors,
        message=message,
        choices=picker_choices(form),
        auto=auto_texts(),
    )


@bp.route("/requests")
@login_required
def requests():
    """The instances the user started, newest first, optionally by status."""
    status = request.args.get("status") or None
    status = status if status in STATUSES else None
    page = request.args.get("page", 1, type=int) or 1
    result = workflow.my_requests(
        current_user, status=status, page=max(page, 1), per_page=current_app.config.get("PAGE_SIZE", 25)
    )
    return render_template("tasks/requests.html", page=result, status=status or "", statuses=STATUSES)


@bp.route("/instances/<int:instance_id>")
@login_required
def instance(instance_id: int):
    """One instance: key facts, the highlighted diagram, the open tasks and the history."""
    instance = workflow.get_instance(current_user, instance_id)
    history = workflow.instance_history(current_user, instance)
    index = field_index(entry.form for entry in history)
    entries = [(entry, data_items(entry.data, index)) for entry in history]
    open_tasks = [task for task in instance.tasks if task.status == "open"]
    return render_template(
        "tasks/instance.html",
        instance=instance,
        entries=entries,
        open_tasks=open_tasks,
        related=related_records(current_user, instance),
    )


@bp.route("/instances/<int:instance_id>/diagram.xml")
@login_required
def diagram(instance_id: int):
    """The BPMN text of the version the instance runs on (the diagram viewer loads it)."""
    instance = workflow.get_instance(current_user, instance_id)
    xml = workflow.diagram_xml(current_user, instance)
    return Response(xml, mimetype="application/xml", headers={"Cache-Control": "private, max-age=300"})
