"""The incident journey through the JSON API, as the demo users: roles, errors, conflicts, the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, HumanTask
from tests import journey


def start(client, data=None):
    response = client.post("/api/v1/processes/incident/instances", json={"data": data or journey.RAISE})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def inbox(client, **params):
    response = client.get("/api/v1/tasks", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def only_task(client, element_id):
    tasks = [t for t in inbox(client) if t["element_id"] == element_id]
    assert len(tasks) == 1, f"expected one {element_id} in the inbox, got {inbox(client)}"
    return tasks[0]


def complete(client, task, data, status=200):
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_full_journey_each_user_sees_only_their_tasks(as_user):
    requester, desk, l1, l2 = as_user("requester"), as_user("desk"), as_user("l1"), as_user("l2")
    instance = start(requester)
    assert instance["business_key"].startswith("INC-")
    assert instance["status"] == "running"
    assert [t["element_id"] for t in instance["open_tasks"]] == ["record_incident"]

    assert inbox(l1) == [] and inbox(l2) == [] and inbox(requester) == []
    record = only_task(desk, "record_incident")
    after = complete(desk, record, journey.RECORD)
    assert after["data"]["incident_number"] == instance["business_key"]
    assert after["data"]["recorded_by"] == "desk"

    complete(desk, only_task(desk, "classify_incident"), journey.CLASSIFY_ROUTE)
    assert inbox(desk) == []
    investigate = only_task(l1, "investigate_l1")
    assert investigate["priority"] == "P1"  # high impact x high urgency, from the DMN table
    complete(l1, investigate, journey.INVESTIGATE_L1_RESOLVE)
    complete(l1, only_task(l1, "resolve_l1"), journey.RESOLVE)

    assert inbox(desk) == [] and inbox(l2) == []
    complete(requester, only_task(requester, "confirm_resolution"), journey.CONFIRM_OK)
    done = complete(desk, only_task(desk, "close_incident"), journey.CLOSE)
    assert done["status"] == "completed"
    assert done["end_event"] == "end_closed"

    history = requester.get(f"/api/v1/instances/{instance['id']}/history").get_json()["items"]
    assert [h["kind"] for h in history] == ["start"] + ["complete_task"] * 6
    assert [h["actor"] for h in history] == ["requester", "desk", "desk", "l1", "l1", "requester", "desk"]


def test_wrong_role_gets_403_and_never_sees_the_task(app, as_user):
    requester, desk, l1 = as_user("requester"), as_user("desk"), as_user("l1")
    start(requester)
    record = only_task(desk, "record_incident")
    assert l1.get(f"/api/v1/tasks/{record['id']}").status_code == 403
    # Without Accept-Language the API answers in the default language (zh_CN); this checks the English text.
    response = l1.post(
        f"/api/v1/tasks/{record['id']}/complete",
        json={"data": journey.RECORD},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 403
    assert "service desk" in response.get_json()["error"]["message"].lower()
    with app.app_context():
        assert db.session.get(HumanTask, record["id"]).status == "open"


def test_invalid_input_names_each_field_and_stores_nothing(app, as_user):
    requester, desk = as_user("requester"), as_user("desk")
    start(requester)
    record = only_task(desk, "record_incident")
    with app.app_context():
        events_before = db.session.scalar(select(func.count(AuditEvent.id)))
    bad = dict(journey.RECORD, impact="catastrophic", occurred_at="yesterday-ish")
    del bad["symptoms"]
    body = complete(desk, record, bad, status=422)
    fields = body["error"]["fields"]
    assert set(fields) == {"impact", "occurred_at", "symptoms"}
    with app.app_context():
        assert db.session.get(HumanTask, record["id"]).status == "open"
        assert db.session.scalar(select(func.count(AuditEvent.id))) == events_before


def test_unknown_ci_and_unknown_field_are_refused(as_user):
    requester = as_user("requester")
    response = requester.post(
        "/api/v1/processes/incident/instances",
        json={"data": dict(journey.RAISE, affected_cis=["NO-SUCH-CI"], colour="red")},
    )
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert "NO-SUCH-CI" in fields["affected_cis"][0]
    assert "colour" in fields


def test_completing_twice_is_a_conflict(as_user):
    requester, desk = as_user("requester"), as_user("desk")
    start(requester)
    record = only_task(desk, "record_incident")
    complete(desk, record, journey.RECORD)
    body = complete(desk, record, journey.RECORD, status=409)
    assert body["error"]["code"] == "conflict"


def test_claimed_task_is_a_conflict_for_a_colleague_and_a_manager_can_reassign(as_user):
    requester, desk, incmgr = as_user("requester"), as_user("desk"), as_user("incmgr")
    start(requester)
    record = only_task(desk, "record_incident")
    assert desk.post(f"/api/v1/tasks/{record['id']}/claim").get_json()["assignee"] == "desk"
    assert complete(incmgr, record, journey.RECORD, status=409)["error"]["code"] == "conflict"
    assert desk.post(f"/api/v1/tasks/{record['id']}/reassign", json={"username": "incmgr"}).status_code == 403
    moved = incmgr.post(f"/api/v1/tasks/{record['id']}/reassign", json={"username": "incmgr"})
    assert moved.status_code == 200 and moved.get_json()["assignee"] == "incmgr"
    assert inbox(incmgr, scope="mine")[0]["id"] == record["id"]
    assert incmgr.post(f"/api/v1/tasks/{record['id']}/release").get_json()["assignee"] is None


def test_requester_task_goes_only_to_the_person_who_raised_it(as_user):
    requester, desk, l1, other = as_user("requester"), as_user("desk"), as_user("l1"), as_user("l2")
    start(requester)
    complete(desk, only_task(desk, "record_incident"), journey.RECORD)
    complete(desk, only_task(desk, "classify_incident"), journey.CLASSIFY_DESK)
    complete(desk, only_task(desk, "resolve_by_desk"), journey.RESOLVE)
    confirm = only_task(requester, "confirm_resolution")
    assert other.get(f"/api/v1/tasks/{confirm['id']}").status_code == 403
    assert l1.get(f"/api/v1/tasks/{confirm['id']}").status_code == 403


def test_unauthenticated_api_gets_401_json(client):
    response = client.get("/api/v1/tasks")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_session_post_without_csrf_token_is_refused(as_user):
    requester = as_user("requester")
    response = requester.post(
        "/api/v1/processes/incident/instances", json={"data": journey.RAISE}, csrf=False
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf"


def test_monitoring_system_raises_an_incident_with_a_bearer_token(app, client):
    from app.services.governance import issue_api_token
    from tests.conftest import user

    with app.app_context():
        monitor = user("desk")
        token = issue_api_token(monitor, monitor.id)
    response = client.post(
        "/api/v1/processes/incident/instances",
        csrf=False,
        headers={"Authorization": f"Bearer {token}"},
        json={"data": dict(journey.RAISE, channel="monitoring")},
    )
    assert response.status_code == 201
    bad = client.get("/api/v1/tasks", headers={"Authorization": "Bearer wrong"})
    assert bad.status_code == 401


@pytest.mark.parametrize("body", [None, "text", [1, 2], {"nodata": 1}, {"data": "x"}])
def test_malformed_bodies_get_422_not_500(as_user, body):
    requester = as_user("requester")
    response = requester.post("/api/v1/processes/incident/instances", json=body)
    assert response.status_code == 422


def test_openapi_document_lists_the_routes(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert "/tasks/{task_id}/complete" in document["paths"]
    assert "TaskOut" in document["components"]["schemas"]
