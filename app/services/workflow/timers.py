"""Firing due timers: the database says what is due; a lease makes each fire once across processes."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import Timer
from app.services.core.runtime import get_runtime
from app.services.core.unit import command
from app.services.errors import Conflict
from app.services.workflow.pipeline import Command

#: How long a claimed timer stays reserved for its claimant; a crashed claimant's timers are free after it.
LEASE = timedelta(seconds=60)


def worker_id() -> str:
    """This process's name in leases (host and pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


@command
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
        except (StaleDataError, Conflict):  # another command changed the instance first; re-checked later
            continue
    return fired


def _fire_one(timer_id: int, owner: str, verify_ownership: bool = True) -> int:
    with Command() as cmd:
        timer = db.session.get(Timer, timer_id)
        if timer is None:
            return 0
        instance = cmd.lock(timer.instance_id)
        db.session.refresh(timer)
        # Fire only while this worker owns the lease: a slow worker whose lease ran out must not fire too.
        lost = timer.fired_at is not None or timer.lease_owner != owner or timer.lease_expires_at < cmd.now
        if verify_ownership and lost:
            return 0
        timer.fired_at = cmd.now
        lateness = (cmd.now - timer.due_at).total_seconds()
        package = cmd.package(instance)
        result = cmd.runtime.engine.fire_due_timers(package, instance.snapshot)
        cmd.apply(
            instance,
            result,
            kind="fire_timer",
            package=package,
            payload={
                "element_id": timer.element_id,
                "engine_task_id": timer.engine_task_id,
                "due_at": timer.due_at.isoformat(),
                "fired_at": cmd.now.isoformat(),
                "lateness_s": lateness,
            },
        )
    return 1
