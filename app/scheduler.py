"""APScheduler wakes the platform; the database stays the source of truth (DESIGN.md)."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

log = logging.getLogger(__name__)

#: How often the scheduler looks for due timers, in seconds.
POLL_SECONDS = 1.0


def start_scheduler(app: Flask) -> BackgroundScheduler:
    """Start a background scheduler whose job fires due timers inside an app context."""
    scheduler = BackgroundScheduler(timezone="UTC")

    def tick() -> None:
        from app.services.timers import fire_due_timers

        with app.app_context():
            try:
                fire_due_timers()
            except Exception:  # a failing tick must not stop the scheduler; the timer stays due
                log.exception("firing due timers failed")

    scheduler.add_job(
        tick, "interval", seconds=POLL_SECONDS, id="fire_due_timers", max_instances=1, coalesce=True
    )
    scheduler.start()
    app.extensions["itsm_scheduler"] = scheduler
    return scheduler
