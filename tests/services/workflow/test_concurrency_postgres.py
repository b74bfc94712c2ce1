"""Races on PostgreSQL (SQLite serialises writers and would hide them)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, HumanTask
from tests import journey
from tests.conftest import make_app, prepare_database, sign_in

pytestmark = pytest.mark.postgres

RACERS = 16


@pytest.fixture
def pg_app(fresh_postgres_db):
    application = make_app(fresh_postgres_db)
    prepare_database(application)
    yield application
    with application.app_context():
        db.engine.dispose()


def _client(app, username):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    client.csrf_token()
    return client


def test_sixteen_concurrent_completions_one_wins(pg_app):
    requester = _client(pg_app, "requester")
    started = requester.post("/api/v1/processes/incident/instances", json={"data": journey.RAISE})
    assert started.status_code == 201
    task_id = started.get_json()["open_tasks"][0]["id"]
    clients = [_client(pg_app, "desk" if i % 2 else "incmgr") for i in range(RACERS)]
    barrier = threading.Barrier(RACERS)

    def race(client):
        barrier.wait()
        return client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": journey.RECORD}).status_code

    with ThreadPoolExecutor(RACERS) as pool:
        codes = list(pool.map(race, clients))

    assert sorted(codes) == [200] + [409] * (RACERS - 1)
    with pg_app.app_context():
        completions = db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.kind == "complete_task")
        )
        assert completions == 1
        assert db.session.get(HumanTask, task_id).status == "completed"
        opened = db.session.scalars(select(HumanTask.element_id).where(HumanTask.status == "open")).all()
        assert opened == ["classify_incident"]


def test_concurrent_starts_get_distinct_keys_and_an_unbroken_audit_chain(pg_app):
    from app.services.governance import verify_chain

    clients = [_client(pg_app, "requester") for _ in range(8)]
    barrier = threading.Barrier(len(clients))

    def race(client):
        barrier.wait()
        response = client.post("/api/v1/processes/incident/instances", json={"data": journey.RAISE})
        return response.status_code, response.get_json().get("business_key")

    with ThreadPoolExecutor(len(clients)) as pool:
        results = list(pool.map(race, clients))

    assert [code for code, _ in results] == [201] * len(clients)
    assert len({key for _, key in results}) == len(clients)
    with pg_app.app_context():
        assert verify_chain().ok
