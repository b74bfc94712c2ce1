"""Messages between processes: durable, delivered once, linked on both records, noted or kept if stranded."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, HumanTask, Notification, OutboxMessage, ProcessInstance, RecordLink
from app.services import workflow
from tests.conftest import ROOT, direct_writes, make_app, prepare_database, sign_in

FIXTURE = ROOT / "tests" / "fixtures" / "messaging_platform"


@pytest.fixture
def msg_app(tmp_path):
    app = make_app(
        f"sqlite:///{tmp_path / 'msg.sqlite'}",
        PROCESSES_DIR=str(FIXTURE / "processes"),
        FORMS_DIR=str(FIXTURE / "forms"),
    )
    prepare_database(app)
    yield app
    with app.app_context():
        db.engine.dispose()


def client_for(app, username):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def open_task(client, element_id):
    items = client.get("/api/v1/tasks").get_json()["items"]
    found = [t for t in items if t["element_id"] == element_id]
    assert len(found) == 1, items
    return found[0]


def test_request_starts_the_other_process_and_its_reply_resumes_the_first(msg_app):
    requester, l1, desk = (client_for(msg_app, name) for name in ("requester", "l1", "desk"))
    asked = requester.post("/api/v1/processes/asker/instances", json={"data": {"title": "备份失败"}})
    assert asked.status_code == 201
    asker = asked.get_json()
    work = open_task(l1, "work")  # the message started a worker instance at once
    assert work["business_key"].startswith("REQ-") and work["title"] == "备份失败"
    done = l1.post(f"/api/v1/tasks/{work['id']}/complete", json={"data": {"outcome": "done"}})
    assert done.status_code == 200 and done.get_json()["status"] == "completed"

    state = requester.get(f"/api/v1/instances/{asker['id']}").get_json()
    assert [t["element_id"] for t in state["open_tasks"]] == ["check"]
    assert state["data"]["work_result"]["outcome"] == "done"
    with msg_app.app_context():
        statuses = db.session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)).all()
        assert statuses == ["delivered", "delivered"]
        assert db.session.scalar(select(func.count(RecordLink.id))) == 1
        kinds = db.session.scalars(select(AuditEvent.kind).order_by(AuditEvent.sequence)).all()
        assert kinds == ["start", "start_by_message", "complete_task", "deliver_message"]

    page = requester.get(f"/instances/{asker['id']}")
    assert work["business_key"] in page.get_data(as_text=True)  # linked record shown on both sides
    assert asker["business_key"] in l1.get(f"/instances/{work['instance_id']}").get_data(as_text=True)
    assert desk.get(f"/api/v1/tasks/{state['open_tasks'][0]['id']}").status_code == 200


def test_delivering_the_same_message_twice_changes_nothing(msg_app):
    requester = client_for(msg_app, "requester")
    requester.post("/api/v1/processes/asker/instances", json={"data": {"title": "t"}})
    with msg_app.app_context():
        first = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id))
        assert first.status == "delivered"
        assert workflow.deliver_message(first.id) == "delivered"
        assert db.session.scalar(select(func.count(ProcessInstance.id))) == 2


def test_separation_of_duties_and_a_declared_notice(msg_app):
    requester, l1, desk = (client_for(msg_app, name) for name in ("requester", "l1", "incmgr"))
    requester.post("/api/v1/processes/asker/instances", json={"data": {"title": "t"}})
    work = open_task(l1, "work")
    l1.post(f"/api/v1/tasks/{work['id']}/complete", json={"data": {"outcome": "done"}})
    check = open_task(desk, "check")
    done = desk.post(f"/api/v1/tasks/{check['id']}/complete", json={"data": {"verdict": "ok"}})
    assert done.status_code == 200
    with msg_app.app_context():
        texts = db.session.scalars(select(Notification.text)).all()
        assert texts == [f"{check['business_key']} 已核对：ok"]
    assert "已核对" in requester.get("/notices").get_data(as_text=True)


def test_the_starter_may_not_do_a_step_separated_from_them(msg_app):
    both = client_for(msg_app, "incmgr")  # holds service_desk, so could check, but raised the request
    l1 = client_for(msg_app, "l1")
    both.post("/api/v1/processes/asker/instances", json={"data": {"title": "t"}})
    work = open_task(l1, "work")
    l1.post(f"/api/v1/tasks/{work['id']}/complete", json={"data": {"outcome": "done"}})
    check = open_task(both, "check")
    refused = both.post(
        f"/api/v1/tasks/{check['id']}/complete",
        json={"data": {"verdict": "ok"}},
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 403
    assert "Separation of duties" in refused.get_json()["error"]["message"]
    with msg_app.app_context():
        assert db.session.get(HumanTask, check["id"]).status == "open"


def test_a_message_nobody_takes_is_kept_and_shown_to_admins(msg_app):
    with msg_app.app_context(), direct_writes():
        db.session.add(OutboxMessage(event_id="e-1", name="nobody_listens", payload={"x": 1}, correlation={}))
        db.session.commit()
        assert workflow.deliver_pending() == 1
        row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.event_id == "e-1"))
        assert row.status == "undeliverable" and "nobody_listens" in row.last_error
    admin = client_for(msg_app, "admin")
    assert "nobody_listens" in admin.get("/admin/messages").get_data(as_text=True)
    assert client_for(msg_app, "desk").get("/admin/messages").status_code == 403


def test_a_reply_to_a_record_that_no_longer_waits_is_noted_on_it(msg_app):
    requester = client_for(msg_app, "requester")
    asker = requester.post("/api/v1/processes/asker/instances", json={"data": {"title": "t"}}).get_json()
    with msg_app.app_context(), direct_writes():
        db.session.add(
            OutboxMessage(
                event_id="e-2",
                name="work_progress",
                correlation={},
                payload={"source_key": asker["business_key"], "note": "half done"},
            )
        )
        db.session.commit()
        workflow.deliver_pending()
        assert (
            db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.event_id == "e-2")) == "noted"
        )
    history = requester.get(f"/api/v1/instances/{asker['id']}/history").get_json()["items"]
    assert history[-1]["kind"] == "message_noted"


def test_replay_reproduces_instances_started_and_resumed_by_messages(msg_app):
    requester, l1 = client_for(msg_app, "requester"), client_for(msg_app, "l1")
    asker = requester.post("/api/v1/processes/asker/instances", json={"data": {"title": "t"}}).get_json()
    work = open_task(l1, "work")
    l1.post(f"/api/v1/tasks/{work['id']}/complete", json={"data": {"outcome": "failed"}})
    auditor = client_for(msg_app, "auditor")
    for instance_id, kinds in (
        (asker["id"], ["start", "deliver_message"]),
        (work["instance_id"], ["start_by_message", "complete_task"]),
    ):
        body = auditor.get(f"/api/v1/instances/{instance_id}/replay").get_json()
        assert body["ok"] is True, body
        assert [s["kind"] for s in body["steps"]] == kinds


def test_notices_api_counts_and_marks_read_only_ones_own(msg_app):
    requester, l1, desk = (client_for(msg_app, name) for name in ("requester", "l1", "desk"))
    requester.post("/api/v1/processes/asker/instances", json={"data": {"title": "t"}})
    work = open_task(l1, "work")
    l1.post(f"/api/v1/tasks/{work['id']}/complete", json={"data": {"outcome": "done"}})
    check = open_task(desk, "check")
    desk.post(f"/api/v1/tasks/{check['id']}/complete", json={"data": {"verdict": "ok"}})
    mine = requester.get("/api/v1/notifications").get_json()
    assert mine["unread"] == 1 and mine["items"][0]["business_key"] == check["business_key"]
    assert (
        desk.post("/api/v1/notifications/read", json={"ids": [mine["items"][0]["id"]]}).get_json()["marked"]
        == 0
    )
    assert requester.post("/api/v1/notifications/read", json={}).get_json() == {"marked": 1, "unread": 0}
