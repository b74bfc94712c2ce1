"""Helpers of the cross-process scenarios (tests/test_scenarios*.py): the JSON API as the users drive it
(inbox, complete, start, instance, history, notices, record page) and database reads for assertions, each
inside its own ``with app.app_context():`` (never around requests).
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessInstance, RecordLink

EN = {"Accept-Language": "en"}


def inbox(client) -> list[dict]:
    """Every open task in the client's inbox (all pages)."""
    items, page = [], 1
    while True:
        body = client.get("/api/v1/tasks", query_string={"page": page}).get_json()
        items += body["items"]
        if page >= body["pages"]:
            return items
        page += 1


def seen(client) -> list[tuple[str, str]]:
    """(element id, business key) of every task in the client's inbox."""
    return sorted((task["element_id"], task["business_key"]) for task in inbox(client))


def task(client, element_id: str, business_key: str | None = None) -> dict:
    """The one open task of that element (of that record, when given) in the client's inbox."""
    found = [
        item
        for item in inbox(client)
        if item["element_id"] == element_id and business_key in (None, item["business_key"])
    ]
    assert len(found) == 1, (element_id, business_key, seen(client))
    return found[0]


def complete(client, item: dict, data: dict, status: int = 200) -> dict:
    """Complete a task through the API (English messages) and check the status code."""
    response = client.post(f"/api/v1/tasks/{item['id']}/complete", json={"data": data}, headers=EN)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def start(client, process_id: str, data: dict) -> dict:
    """Start a process with its start form's values."""
    response = client.post(f"/api/v1/processes/{process_id}/instances", json={"data": data}, headers=EN)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def instance(client, instance_id: int) -> dict:
    response = client.get(f"/api/v1/instances/{instance_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def history_kinds(client, instance_id: int) -> list[str]:
    return [
        entry["kind"] for entry in client.get(f"/api/v1/instances/{instance_id}/history").get_json()["items"]
    ]


def notices(client) -> list[dict]:
    return client.get("/api/v1/notifications").get_json()["items"]


def links(app, business_key: str) -> set[tuple[str, str]]:
    """(other record's business key, message) of every RecordLink of the record, either way."""
    with app.app_context():
        record = db.session.scalar(
            select(ProcessInstance).where(ProcessInstance.business_key == business_key)
        )
        rows = db.session.scalars(
            select(RecordLink).where(
                (RecordLink.from_instance_id == record.id) | (RecordLink.to_instance_id == record.id)
            )
        ).all()
        return {
            (
                (row.to_instance if row.from_instance_id == record.id else row.from_instance).business_key,
                row.kind,
            )
            for row in rows
        }


def page_text(client, instance_id: int) -> str:
    response = client.get(f"/instances/{instance_id}", headers=EN)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def task_status(app, task_id: int) -> str:
    with app.app_context():
        return db.session.get(HumanTask, task_id).status
