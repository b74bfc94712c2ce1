"""API routes: parse with marshmallow -> one service call -> dump with marshmallow."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import current_user, login_required

from app.api.blueprint import bp
from app.api.common import json_body, load, locale, paged, tz
from app.api.openapi import openapi_document
from app.api.schemas import (
    CompleteInput,
    HistoryOut,
    InboxQuery,
    InstanceOut,
    ProcessOut,
    ReassignInput,
    StartInput,
    TaskOut,
)
from app.services import workflow


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document of this API."""
    return jsonify(openapi_document())


@bp.get("/processes")
@login_required
def list_processes():
    """Processes the caller may start, with their start forms."""
    return jsonify(items=ProcessOut(many=True).dump(workflow.startable_processes(current_user)))


@bp.post("/processes/<process_id>/instances")
@login_required
def start_instance(process_id: str):
    """Start a process with the start form's values."""
    body = load(StartInput(), json_body())
    instance = workflow.start_process(current_user, process_id, body["data"], locale=locale(), tz=tz())
    return jsonify(InstanceOut().dump(instance)), 201


@bp.get("/instances")
@login_required
def list_instances():
    """The caller's requests (``?all=1`` for process owners and auditors: every instance)."""
    page = request.args.get("page", 1, type=int)
    status = request.args.get("status") or None
    if request.args.get("all"):
        pagination = workflow.list_instances(
            current_user, status=status, page=page, process_id=request.args.get("process_id") or None
        )
    else:
        pagination = workflow.my_requests(current_user, status=status, page=page)
    return paged(pagination, InstanceOut(many=True))


@bp.get("/instances/<int:instance_id>")
@login_required
def get_instance(instance_id: int):
    """One instance with its open tasks."""
    return jsonify(InstanceOut().dump(workflow.get_instance(current_user, instance_id)))


@bp.get("/instances/<int:instance_id>/history")
@login_required
def get_history(instance_id: int):
    """Every command of the instance, in order."""
    instance = workflow.get_instance(current_user, instance_id)
    return jsonify(items=HistoryOut(many=True).dump(workflow.instance_history(current_user, instance)))


@bp.get("/tasks")
@login_required
def list_tasks():
    """The caller's inbox: open tasks of their roles."""
    query = load(InboxQuery(), request.args.to_dict())
    pagination = workflow.inbox(current_user, per_page=current_app.config["PAGE_SIZE"], **query)
    return paged(pagination, TaskOut(many=True))


@bp.get("/tasks/<int:task_id>")
@login_required
def get_task(task_id: int):
    """One task, with its form definition."""
    from app.api.schemas import FormOut
    from app.services.workflow import form_for_task

    task = workflow.get_task(current_user, task_id)
    return jsonify(task=TaskOut().dump(task), form=FormOut().dump(form_for_task(task)))


@bp.post("/tasks/<int:task_id>/claim")
@login_required
def claim_task(task_id: int):
    """Claim a task of one's role."""
    return jsonify(TaskOut().dump(workflow.claim_task(current_user, task_id)))


@bp.post("/tasks/<int:task_id>/release")
@login_required
def release_task(task_id: int):
    """Give a claimed task back to its role."""
    return jsonify(TaskOut().dump(workflow.release_task(current_user, task_id)))


@bp.post("/tasks/<int:task_id>/reassign")
@login_required
def reassign_task(task_id: int):
    """Hand a task to another holder of its role (managers)."""
    body = load(ReassignInput(), json_body())
    return jsonify(TaskOut().dump(workflow.reassign_task(current_user, task_id, body["username"])))


@bp.post("/tasks/<int:task_id>/complete")
@login_required
def complete_task(task_id: int):
    """Complete a task with its form's values; 422 with field errors when invalid, 409 when already done."""
    body = load(CompleteInput(), json_body())
    instance = workflow.complete_task(current_user, task_id, body["data"], locale=locale(), tz=tz())
    return jsonify(InstanceOut().dump(instance))


@bp.get("/cis")
@login_required
def list_cis():
    """Configuration items by code, paged (``?q=`` words, ``class``, ``status``); the CI picker uses it."""
    from app.api.registry_schemas import CIFullOut, CIQuery
    from app.services import registries

    query = load(CIQuery(), request.args.to_dict())
    return paged(registries.search_cis(current_user, per_page=100, **query), CIFullOut(many=True))


@bp.get("/csrf-token")
def csrf_token():
    """A CSRF token for scripts that use the session cookie (send it as the X-CSRFToken header)."""
    from flask_wtf.csrf import generate_csrf

    return jsonify(csrf_token=generate_csrf())


@bp.get("/instances/<int:instance_id>/replay")
@login_required
def replay(instance_id: int):
    """Re-execute the instance from its audit log and compare each step (auditors, process owners)."""
    from dataclasses import asdict

    from app.services.governance import replay_instance

    report = replay_instance(current_user, workflow.get_instance(current_user, instance_id))
    return jsonify(ok=report.ok, final_status=report.final_status, steps=[asdict(s) for s in report.steps])
