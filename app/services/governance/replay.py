"""Replay: re-execute an instance from its audit events against its pinned version and compare each step.

The audit log records every command's full input (form data, timer fire time, cancellation), so an auditor can
check that the recorded outcome (tasks opened, final status) is what the process definition gives for
that input. Engine task ids differ between runs; steps are matched by element id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, ProcessInstance, User
from app.services.core.runtime import get_runtime
from app.services.errors import Forbidden
from engine import CommandResult, Engine, EngineError

REPLAYED_KINDS = {
    "start",
    "start_by_message",
    "scheduled_start",
    "complete_task",
    "fire_timer",
    "deliver_message",
    "cancel",
}


@dataclass(frozen=True)
class ReplayStep:
    """One replayed command: what the log says followed, and what re-execution gives."""

    sequence: int
    kind: str
    element_id: str | None
    recorded: list[str]
    replayed: list[str]
    matches: bool
    error: str | None = None


@dataclass(frozen=True)
class ReplayReport:
    """The outcome of a replay: every step, and whether the history is reproduced."""

    instance_id: int
    steps: list[ReplayStep]
    final_status: str | None

    @property
    def ok(self) -> bool:
        """Every step reproduced, and the instance ends where the log says."""
        return all(step.matches for step in self.steps)


class _Clock:
    def __init__(self) -> None:
        self.at: datetime | None = None

    def __call__(self) -> datetime:
        return self.at


def replay_instance(actor: User, instance: ProcessInstance) -> ReplayReport:
    """Re-run the instance's commands in order; report, step by step, whether the outcome matches the log."""
    if not (actor.has_role("auditor") or actor.has_role("admin") or actor.has_role("process_owner")):
        raise Forbidden(_l("Only auditors and process owners may replay an instance."))
    runtime = get_runtime()
    package = runtime.package_for(instance.version)
    clock = _Clock()
    engine = Engine(
        clock=clock,
        script_limits=runtime.engine.script_limits,
        platform_functions=runtime.engine.platform_functions,
        lookups=runtime.engine.lookups,
    )
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.instance_id == instance.id, AuditEvent.kind.in_(REPLAYED_KINDS))
        .order_by(AuditEvent.sequence)
    )
    steps: list[ReplayStep] = []
    result: CommandResult | None = None
    for event in events:
        clock.at = event.at
        recorded = sorted(task["element_id"] for task in event.result.get("open_tasks", []))
        element_id = event.payload.get("element_id")
        try:
            result = _apply(engine, package, result, event)
        except (EngineError, LookupError) as exc:
            steps.append(ReplayStep(event.sequence, event.kind, element_id, recorded, [], False, str(exc)))
            break
        replayed = sorted(task.element_id for task in result.open_tasks)
        same = replayed == recorded and result.status == event.result.get("status")
        steps.append(ReplayStep(event.sequence, event.kind, element_id, recorded, replayed, same))
    final = result.status if result else None
    if steps and steps[-1].matches and final != instance.status:
        steps.append(ReplayStep(0, "final_status", None, [instance.status], [final or ""], False))
    return ReplayReport(instance.id, steps, final)


def _apply(engine: Engine, package, previous: CommandResult | None, event: AuditEvent) -> CommandResult:
    payload = event.payload
    if event.kind == "start":
        return engine.start(package, payload.get("data") or {})
    if event.kind == "start_by_message":
        first = engine.start(package, payload.get("data") or {}, message=payload["message"])
        return engine.deliver_message(
            package, first.snapshot, payload["message"], payload.get("payload") or {}
        )
    if event.kind == "scheduled_start":
        return engine.start(package, payload.get("data") or {}, complete_start_task=False, scheduled=True)
    if previous is None:
        raise LookupError("The log has no start event for this instance.")
    if event.kind == "complete_task":
        task = next((t for t in previous.open_tasks if t.element_id == payload.get("element_id")), None)
        if task is None:
            raise LookupError(f"No open task '{payload.get('element_id')}' at this point of the replay.")
        return engine.complete_task(package, previous.snapshot, task.task_id, payload.get("data") or {})
    if event.kind == "fire_timer":
        return engine.fire_due_timers(package, previous.snapshot)
    if event.kind == "deliver_message":
        return engine.deliver_message(
            package, previous.snapshot, payload["message"], payload.get("payload") or {}
        )
    return engine.cancel(package, previous.snapshot)
