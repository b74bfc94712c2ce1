"""The inbox and the task page: claim, release, reassign, complete.

Each view parses the request, makes one service call and renders; the form helpers only read.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth.views import safe_next
from app.errors import plain
from app.roles import REQUESTER
from app.services import workflow
from app.services.errors import Conflict, InvalidInput, ProcessProblem
from app.tasks.blueprint import bp
from app.tasks.formview import (
    auto_texts,
    context_items,
    field_index,
    initial_values,
    locale_and_zone,
    picker_choices,
    submitted_values,
)

SCOPES = ("all", "mine", "unassigned")
SORTS = ("due", "priority", "created")


def _page_arg() -> int:
    """The ``page`` query argument as a positive integer (1 when missing or wrong)."""
    page = request.args.get("page", 1, type=int) or 1
    return max(page, 1)


@bp.route("/")
@login_required
def index():
    """The home page is the inbox."""
    return redirect(url_for("tasks.inbox"))


@bp.route("/inbox")
@login_required
def inbox():
    """Open tasks of the user's roles, filtered by role, scope and text, sorted and paged."""
    roles = sorted(current_user.role_codes | {REQUESTER})
    role = request.args.get("role") or None
    role = role if role in roles else None
    scope = request.args.get("scope", "all")
    scope = scope if scope in SCOPES else "all"
    sort = request.args.get("sort", "due")
    sort = sort if sort in SORTS else "due"
    q = (request.args.get("q") or "").strip()
    page = workflow.inbox(
        current_user,
        role=role,
        scope=scope,
        q=q or None,
        sort=sort,
        page=_page_arg(),
        per_page=current_app.config.get("PAGE_SIZE", 25),
    )
    filters = {"role": role or "", "scope": scope, "sort": sort, "q": q}
    return render_template(
        "tasks/inbox.html", page=page, roles=roles, filters=filters, scopes=SCOPES, sorts=SORTS
    )


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@login_required
def task(task_id: int):
    """Show a task's context and form; on POST complete it (422 with every typed value kept on errors)."""
    task = workflow.get_task(current_user, task_id)
    form = workflow.form_for_task(task)
    if request.method == "GET":
        prefill = {**task.instance.data, **(task.data or {})}
        return _render_task(task, form, initial_values(form, prefill), {}, None)
    data = workflow.parse_form_input(form, request.form)
    typed = submitted_values(form, request.form)
    try:
        workflow.complete_task(current_user, task.id, data, **locale_and_zone())
    except InvalidInput as exc:
        return _render_task(task, form, typed, plain(exc.field_errors), plain(exc.message)), 422
    except ProcessProblem as exc:
        return _render_task(task, form, typed, {}, plain(exc.message)), 422
    except Conflict as exc:
        flash(plain(exc.message), "warning")
        return redirect(url_for("tasks.task", task_id=task_id))
    flash(_("Done: %(step)s of %(key)s.", step=task.name, key=task.instance.business_key), "success")
    return redirect(url_for("tasks.inbox"))


def _render_task(task, form, values: dict, errors: dict, message: str | None) -> str:
    """The task page: instance context on the left, the form (or who completed it) on the right."""
    instance = task.instance
    history = workflow.instance_history(current_user, instance)
    index = field_index([entry.form for entry in history] + [task.form])
    reassign_to = []
    if task.status == "open" and workflow.can_reassign(current_user, task):
        reassign_to = [user for user in workflow.task_candidates(task) if user.id != task.assignee_id]
    return render_template(
        "tasks/task.html",
        task=task,
        instance=instance,
        form=form,
        values=values,
        errors=errors,
        message=message,
        context=context_items(form.context, {**(instance.data or {}), **(task.data or {})}, index),
        choices=picker_choices(form),
        auto=auto_texts(instance.business_key),
        reassign_to=reassign_to,
    )


def _back(task_id: int) -> str:
    """Where a claim/release/reassign form returns to: its ``next`` path, else the task page."""
    return safe_next(request.form.get("next"), url_for("tasks.task", task_id=task_id))


@bp.route("/tasks/<int:task_id>/claim", methods=["POST"])
@login_required
def claim(task_id: int):
    """Take the task so colleagues see it is being worked on."""
    try:
        task = workflow.claim_task(current_user, task_id)
    except Conflict as exc:
        flash(plain(exc.message), "warning")
    else:
        key = task.instance.business_key
        flash(_("You claimed %(step)s of %(key)s.", step=task.name, key=key), "success")
    return redirect(_back(task_id))


@bp.route("/tasks/<int:task_id>/release", methods=["POST"])
@login_required
def release(task_id: int):
    """Give the task back to its role's queue."""
    try:
        task = workflow.release_task(current_user, task_id)
    except Conflict as exc:
        flash(plain(exc.message), "warning")
    else:
        flash(_("You released %(step)s of %(key)s.", step=task.name, key=task.instance.business_key), "info")
    return redirect(_back(task_id))


@bp.route("/tasks/<int:task_id>/reassign", methods=["POST"])
@login_required
def reassign(task_id: int):
    """Hand the task to another holder of its role (managers of the role only)."""
    try:
        task = workflow.reassign_task(current_user, task_id, request.form.get("username", ""))
    except (Conflict, InvalidInput) as exc:
        flash(plain(exc.message), "warning")
    else:
        name = task.assignee.display_name if task.assignee else ""
        flash(_("%(step)s is now assigned to %(name)s.", step=task.name, name=name), "success")
    return redirect(_back(task_id))
