"""Due timers fire through the platform: from the database rows, on the platform clock, once, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, HumanTask, Timer
from app.services import workflow
from app.services.core import get_runtime
from tests.conftest import ROOT, direct_writes, make_app, prepare_database, user

FIXTURE = ROOT / "tests" / "fixtures" / "timer_platform"


@pytest.fixture
def timer_app(tmp_path):
    app = make_app(
        f"sqlite:///{tmp_path / 'timers.sqlite'}",
        PROCESSES_DIR=str(FIXTURE / "processes"),
        FORMS_DIR=str(FIXTURE / "forms"),
    )
    prepare_database(app)
    with app.app_context(), direct_writes():
        yield app
        db.session.remove()
        db.engine.dispose()


def _open(instance_id):
    return sorted(
        db.session.scalars(
            select(HumanTask.element_id).where(
                HumanTask.instance_id == instance_id, HumanTask.status == "open"
            )
        )
    )


def test_boundary_timers_fire_when_the_clock_passes_them(timer_app):
    runtime = get_runtime()
    start = runtime.now()
    runtime.clock = lambda: start  # time stands still until the test moves it
    l1 = user("l1")
    instance = workflow.start_process(l1, "timers", {"title": "disk full"}, locale="en", tz="UTC")
    assert _open(instance.id) == ["investigate"]
    waiting = db.session.scalars(select(Timer).where(Timer.instance_id == instance.id)).all()
    assert sorted(t.element_id for t in waiting) == ["reminder", "sla_breach"]
    investigate = db.session.scalar(select(HumanTask).where(HumanTask.element_id == "investigate"))
    assert investigate.due_at == next(t.due_at for t in waiting if t.element_id == "sla_breach")
    assert investigate.due_at - start == timedelta(hours=1)  # the deadline is the due date

    assert workflow.fire_due_timers() == 0  # nothing is due yet
    runtime.clock = lambda: start + timedelta(minutes=21)
    assert workflow.fire_due_timers() == 1  # the first reminder; the task stays open
    assert _open(instance.id) == ["investigate"]
    runtime.clock = lambda: start + timedelta(hours=1, minutes=1)
    fired = workflow.fire_due_timers()
    assert fired >= 1
    assert _open(instance.id) == ["escalate"]
    assert workflow.fire_due_timers() == 0  # fired timers never fire again

    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "fire_timer").order_by(AuditEvent.sequence)
    ).all()
    assert events[0].payload["element_id"] == "reminder"
    assert events[0].payload["lateness_s"] == pytest.approx(60, abs=5)
    assert events[0].result["calls"][0]["function"] == "notify"


def test_an_expired_lease_of_another_worker_is_taken_over(timer_app):
    runtime = get_runtime()
    start = runtime.now()
    runtime.clock = lambda: start  # time stands still until the test moves it
    instance = workflow.start_process(user("l1"), "timers", {"title": "disk full"}, locale="en", tz="UTC")
    runtime.clock = lambda: start + timedelta(hours=2)
    crashed = db.session.scalars(select(Timer).where(Timer.instance_id == instance.id)).all()
    for row in crashed:  # a worker leased them and died
        row.lease_owner, row.lease_expires_at = "dead-worker", start + timedelta(hours=2, seconds=30)
    db.session.commit()
    assert workflow.fire_due_timers() == 0  # still leased
    runtime.clock = lambda: start + timedelta(hours=2, minutes=1)
    assert workflow.fire_due_timers() >= 1
    assert _open(instance.id) == ["escalate"]
