"""The audit log: every command recorded with its input, chained so that edits and deletions show."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from app.extensions import db
from app.models import AuditEvent, AuditHead
from app.services.governance import verify_chain
from tests import journey
from tests.conftest import direct_writes
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
    with app.app_context(), direct_writes():
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
    with app.app_context(), direct_writes():
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
    assert desk.get("/audit/").status_code == 403


def _full_journey(as_user):
    from tests.test_api_incident import complete, only_task, start

    requester, desk, l1 = as_user("requester"), as_user("desk"), as_user("l1")
    instance = start(requester)
    complete(desk, only_task(desk, "record_incident"), journey.RECORD)
    complete(desk, only_task(desk, "classify_incident"), journey.CLASSIFY_ROUTE)
    complete(l1, only_task(l1, "investigate_l1"), journey.INVESTIGATE_L1_RESOLVE)
    complete(l1, only_task(l1, "resolve_l1"), journey.RESOLVE)
    complete(requester, only_task(requester, "confirm_resolution"), journey.CONFIRM_NOT)
    return instance


def test_replay_reproduces_every_step_of_a_history(app, as_user):
    instance = _full_journey(as_user)
    auditor = as_user("auditor")
    body = auditor.get(f"/api/v1/instances/{instance['id']}/replay").get_json()
    assert body["ok"] is True
    assert [s["kind"] for s in body["steps"]] == ["start"] + ["complete_task"] * 5
    assert body["steps"][-1]["replayed"] == ["investigate_l1"]  # not satisfied: back to first-line support
    assert as_user("desk").get(f"/api/v1/instances/{instance['id']}/replay").status_code == 403


def test_replay_shows_where_a_recorded_input_no_longer_gives_the_recorded_outcome(app, as_user):
    instance = _full_journey(as_user)
    with app.app_context(), direct_writes():
        classify = db.session.scalar(
            select(AuditEvent).where(AuditEvent.payload["element_id"].as_string() == "classify_incident")
        )
        data = dict(classify.payload["data"], desk_decision="resolve")
        db.session.execute(
            update(AuditEvent)
            .where(AuditEvent.id == classify.id)
            .values(payload=dict(classify.payload, data=data))
        )
        db.session.commit()
    body = as_user("auditor").get(f"/api/v1/instances/{instance['id']}/replay").get_json()
    assert body["ok"] is False
    bad = next(step for step in body["steps"] if not step["matches"])
    assert bad["element_id"] == "classify_incident"
    assert bad["recorded"] == ["investigate_l1"] and bad["replayed"] == ["resolve_by_desk"]


def _recompute_chain_as_an_intruder():
    """What someone with database access but not the checkpoint key can do: rewrite and re-hash it all."""
    from app.services.governance import GENESIS, event_hash

    prev = GENESIS
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.sequence)):
        payload = dict(event.payload)
        if event.kind == "start":
            payload["data"] = dict(payload["data"], title="nothing to see")
        digest = event_hash(
            prev, event.sequence, event.at, event.actor, event.instance_id, event.kind, payload, event.result
        )
        db.session.execute(
            update(AuditEvent)
            .where(AuditEvent.id == event.id)
            .values(payload=payload, prev_hash=prev, hash=digest)
        )
        prev = digest
    db.session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev))
    db.session.commit()


def test_signed_checkpoint_catches_a_full_recompute(app, as_user, runner):
    _journey(as_user)
    assert "Checkpoint written" in runner.invoke(args=["audit", "checkpoint"]).output
    with app.app_context(), direct_writes():
        assert verify_chain().ok
        _recompute_chain_as_an_intruder()
        report = verify_chain()
        assert not report.ok and "rewritten" in report.message


def test_signed_checkpoint_catches_a_cut_off_tail(app, as_user, runner):
    _journey(as_user)
    runner.invoke(args=["audit", "checkpoint"])
    with app.app_context(), direct_writes():
        first = db.session.scalar(select(AuditEvent).order_by(AuditEvent.sequence))
        db.session.execute(delete(AuditEvent).where(AuditEvent.sequence > first.sequence))
        db.session.execute(
            update(AuditHead).where(AuditHead.id == 1).values(sequence=first.sequence, hash=first.hash)
        )
        db.session.commit()
        report = verify_chain()
        assert not report.ok and "ends earlier" in report.message
