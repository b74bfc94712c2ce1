"""The steps that write one engine result into the database, in the command's transaction.

``apply`` runs them in order — instance state, timers, human tasks, due dates, message subscriptions and the
outbox, declared notices, platform effects — and ``record`` appends the command's audit event. None of the
steps commits or calls back into the pipeline; workflow/pipeline.py commits once after them.
"""

from __future__ import annotations

from datetime import datetime

from app.extensions import db
from app.models import HumanTask, ProcessInstance, User
from app.services.core import notices
from app.services.core.runtime import get_runtime
from app.services.core.unit import json_safe
from app.services.governance import audit
from app.services.governance.users import system_user
from app.services.workflow import effects, messages, task_rows, timer_rows
from engine import CommandResult, ProcessPackage

#: Facts about the instance as a whole (their element id is the process id), not about one element.
_INSTANCE_FACTS = {"started", "ended", "cancelled"}


def apply(
    instance: ProcessInstance,
    result: CommandResult,
    now: datetime,
    package: ProcessPackage | None = None,
    actor: User | None = None,
) -> list[HumanTask]:
    """Write the engine's outcome: instance state, timers, human tasks, subscriptions, outbox, notices,
    effects; returns the human tasks it opened. Messages are delivered after the commit."""
    package = package or get_runtime().package_for(instance.version)
    data = json_safe(result.data)
    _instance_state(instance, result, data, now)
    with db.session.no_autoflush:  # one flush at commit instead of one before every query
        timer_rows.sync_timers(instance, result)
        created = task_rows.sync_tasks(instance, result, data, now, package)
        task_rows.set_due_dates(instance, result, package)
        messages.sync_subscriptions(instance, result)
        messages.queue(instance, result, now)
        _declared_notices(instance, result, data, now, package)
    _effects(instance, result, data, now, package, actor)
    return created


def _instance_state(instance: ProcessInstance, result: CommandResult, data: dict, now: datetime) -> None:
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
        if fact.kind not in _INSTANCE_FACTS
        and effects.effect_of(package.element_properties.get(fact.element_id, {}))
    ]
    if not declared:
        return
    who = actor or system_user()
    for fact in declared:
        effects.run(who, instance, data, now, package.element_properties[fact.element_id])


def _declared_notices(
    instance: ProcessInstance, result: CommandResult, data: dict, now: datetime, package: ProcessPackage
) -> None:
    """Notices declared on the elements this command completed (``notifyTo``), and ``notify`` calls of
    scripts."""
    for fact in result.facts:
        props = package.element_properties.get(fact.element_id, {})
        if fact.kind in _INSTANCE_FACTS or not props.get("notifyTo"):
            continue
        text = notices.render_text(props.get("notifyText") or fact.name, data)
        users = notices.resolve_recipients(props["notifyTo"], instance, data)
        notices.notify(users, text, instance=instance, element_id=fact.element_id, at=now)
    for call in result.calls:
        if call.function != "notify":
            continue
        args = list(call.args) + [None, None]
        to = call.kwargs.get("to", args[0])
        text = call.kwargs.get("text", args[1])
        if isinstance(to, str) and isinstance(text, str):
            users = notices.resolve_recipients(to, instance, data)
            notices.notify(users, text, instance=instance, element_id=call.element_id, at=now)


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
