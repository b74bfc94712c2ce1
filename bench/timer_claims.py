"""Exactly once across processes: 2 worker processes fire 10,000 due timers on PostgreSQL; one is killed with
SIGKILL midway. Counted from the audit log: timers never fired (missed) and timers fired more than once.

A control run does the same with the ownership re-check turned off (``verify_ownership=False``) and a lease
that expires at once, so that claims overlap: it must show duplicates, or the benchmark could not fail.

Run: ``python -m bench.timer_claims [count]`` (default 10000). Needs the PostgreSQL server binaries (as
``make test`` installs them); it starts a throw-away server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from bench.timer_fixture import create_waiting_instances, make_bench_app, prepare
from tests.postgres import PostgresServer

BATCH = 100


def worker(url: str, verify: bool, lease_seconds: float) -> None:
    """One worker process: fire due timers until none is left for a while."""
    from app.services.workflow import fire_due_timers

    app = make_bench_app(url)
    idle = 0
    with app.app_context():
        while idle < 20:
            fired = fire_due_timers(BATCH, lease=timedelta(seconds=lease_seconds), verify_ownership=verify)
            idle = 0 if fired else idle + 1
            if not fired:
                time.sleep(0.1)


def _fired(app) -> Counter:
    from app.models import AuditEvent

    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.instance_id, func.count(AuditEvent.id))
            .where(AuditEvent.kind == "fire_timer")
            .group_by(AuditEvent.instance_id)
        )
        return Counter(dict(rows.all()))


def _waiting_ids(app) -> set[int]:
    from app.models import Timer

    with app.app_context():
        return set(db.session.scalars(select(Timer.instance_id)))


def run(server: PostgresServer, count: int, *, verify: bool, lease_seconds: float, kill_after: float) -> dict:
    """Create ``count`` due timers, run 2 workers, SIGKILL one after ``kill_after`` of them fired."""
    name = server.create_database("claims_verify" if verify else "claims_control")
    url = server.url(name)
    app = make_bench_app(url)
    prepare(app)
    with app.app_context():
        from app.services.core import get_runtime

        due = get_runtime().now() + timedelta(seconds=2)
    create_waiting_instances(app, [due] * count)
    while datetime.now(UTC) < due:  # every timer is due before the workers start
        time.sleep(0.1)
    expected = _waiting_ids(app)
    command = [
        sys.executable,
        "-m",
        "bench.timer_claims",
        "--worker",
        url,
        "1" if verify else "0",
        str(lease_seconds),
    ]
    workers = [subprocess.Popen(command, env=dict(os.environ)) for _ in range(2)]
    began = time.perf_counter()
    killed = False
    while any(w.poll() is None for w in workers):
        if not killed and sum(_fired(app).values()) >= count * kill_after:
            workers[0].send_signal(signal.SIGKILL)
            killed = True
        time.sleep(0.2)
        if time.perf_counter() - began > 900:
            for w in workers:
                w.kill()
            raise SystemExit("workers did not finish within 15 minutes")
    fired = _fired(app)
    with app.app_context():
        db.engine.dispose()
    return {
        "timers": count,
        "missed": len(expected - set(fired)),
        "fired_twice_or_more": sum(1 for n in fired.values() if n > 1),
        "seconds": time.perf_counter() - began,
        "killed_midway": killed,
    }


def main() -> None:
    """Run the real and the control run and print what the audit log says."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    with PostgresServer() as server:
        real = run(server, count, verify=True, lease_seconds=5, kill_after=0.3)
        control = run(server, max(count // 5, 500), verify=False, lease_seconds=0.0, kill_after=2.0)
    print(
        f"exactly once, {real['timers']} timers, 2 workers, one SIGKILLed midway ({real['killed_midway']}): "
        f"missed {real['missed']}, fired twice {real['fired_twice_or_more']}, {real['seconds']:.0f} s"
    )
    print(
        f"control without the ownership re-check, {control['timers']} timers: "
        f"missed {control['missed']}, fired twice {control['fired_twice_or_more']} (must be > 0)"
    )
    if real["missed"] or real["fired_twice_or_more"] or not control["fired_twice_or_more"]:
        raise SystemExit(1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3] == "1", float(sys.argv[4]))
    else:
        main()
