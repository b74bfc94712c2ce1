"""API routes: parse with marshmallow -> one service call -> dump with marshmallow."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import Schema, ValidationError

from app.api import bp
from app.api.openapi import openapi_document
from app.api.schemas import (
    CompleteInput,
    HistoryOut,
    InboxQuery,
    InstanceOut,
    PageOut,
    ProcessOut,
    ReassignInput,
    StartInput,
    TaskOut,
)
from app.services import instances, tasks
from app.services.errors import InvalidInput


def _load(schema: Schema, source: dict | None) -> dict:
    """Validate input; a load error becomes 422 naming each field."""
    if source is None:
        raise InvalidInput(
            _l("The request body must be a JSON object."), {"_body": [_l("Send a JSON object.")]}
        )
    try:
        return schema.load(source)
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_body": exc.messages}
        raise InvalidInput(_l("The request has invalid fields."), errors) from exc


def _json_body() -> dict | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def _tz() -> str:
    return current_user.timezone or current_app.config["BABEL_DEFAULT_TIMEZONE"]


def _page(pagination, schema: Schema):
    meta = PageOut().dump(pagination)
    return jsonify(items=schema.dump(pagination.items), **meta)


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document of this API."""
    return jsonify(openapi_document())


@bp.get("/processes")
@login_required
def list_processes():
    """Processes the caller may start, with their start forms."""
    return jsonify(items=ProcessOut(many=True).dump(instances.startable_processes(current_user)))


@bp.post("/processes/<process_id>/instances")
@login_required
def start_instance(process_id: str):
    """Start a process with the start form's values."""
    body = _load(StartInput(), _json_body())
    instance = instances.start_process(current_user, process_id, body["data"], locale=_locale(), tz=_tz())
    return jsonify(InstanceOut().dump(instance)), 201


@bp.get("/instances")
@login_required
def list_instances():
    """The caller's requests (``?all=1`` for process owners and auditors: every instance)."""
    page = request.args.get("page", 1, type=int)
    status = request.args.get("status") or None
    if request.args.get("all"):
        pagination = instances.list_instances(
            current_user, status=status, page=page, process_id=request.args.get("process_id") or None
        )
    else:
        pagination = instances.my_requests(current_user, status=status, page=page)
    return _page(pagination, InstanceOut(many=True))


@bp.get("/instances/<int:instance_id>")
@login_required
def get_instance(instance_id: int):
    """One instance with its open tasks."""
    return jsonify(InstanceOut().dump(instances.get_instance(current_user, instance_id)))


@bp.get("/instances/<int:instance_id>/history")
@login_required
def get_history(instance_id: int):
    """Every command of the instance, in order."""
    instance = instances.get_instance(current_user, instance_id)
    return jsonify(items=HistoryOut(many=True).dump(instances.instance_history(current_user, instance)))


@bp.get("/tasks")
@login_required
def list_tasks():
    """The caller's inbox: open tasks of their roles."""
    query = _load(InboxQuery(), request.args.to_dict())
    pagination = tasks.inbox(current_user, per_page=current_app.config["PAGE_SIZE"], **query)
    return _page(pagination, TaskOut(many=True))


@bp.get("/tasks/<int:task_id>")
@login_required
def get_task(task_id: int):
    """One task, with its form definition."""
    from app.api.schemas import FormOut
    from app.services.forms import form_for_task

    task = tasks.get_task(current_user, task_id)
    return jsonify(task=TaskOut().dump(task), form=FormOut().dump(form_for_task(task)))


@bp.post("/tasks/<int:task_id>/claim")
@login_required
def claim_task(task_id: int):
    """Claim a task of one's role."""
    return jsonify(TaskOut().dump(tasks.claim(current_user, task_id)))


@bp.post("/tasks/<int:task_id>/release")
@login_required
def release_task(task_id: int):
    """Give a claimed task back to its role."""
    return jsonify(TaskOut().dump(tasks.release(current_user, task_id)))


@bp.post("/tasks/<int:task_id>/reassign")
@login_required
def reassign_task(task_id: int):
    """Hand a task to another holder of its role (managers)."""
    body = _load(ReassignInput(), _json_body())
    return jsonify(TaskOut().dump(tasks.reassign(current_user, task_id, body["username"])))


@bp.post("/tasks/<int:task_id>/complete")
@login_required
def complete_task(task_id: int):
    """Complete a task with its form's values; 422 with field errors when invalid, 409 when already done."""
    body = _load(CompleteInput(), _json_body())
    instance = instances.complete_task(current_user, task_id, body["data"], locale=_locale(), tz=_tz())
    return jsonify(InstanceOut().dump(instance))


@bp.get("/cis")
@login_required
def list_cis():
    """Configuration items by code, paged (``?q=`` words, ``class``, ``status``); the CI picker uses it."""
    from app.api.registry_schemas import CIFullOut, CIQuery
    from app.services import cmdb

    query = _load(CIQuery(), request.args.to_dict())
    return _page(cmdb.search_cis(current_user, per_page=100, **query), CIFullOut(many=True))


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

    from app.services.replay import replay_instance

    report = replay_instance(current_user, instances.get_instance(current_user, instance_id))
    return jsonify(ok=report.ok, final_status=report.final_status, steps=[asdict(s) for s in report.steps])
