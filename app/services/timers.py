"""Firing due timers: the database says what is due; a lease makes each fire once across processes."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import Timer
from app.services import commands, messaging
from app.services.instances import _lock_instance
from app.services.runtime import get_runtime

#: How long a claimed timer stays reserved for its claimant; a crashed claimant's timers are free after it.
LEASE = timedelta(seconds=60)


def worker_id() -> str:
    """This process's name in leases (host and pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def next_due_at():
    """When the earliest unfired timer comes due (None when nothing waits)."""
    return db.session.scalar(
        select(Timer.due_at).where(Timer.fired_at.is_(None)).order_by(Timer.due_at).limit(1)
    )


def _claim(limit: int, owner: str, lease: timedelta) -> list[int]:
    """Lease up to ``limit`` due timers (PostgreSQL: SKIP LOCKED so that workers never wait on each other)."""
    now = get_runtime().now()
    query = (
        select(Timer)
        .where(
            Timer.fired_at.is_(None),
            Timer.due_at <= now,
            (Timer.lease_expires_at.is_(None)) | (Timer.lease_expires_at < now),
        )
        .order_by(Timer.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(db.session.scalars(query))
    for row in rows:
        row.lease_owner = owner
        row.lease_expires_at = now + lease
    ids = [row.id for row in rows]
    db.session.commit()
    return ids


def fire_due_timers(limit: int = 100, *, lease: timedelta = LEASE, verify_ownership: bool = True) -> int:
    """Fire every due timer this worker can lease; returns how many fired.

    :param verify_ownership: re-check after locking that this worker still owns the lease and the timer has
        not fired. Only the exactly-once benchmark turns it off, as the control run that must show duplicates.
    """
    owner = worker_id()
    fired = 0
    for timer_id in _claim(limit, owner, lease):
        try:
            fired += _fire_one(timer_id, owner, verify_ownership)
        except StaleDataError:  # SQLite: another thread changed the instance first; the timer is re-checked
            continue
    return fired


@commands.command
def _fire_one(timer_id: int, owner: str, verify_ownership: bool = True) -> int:
    runtime = get_runtime()
    timer = db.session.get(Timer, timer_id)
    if timer is None:
        return 0
    instance = _lock_instance(timer.instance_id)
    db.session.refresh(timer)
    now = runtime.now()
    # Fire only while this worker still owns the lease: a slow worker whose lease ran out must not fire too.
    lost = timer.fired_at is not None or timer.lease_owner != owner or timer.lease_expires_at < now
    if verify_ownership and lost:
        db.session.rollback()
        return 0
    timer.fired_at = now
    lateness = (now - timer.due_at).total_seconds()
    result = runtime.engine.fire_due_timers(runtime.package_for(instance.version), instance.snapshot)
    commands.apply_result(instance, result, now)
    commands.record(
        "fire_timer",
        None,
        instance,
        {
            "element_id": timer.element_id,
            "engine_task_id": timer.engine_task_id,
            "due_at": timer.due_at.isoformat(),
            "fired_at": now.isoformat(),
            "lateness_s": lateness,
        },
        result,
        now,
    )
    db.session.commit()
    messaging.deliver_after_commit()
    return 1
