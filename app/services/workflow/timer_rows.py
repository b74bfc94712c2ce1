"""Pipeline step: an instance's timer rows follow the engine's waiting timers (the scheduler reads them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import ProcessInstance, Timer
from engine import CommandResult


def sync_timers(instance: ProcessInstance, result: CommandResult) -> None:
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


def next_due_at() -> datetime | None:
    """When the earliest unfired timer comes due (None when nothing waits)."""
    return db.session.scalar(
        select(Timer.due_at).where(Timer.fired_at.is_(None)).order_by(Timer.due_at).limit(1)
    )
