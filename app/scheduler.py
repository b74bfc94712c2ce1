"""APScheduler wakes the platform; the database stays the source of truth (DESIGN.md).

Every process that runs the scheduler polls once a second (a safety net, and how work committed by other
processes is found) and, in between, wakes exactly when the next timer or scheduled start in the database
is due: commands that create timers announce the next due time through ``Runtime.wake``. Several processes
(gunicorn workers, hosts) may run it at once: timers and schedules are claimed with leases, so each fires
once.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

log = logging.getLogger(__name__)

#: How often the scheduler looks for due work even when nobody announced any, in seconds.
POLL_SECONDS = 1.0
#: How often the end of the audit log is signed into the checkpoint file, in seconds.
CHECKPOINT_SECONDS = 60


def run_due_work(app: Flask) -> datetime | None:
    """Fire due timers and scheduled starts, retry messages; return when the next known work is due."""
    from app.services.workflow import (
        deliver_pending,
        fire_due_schedules,
        fire_due_timers,
        next_due_at,
        next_schedule_at,
    )

    with app.app_context():
        for job in (fire_due_timers, fire_due_schedules, deliver_pending):
            try:
                job()
            except Exception:  # a failing job must not stop the others; what is due stays due
                log.exception("scheduler job %s failed", job.__name__)
        dues = [due for due in (next_due_at(), next_schedule_at()) if due is not None]
        return min(dues) if dues else None


def start_scheduler(app: Flask) -> BackgroundScheduler:
    """Start the background scheduler of this process (see the module docstring)."""
    scheduler = BackgroundScheduler(timezone="UTC")
    lock = threading.Lock()
    running = threading.Lock()  # the poll and a wake-up never run the due work at the same time

    def wake_at(when: datetime | None) -> None:
        """Run the due work at ``when`` (if sooner than the wake-up already planned)."""
        if when is None:
            return
        with lock:
            planned = scheduler.get_job("wake")
            if planned is not None and planned.next_run_time is not None and planned.next_run_time <= when:
                return
            scheduler.add_job(
                tick, "date", run_date=when, id="wake", replace_existing=True, misfire_grace_time=None
            )

    def tick() -> None:
        if not running.acquire(blocking=False):
            return  # the tick in progress plans the next wake-up when it ends
        try:
            next_due = run_due_work(app)
        finally:
            running.release()
        wake_at(next_due)

    def checkpoint() -> None:
        from app.services.governance import write_checkpoint

        with app.app_context():
            try:
                write_checkpoint()
            except Exception:
                log.exception("writing the audit checkpoint failed")

    every = {"max_instances": 1, "coalesce": True}
    scheduler.add_job(tick, "interval", seconds=POLL_SECONDS, id="poll", **every)
    scheduler.add_job(checkpoint, "interval", seconds=CHECKPOINT_SECONDS, id="audit_checkpoint", **every)
    scheduler.start()
    app.extensions["itsm_runtime"].wake = wake_at
    app.extensions["itsm_scheduler"] = scheduler
    return scheduler
