"""Service level targets: the SLM manager edits them, timers read them, everyone else only reads."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from app.services import governance


def test_defaults_apply_and_the_slm_manager_changes_a_target(app, as_user):
    manager, desk = as_user("slm_manager"), as_user("desk")
    with app.app_context():
        assert governance.sla_duration("P1", "network", "tier") == "PT60M"
    page = desk.get("/sla/").get_data(as_text=True)
    assert "P1" in page and "/sla/edit" not in page  # desk reads, cannot edit
    assert (
        desk.post(
            "/sla/edit",
            data={
                "service": "network",
                "priority": "P1",
                "response_minutes": "5",
                "tier_minutes": "30",
                "resolution_minutes": "120",
                "warning_percent": "75",
            },
        ).status_code
        == 403
    )
    saved = manager.post(
        "/sla/edit",
        data={
            "service": "network",
            "priority": "P1",
            "response_minutes": "5",
            "tier_minutes": "30",
            "resolution_minutes": "120",
            "warning_percent": "75",
        },
    )
    assert saved.status_code == 302
    with app.app_context():
        assert governance.sla_duration("P1", "network", "tier") == "PT30M"
        assert governance.sla_warning("P1", "network", "tier") == "PT22M"
        assert (
            governance.sla_duration("P1", "application", "tier") == "PT60M"
        )  # other services keep the default
        assert (
            governance.sla_due("2027-01-01T00:00:00+08:00", "P1", "network", "resolution")
            == "2027-01-01T02:00:00+08:00"
        )
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "sla_target"))
        assert event.actor == "slm_manager" and event.payload["after"]["tier_minutes"] == 30


def test_bad_targets_are_refused_per_field_and_kept(as_user):
    manager = as_user("slm_manager")
    response = manager.post(
        "/sla/edit",
        data={
            "service": "*",
            "priority": "P2",
            "response_minutes": "600",
            "tier_minutes": "ten",
            "resolution_minutes": "480",
            "warning_percent": "100",
        },
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter a whole number." in page and "Enter a number from 1 to 99." in page
    assert 'value="ten"' in page and 'value="600"' in page


def test_incident_tiers_carry_the_sla_due_date_and_escalate_when_it_passes(app, as_user):
    from datetime import timedelta

    from app.models import HumanTask, Notification, User
    from app.services.core import get_runtime
    from app.services.workflow import fire_due_timers
    from tests import journey
    from tests.test_api_incident import complete, only_task, start

    with app.app_context():
        runtime = get_runtime()
        t0 = runtime.now()
        runtime.clock = lambda: t0
    requester, desk, l1, l2 = (as_user(name) for name in ("requester", "desk", "l1", "l2"))
    start(requester)
    complete(desk, only_task(desk, "record_incident"), journey.RECORD)
    complete(desk, only_task(desk, "classify_incident"), journey.CLASSIFY_ROUTE)  # P1: first line has 60 min
    investigate = only_task(l1, "investigate_l1")
    with app.app_context():
        due = db.session.get(HumanTask, investigate["id"]).due_at
        assert due == t0 + timedelta(minutes=60)
        runtime.clock = lambda: t0 + timedelta(minutes=49)  # past the 80 % warning
        assert fire_due_timers() == 1
        warned = db.session.scalars(select(Notification.text).join(User).where(User.username == "l1")).all()
        assert any("即将超出一线处理时限" in text for text in warned)
        runtime.clock = lambda: t0 + timedelta(minutes=61)
        assert fire_due_timers() == 1
        told = db.session.scalars(select(Notification.text).join(User).where(User.username == "desk")).all()
        assert any("一线处理超时" in text for text in told)
        late = db.session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "fire_timer").order_by(AuditEvent.sequence)
        ).all()
        assert [e.payload["element_id"] for e in late] == ["sla_l1_warning", "sla_l1_breach"]
        assert late[1].payload["lateness_s"] == 60
    assert only_task(l2, "investigate_l2")["due_at"] is not None  # second line's own time limit
    assert l1.get("/api/v1/tasks").get_json()["items"] == []
