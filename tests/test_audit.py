"""The audit log: every command recorded with its input, chained so that edits and deletions show."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from app.extensions import db
from app.models import AuditEvent, AuditHead
from app.services.audit import verify_chain
from tests import journey
from tests.test_api_incident import complete, only_task, start


def _journey(as_user):
    requester, desk = as_user("requester"), as_user("desk")
    instance = start(requester)
    complete(desk, only_task(desk, "record_incident"), journey.RECORD)
    return instance


def test_each_command_records_actor_input_and_resulting_tasks(app, as_user):
    instance = _journey(as_user)
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == instance["id"]).order_by(AuditEvent.sequence)
        ).all()
        assert [(e.kind, e.actor) for e in events] == [("start", "requester"), ("complete_task", "desk")]
        start_event, record_event = events
        assert start_event.payload["data"]["title"] == journey.RAISE["title"]
        assert start_event.payload["content_hash"]
        assert record_event.payload["data"]["impact"] == "high"
        assert record_event.payload["element_id"] == "record_incident"
        assert [t["element_id"] for t in record_event.result["open_tasks"]] == ["classify_incident"]
        assert record_event.prev_hash == start_event.hash
        assert verify_chain().ok


def test_an_edited_event_is_found(app, as_user):
    _journey(as_user)
    with app.app_context():
        first = db.session.scalar(select(AuditEvent).order_by(AuditEvent.sequence))
        db.session.execute(
            update(AuditEvent)
            .where(AuditEvent.id == first.id)
            .values(payload={"data": {"title": "nothing happened"}})
        )
        db.session.commit()
        report = verify_chain()
        assert not report.ok
        assert report.first_bad_sequence == first.sequence


def test_a_removed_last_event_is_found(app, as_user):
    _journey(as_user)
    with app.app_context():
        head = db.session.get(AuditHead, 1)
        db.session.execute(delete(AuditEvent).where(AuditEvent.sequence == head.sequence))
        db.session.commit()
        report = verify_chain()
        assert not report.ok
        assert "removed" in report.message


def test_auditor_reads_the_log_and_the_cli_verifies_it(app, as_user, runner):
    _journey(as_user)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "verified" in result.output
    desk = as_user("desk")
    assert desk.get("/audit/").status_code in (403, 404)
