"""Scheduled processes: one new instance per occurrence of the BPMN's cycle, on the platform clock, once."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, HumanTask, ProcessInstance, Schedule
from app.services import workflow
from app.services.core import get_runtime
from app.services.workflow import deploy_directory
from tests.conftest import ROOT, direct_writes, make_app, prepare_database, sign_in

FIXTURE = ROOT / "tests" / "fixtures" / "schedule_platform"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def sched_app(tmp_path):
    app = make_app(
        f"sqlite:///{tmp_path / 'sched.sqlite'}",
        PROCESSES_DIR=str(FIXTURE / "processes"),
        FORMS_DIR=str(FIXTURE / "forms"),
    )
    prepare_database(app)
    with app.app_context(), direct_writes():
        get_runtime().clock = lambda: at(2026, 12, 30, 12, 0)
        deploy_directory(author="tests")  # the schedule is read on deploy
        yield app
        db.session.remove()
        db.engine.dispose()


def _started():
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "scheduled_start").order_by(AuditEvent.sequence)
    ).all()


def test_the_schedule_comes_from_the_bpmn_and_starts_one_instance_per_occurrence(sched_app):
    runtime = get_runtime()
    row = db.session.scalar(select(Schedule).where(Schedule.process_id == "drill"))
    assert row.next_at == at(2027, 1, 1)
    assert workflow.fire_due_schedules() == 0
    runtime.clock = lambda: at(2027, 1, 1, 0, 0, 5)
    assert workflow.fire_due_schedules() == 1
    assert workflow.fire_due_schedules() == 0  # the same occurrence never starts twice
    [event] = _started()
    assert datetime.fromisoformat(event.payload["occurrence_at"]) == at(2027, 1, 1)
    assert event.payload["lateness_s"] == pytest.approx(5)
    task = db.session.scalar(select(HumanTask).where(HumanTask.status == "open"))
    assert (task.element_id, task.role) == (
        "run_drill",
        "continuity_manager",
    )  # the first step waits for its role
    assert db.session.scalar(select(Schedule.next_at)) == at(2028, 1, 1)


def test_occurrences_missed_while_down_each_start_with_their_lateness(sched_app):
    get_runtime().clock = lambda: at(2029, 6, 1)
    assert workflow.fire_due_schedules() == 3  # 2027, 2028 and 2029
    occurrences = [datetime.fromisoformat(e.payload["occurrence_at"]) for e in _started()]
    assert occurrences == [at(y, 1, 1) for y in (2027, 2028, 2029)]
    assert _started()[0].payload["lateness_s"] > 2 * 365 * 24 * 3600
    assert db.session.scalar(select(Schedule.next_at)) == at(2030, 1, 1)


def test_an_expired_lease_is_taken_over_and_a_live_one_is_respected(sched_app):
    runtime = get_runtime()
    runtime.clock = lambda: at(2027, 1, 1, 0, 1)
    row = db.session.scalar(select(Schedule))
    row.lease_owner, row.lease_expires_at = "crashed-host:1", at(2027, 1, 1, 0, 1, 30)
    db.session.commit()
    assert workflow.fire_due_schedules() == 0
    runtime.clock = lambda: at(2027, 1, 1, 0, 2)
    assert workflow.fire_due_schedules() == 1


def test_admin_sees_upcoming_occurrences_and_starts_now(tmp_path):
    # No app context stays pushed here: requests made inside one would share `g` (the signed-in user).
    app = make_app(
        f"sqlite:///{tmp_path / 'admin.sqlite'}",
        PROCESSES_DIR=str(FIXTURE / "processes"),
        FORMS_DIR=str(FIXTURE / "forms"),
    )
    with app.app_context():
        get_runtime().clock = lambda: at(2026, 12, 30, 12, 0)
    prepare_database(app)
    admin, desk = app.test_client(), app.test_client()
    assert sign_in(admin, "admin").status_code == 302 and sign_in(desk, "desk").status_code == 302
    page = admin.get("/admin/schedules").get_data(as_text=True)
    assert "drill" in page and "2027-01-01 00:00" in page and "2028-01-01 00:00" in page
    assert admin.post("/admin/schedules/drill/start").status_code == 302
    assert desk.get("/admin/schedules").status_code == 403
    assert desk.post("/admin/schedules/drill/start").status_code == 403
    with app.app_context():
        assert db.session.scalars(select(ProcessInstance.process_id)).all() == ["drill"]
        assert _started()[0].payload["manual"] is True
        db.engine.dispose()


def test_a_changed_schedule_in_the_bpmn_takes_effect_on_redeploy(sched_app, tmp_path):
    import shutil

    processes = tmp_path / "p"
    shutil.copytree(FIXTURE / "processes", processes)
    bpmn = processes / "drill.bpmn"
    bpmn.write_text(bpmn.read_text(encoding="utf-8").replace("/P1Y<", "/P3M<"), encoding="utf-8")
    get_runtime().processes_dir = processes
    get_runtime().clock = lambda: at(2027, 2, 10)
    deploy_directory(author="owner")
    row = db.session.scalar(select(Schedule))
    assert row.expression.endswith("/P3M") and row.next_at == at(2027, 4, 1)


def test_cycles_parse_and_refuse_bad_input():
    now = at(2026, 1, 1)
    cycle = workflow.parse_cycle("R3/2026-01-31T09:00:00+08:00/P1M", now)
    assert [cycle.occurrence(i).day for i in range(3)] == [31, 28, 31]  # months from the start: no drift
    assert cycle.first_at_or_after(at(2026, 5, 1)) is None  # three occurrences only
    assert workflow.parse_cycle("R/PT1H", now).occurrence(2) == now + timedelta(hours=2)
    for bad in ("PT1H", "R/2027-01-01T00:00:00/P1Y", "R/2027-01-01T00:00:00+08:00/PT0S"):
        with pytest.raises(ValueError):
            workflow.parse_cycle(bad, now)


def test_one_scheduler_tick_runs_due_starts_and_says_when_to_wake_next(sched_app):
    from app.scheduler import run_due_work

    get_runtime().clock = lambda: at(2027, 1, 1, 0, 0, 1)
    db.session.commit()
    next_due = run_due_work(sched_app)
    assert len(_started()) == 1
    assert next_due == at(2028, 1, 1)


def test_a_scheduled_instance_replays_from_its_log(sched_app):
    from app.services.governance import replay_instance
    from tests.conftest import user

    get_runtime().clock = lambda: at(2027, 1, 1, 0, 0, 1)
    workflow.fire_due_schedules()
    instance = db.session.scalar(select(ProcessInstance))
    report = replay_instance(user("auditor"), instance)
    assert report.ok and [s.kind for s in report.steps] == ["scheduled_start"]


@pytest.mark.parametrize(
    "process_id", ["config_audit", "continuity_drill", "isms_review", "sla_review", "knowledge_review"]
)
def test_each_shipped_scheduled_process_starts_on_its_bpmn_schedule(app, process_id):
    """The processes the seed schedules (quarterly audit, yearly drill and reviews...) start on their own."""
    with app.app_context():
        runtime = get_runtime()
        row = db.session.scalar(select(Schedule).where(Schedule.process_id == process_id))
        assert row is not None and row.enabled and row.expression.startswith("R")
        occurrence = row.next_at
        runtime.clock = lambda: occurrence + timedelta(seconds=1)
        assert workflow.fire_due_schedules() >= 1  # others due by then start too
        [instance] = db.session.scalars(
            select(ProcessInstance).where(ProcessInstance.process_id == process_id)
        )
        open_tasks = [t for t in instance.tasks if t.status == "open"]
        assert open_tasks and instance.started_by.username == "system"
        assert all(
            t.element_id != "submit_knowledge" for t in open_tasks
        )  # the scheduled path, not the form's
        assert (
            db.session.scalar(select(Schedule.next_at).where(Schedule.process_id == process_id)) > occurrence
        )
