"""Shared set-up of the timer benchmarks: an app on a given database with many instances waiting on timers."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

from app.extensions import db

FIXTURES = Path(__file__).parent / "fixtures"


def make_bench_app(url: str):
    """The platform on ``url`` with only the benchmark process deployed."""
    from tests.conftest import make_app

    return make_app(url, PROCESSES_DIR=str(FIXTURES / "processes"), FORMS_DIR=str(FIXTURES / "forms"))


def prepare(app) -> None:
    """Schema, demo users, the deployed benchmark process."""
    from tests.conftest import prepare_database

    prepare_database(app)


def create_waiting_instances(app, due_times: list[datetime]) -> None:
    """One instance per due time, each waiting on its timer; rows are written in bulk (the engine runs once
    per distinct due time, the snapshot is shared: instances are independent copies)."""
    from sqlalchemy import insert, select

    from app.models import ProcessInstance, ProcessVersion, Timer, User
    from app.services.core import get_runtime

    with app.app_context():
        runtime = get_runtime()
        version = db.session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == "tick"))
        package = runtime.package_for(version)
        starter = db.session.scalar(select(User.id).where(User.username == "desk"))
        cache: dict[datetime, tuple[str, str, str]] = {}
        instances, timers = [], []
        for number, due in enumerate(due_times):
            if due not in cache:
                result = runtime.engine.start(package, {"due_at": due.isoformat()})
                [timer] = result.timers
                cache[due] = (result.snapshot, timer.task_id, timer.element_id)
            snapshot, task_id, element_id = cache[due]
            instances.append(
                {
                    "version_id": version.id,
                    "process_id": "tick",
                    "snapshot": snapshot,
                    "business_key": f"TCK-{uuid.uuid4().hex[:12]}-{number}",
                    "title": "",
                    "status": "running",
                    "data": {},
                    "completed_elements": [],
                    "active_elements": ["wait"],
                    "started_by_id": starter,
                    "lock_version": 1,
                    "started_at": runtime.now(),
                    "updated_at": runtime.now(),
                }
            )
            timers.append((task_id, element_id, due))
        for start in range(0, len(instances), 1000):
            chunk = instances[start : start + 1000]
            ids = db.session.scalars(
                insert(ProcessInstance).returning(ProcessInstance.id, sort_by_parameter_order=True), chunk
            ).all()
            db.session.execute(
                insert(Timer),
                [
                    {
                        "instance_id": instance_id,
                        "engine_task_id": task_id,
                        "element_id": element_id,
                        "due_at": due,
                    }
                    for instance_id, (task_id, element_id, due) in zip(
                        ids, timers[start : start + 1000], strict=True
                    )
                ],
            )
        db.session.commit()
