"""The shared tail of every command: store what the engine returned, in the caller's transaction."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessInstance, Timer
from app.roles import REQUESTER
from app.services import audit
from engine import CommandResult


def json_safe(value: Any) -> Any:
    """Task data as plain JSON (dates become ISO strings) so that it stores and hashes the same everywhere."""
    return json.loads(json.dumps(value, default=str))


def apply_result(instance: ProcessInstance, result: CommandResult, now: datetime) -> list[HumanTask]:
    """Write the engine's outcome onto the instance, its human tasks and its timers; returns the new tasks."""
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
    _sync_timers(instance, result)
    return _sync_tasks(instance, result, data, now)


def _sync_tasks(instance: ProcessInstance, result: CommandResult, data: dict, now: datetime) -> list:
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
            # Requester tasks (confirm the fix...) go to the person who raised the request, not to everyone.
            assignee_id=instance.started_by_id if spec.role == REQUESTER else None,
        )
        db.session.add(task)
        created.append(task)
    return created


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
