"""The shared tail of every command: store what the engine returned, in the caller's transaction."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessInstance, Timer, User
from app.roles import REQUESTER
from app.services import audit, effects, messaging, notifications
from app.services.errors import DomainError
from app.services.runtime import get_runtime
from engine import CommandResult, ProcessPackage


def json_safe(value: Any) -> Any:
    """Task data as plain JSON (dates become ISO strings) so that it stores and hashes the same everywhere."""
    return json.loads(json.dumps(value, default=str))


def apply_result(
    instance: ProcessInstance,
    result: CommandResult,
    now: datetime,
    package: ProcessPackage | None = None,
    actor: User | None = None,
) -> list[HumanTask]:
    """Write the engine's outcome: instance state, human tasks, timers, subscriptions, outbox, notices.

    Everything lands in the caller's transaction; messages are delivered after it commits.
    """
    package = package or get_runtime().package_for(instance.version)
    data = json_safe(result.data)
    instance.snapshot = result.snapshot
    instance.status = result.status
    instance.data = data
    instance.completed_elements = list(result.completed_elements)
    instance.active_elements = list(result.active_elements)
    instance.updated_at = now
    if data.get("title") and not instance.title:
        instance.title = str(data["title"])[:300]
    if result.status != "running":
        instance.ended_at = now
        # The end event is the last event reached before the process ended.
        reached = [fact.element_id for fact in result.facts if fact.kind == "event_reached"]
        if reached:
            instance.end_event = reached[-1]
    with db.session.no_autoflush:  # one flush at commit instead of one before every query
        _sync_timers(instance, result)
        created = _sync_tasks(instance, result, data, now, package)
        _due_dates(instance, result, package)
        messaging.sync_subscriptions(instance, result)
        messaging.queue(instance, result, now)
        _notices(instance, result, data, now, package)
    _effects(instance, result, data, now, package, actor)
    return created


def _effects(
    instance: ProcessInstance,
    result: CommandResult,
    data: dict,
    now: datetime,
    package: ProcessPackage,
    actor: User | None,
) -> None:
    """Registry writes declared by the elements this command completed, in its transaction."""
    declared = [
        fact
        for fact in result.facts
        if fact.kind not in {"started", "ended", "cancelled"}
        and effects.effect_of(package.element_properties.get(fact.element_id, {}))
    ]
    if not declared:
        return
    who = actor or messaging.system_user()
    for fact in declared:
        effects.run(who, instance, data, now, package.element_properties[fact.element_id])


def _sync_tasks(
    instance: ProcessInstance, result: CommandResult, data: dict, now: datetime, package: ProcessPackage
) -> list:
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
        own_data = _task_data(spec)
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
            data=own_data,
        )
        db.session.add(task)
        created.append(task)
        if personal and assignee_id is not None:
            _tell_assignee(instance, task, assignee_id, now)
    return created


def _due_dates(instance: ProcessInstance, result: CommandResult, package: ProcessPackage) -> None:
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
    notifications.notify([user], text, instance=instance, element_id=task.element_id, at=now)


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


def _notices(
    instance: ProcessInstance, result: CommandResult, data: dict, now: datetime, package: ProcessPackage
) -> None:
    """Notices declared on the elements this command completed, and ``notify`` calls of scripts."""
    for fact in result.facts:
        props = package.element_properties.get(fact.element_id, {})
        if fact.kind in {"started", "ended", "cancelled"} or not props.get("notifyTo"):
            continue
        text = notifications.render_text(props.get("notifyText") or fact.name, data)
        users = notifications.resolve_recipients(props["notifyTo"], instance, data)
        notifications.notify(users, text, instance=instance, element_id=fact.element_id, at=now)
    for call in result.calls:
        if call.function != "notify":
            continue
        args = list(call.args) + [None, None]
        to = call.kwargs.get("to", args[0])
        text = call.kwargs.get("text", args[1])
        if isinstance(to, str) and isinstance(text, str):
            users = notifications.resolve_recipients(to, instance, data)
            notifications.notify(users, text, instance=instance, element_id=call.element_id, at=now)


def _priority(data: dict) -> str | None:
    value = data.get("priority")
    return str(value)[:8] if value else None


def _sync_timers(instance: ProcessInstance, result: CommandResult) -> None:
    """Mirror the engine's waiting timers into rows; a fired repeating timer is re-armed for its next due."""
    waiting = {timer.task_id: timer for timer in result.timers}
    rows = db.session.scalars(select(Timer).where(Timer.instance_id == instance.id))
    for row in rows:
        timer = waiting.pop(row.engine_task_id, None)
        if timer is None:
            if row.fired_at is None:
                db.session.delete(row)  # its task moved on: the timer will never fire
        elif row.fired_at is None or timer.due_at > row.due_at:
            row.due_at = timer.due_at
            row.fired_at = row.lease_owner = row.lease_expires_at = None
    for timer in waiting.values():
        db.session.add(
            Timer(
                instance_id=instance.id,
                engine_task_id=timer.task_id,
                element_id=timer.element_id,
                due_at=timer.due_at,
            )
        )


def record(
    kind: str,
    actor: str | None,
    instance: ProcessInstance,
    payload: dict,
    result: CommandResult,
    now: datetime,
) -> None:
    """Append the command's audit event: its full input and the tasks and facts it led to."""
    outcome = {
        "status": result.status,
        "open_tasks": [
            {"engine_task_id": t.task_id, "element_id": t.element_id, "name": t.name, "role": t.role}
            for t in result.open_tasks
        ],
        "timers": [{"element_id": t.element_id, "due_at": t.due_at.isoformat()} for t in result.timers],
        "facts": [
            {
                "kind": f.kind,
                "element_id": f.element_id,
                "name": f.name,
                "lane": f.lane,
                "at": f.at.isoformat(),
            }
            for f in result.facts
        ],
        "calls": [
            json_safe(
                {"element_id": c.element_id, "function": c.function, "args": c.args, "kwargs": c.kwargs}
            )
            for c in result.calls
        ],
        "messages": [
            json_safe({"name": m.name, "correlation": m.correlation, "payload": m.payload})
            for m in result.messages
        ],
    }
    audit.append(
        kind=kind, actor=actor, instance_id=instance.id, payload=json_safe(payload), result=outcome, at=now
    )


def command(fn):
    """Run a service command so that any failure leaves the session clean (nothing half-written survives)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise

    return wrapper
