"""Timer lateness at a steady 100 timers per second for one minute (target: p99 <= 1 s).

6,000 instances wait on timers due 10 ms apart, starting a few seconds after they are created. The platform's
in-process scheduler (APScheduler waking at the next announced due time, polling once a second) fires them;
lateness = fire time - due time, as recorded in each timer's audit event. Printed as percentiles, and the
fired rate as a fraction of the offered 100/s.

Run: ``python -m bench.timer_lateness [seconds] [per_second]`` (default 60 100). SQLite file database.
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from bench.timer_fixture import create_waiting_instances, make_bench_app, prepare

logging.getLogger("apscheduler").setLevel(logging.WARNING)


def main() -> None:
    """Offer the load, wait for every timer, print the lateness distribution."""
    from app.models import AuditEvent, Timer
    from app.scheduler import start_scheduler
    from app.services.core import get_runtime

    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    rate = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    count = seconds * rate
    with tempfile.TemporaryDirectory() as folder:
        app = make_bench_app(f"sqlite:///{Path(folder) / 'lateness.sqlite'}")
        prepare(app)
        with app.app_context():
            lead = timedelta(seconds=5 + count / 2000)  # time to write the instances before the first is due
            first = get_runtime().now() + lead
        due_times = [first + timedelta(seconds=i / rate) for i in range(count)]
        create_waiting_instances(app, due_times)
        scheduler = start_scheduler(app)
        with app.app_context():
            get_runtime().announce(due_times[0])
        deadline = time.monotonic() + seconds + lead.total_seconds() + 120
        try:
            while time.monotonic() < deadline:
                time.sleep(1)
                with app.app_context():
                    left = db.session.scalar(select(func.count(Timer.id)).where(Timer.fired_at.is_(None)))
                if not left:
                    break
        finally:
            scheduler.shutdown(wait=True)
        with app.app_context():
            late = sorted(
                e.payload["lateness_s"]
                for e in db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "fire_timer"))
            )
            db.engine.dispose()
    if len(late) < count:
        print(f"only {len(late)} of {count} timers fired")
    quantiles = statistics.quantiles(late, n=100)
    span = seconds
    print(f"{len(late)} timers offered at {rate}/s for {span} s on SQLite")
    print(
        f"lateness p50 {quantiles[49] * 1000:.0f} ms, p99 {quantiles[98] * 1000:.0f} ms, "
        f"max {late[-1] * 1000:.0f} ms (target p99 <= 1000 ms)"
    )


if __name__ == "__main__":
    main()
