"""Pipeline step: the human-task rows of an instance follow the engine's open tasks.

A new open task becomes a row offered to its lane's role, or to one person (the requester's confirmation, a
task with an ``assignee`` property); a task the engine no longer offers is withdrawn. A task is due when the
first interrupting timer on it fires (its SLA deadline).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessInstance, User
from app.roles import REQUESTER
from app.services.core import notices
from app.services.core.runtime import get_runtime
from app.services.core.unit import json_safe
from app.services.errors import DomainError
from engine import CommandResult, ProcessPackage


def sync_tasks(
    instance: ProcessInstance, result: CommandResult, data: dict, now: datetime, package: ProcessPackage
) -> list[HumanTask]:
    """Withdraw rows of tasks the engine closed, add rows for new open tasks; returns the new rows."""
    open_ids = {task.task_id for task in result.open_tasks}
    existing = {task.engine_task_id: task for task in instance.tasks}
    for task in existing.values():
        if task.status == "open" and task.engine_task_id not in open_ids:
            task.status = "cancelled"
            task.completed_at = now
    created = []
    for spec in result.open_tasks:
        if spec.task_id in existing:
            continue
        assignee_id, personal = _assignee(instance, spec, package)
        task = HumanTask(
            instance=instance,
            engine_task_id=spec.task_id,
            element_id=spec.element_id,
            name=spec.name,
            role=spec.role,
            form=spec.form,
            status="open",
            priority=_priority(data),
            created_at=now,
            assignee_id=assignee_id,
            personal=personal,
            data=_task_data(spec),
        )
        db.session.add(task)
        created.append(task)
        if personal and assignee_id is not None:
            _tell_assignee(instance, task, assignee_id, now)
    return created


def set_due_dates(instance: ProcessInstance, result: CommandResult, package: ProcessPackage) -> None:
    """A task is due when the first interrupting timer attached to it fires (its SLA deadline)."""
    deadlines: dict[str, datetime] = {}
    for timer in result.timers:
        attached, interrupting = package.boundary_events.get(timer.element_id, (None, False))
        if attached and interrupting:
            deadlines[attached] = min(deadlines.get(attached, timer.due_at), timer.due_at)
    for task in instance.tasks:
        if task.status == "open":
            task.due_at = deadlines.get(task.element_id)
    for task in db.session.new:
        if isinstance(task, HumanTask) and task.instance is instance and task.status == "open":
            task.due_at = deadlines.get(task.element_id)


def _tell_assignee(instance: ProcessInstance, task: HumanTask, user_id: int, now: datetime) -> None:
    """A task offered to one person (a confirmation, a vote) is announced to them: nobody else will do it."""
    user = db.session.get(User, user_id)
    if user is None or user.username == "system":
        return
    with force_locale(user.locale or "zh_CN"):
        text = str(_l("Waiting for you: %(step)s (%(record)s)", step=task.name, record=instance.business_key))
    notices.notify([user], text, instance=instance, element_id=task.element_id, at=now)


def _task_data(spec) -> dict | None:
    """The part of the engine task's data its form shows (context keys and prefills)."""
    try:
        form = get_runtime().forms.get(spec.form)
    except DomainError:
        return None
    keys = set(form.context) | {field.name for field in form.fields}
    return json_safe({key: value for key, value in spec.data.items() if key in keys}) or None


def _assignee(instance: ProcessInstance, spec, package: ProcessPackage) -> tuple[int | None, bool]:
    """Who a new task is offered to: requester tasks to the person who raised the request, tasks with an
    ``assignee`` property to the user their data names; everything else to the whole role."""
    key = package.element_properties.get(spec.element_id, {}).get("assignee")
    if key:
        username = spec.data.get(key)
        user_id = db.session.scalar(select(User.id).where(User.username == username)) if username else None
        return user_id, True
    if spec.role == REQUESTER:
        return instance.started_by_id, True
    return None, False


def _priority(data: dict) -> str | None:
    value = data.get("priority")
    return str(value)[:8] if value else None
