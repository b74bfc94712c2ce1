"""APScheduler wakes the platform; the database stays the source of truth (DESIGN.md)."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

log = logging.getLogger(__name__)

#: How often the scheduler looks for due timers, in seconds.
POLL_SECONDS = 1.0
#: How often the end of the audit log is signed into the checkpoint file, in seconds.
CHECKPOINT_SECONDS = 60


def start_scheduler(app: Flask) -> BackgroundScheduler:
    """Start a background scheduler whose job fires due timers inside an app context."""
    scheduler = BackgroundScheduler(timezone="UTC")

    def tick() -> None:
        from app.services.messaging import deliver_pending
        from app.services.schedules import fire_due_schedules
        from app.services.timers import fire_due_timers

        with app.app_context():
            try:
                fire_due_timers()
            except Exception:  # a failing tick must not stop the scheduler; the timer stays due
                log.exception("firing due timers failed")
            try:
                fire_due_schedules()
            except Exception:
                log.exception("starting scheduled processes failed")
            try:
                deliver_pending()  # retries of messages that found no receiver yet
            except Exception:
                log.exception("delivering messages failed")

    def checkpoint() -> None:
        from app.services.audit import write_checkpoint

        with app.app_context():
            try:
                write_checkpoint()
            except Exception:
                log.exception("writing the audit checkpoint failed")

    every = {"max_instances": 1, "coalesce": True}
    scheduler.add_job(tick, "interval", seconds=POLL_SECONDS, id="fire_due_timers", **every)
    scheduler.add_job(checkpoint, "interval", seconds=CHECKPOINT_SECONDS, id="audit_checkpoint", **every)
    scheduler.start()
    app.extensions["itsm_scheduler"] = scheduler
    return scheduler
