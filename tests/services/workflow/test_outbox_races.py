"""Exactly one delivery per message, whoever delivers it: the request thread and the scheduler race.

Seen before: the request thread delivered an outbox event while the scheduler's retry delivered it too;
the loser marked the delivered row ``undeliverable`` and a later retry started a second change from it.
Here several threads (each as the request thread or the scheduler would: ``deliver_message`` of one row, or a
whole ``deliver_pending`` round) deliver the same messages at the same moment, many times, on SQLite and on
PostgreSQL; every event must start exactly one instance and stay ``delivered``.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, MessageDelivery, OutboxMessage, ProcessInstance
from app.services import workflow
from tests.conftest import direct_writes, make_app, prepare_database

ROUNDS = 6
MESSAGES = 4
THREADS = 4


@pytest.fixture(params=["sqlite", "postgres"])
def race_app(request, tmp_path: Path):
    if request.param == "sqlite":
        path = tmp_path / "race.sqlite"
        shutil.copy(request.getfixturevalue("seeded_sqlite"), path)
        app = make_app(f"sqlite:///{path}")
    else:
        app = make_app(request.getfixturevalue("fresh_postgres_db"))
        prepare_database(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _queue(app, count: int) -> list[int]:
    """``count`` pending problem requests, as incidents would have thrown them."""
    ids = []
    with app.app_context(), direct_writes():
        for _ in range(count):
            row = OutboxMessage(
                event_id=str(uuid.uuid4()),
                name="problem_requested",
                correlation={},
                payload={
                    "title": "反复出现的登录失败",
                    "description": "同一故障三次",
                    "affected_cis": [],
                    "priority": "P2",
                    "source_process": "incident",
                },
                status="pending",
            )
            db.session.add(row)
            db.session.flush()
            ids.append(row.id)
        db.session.commit()
    return ids


def _race(app, ids: list[int]) -> list[BaseException]:
    """Half the threads deliver row by row (the request thread), half run whole rounds (the scheduler)."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def deliver(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                if index % 2:
                    workflow.deliver_pending()
                else:
                    for message_id in reversed(ids):
                        workflow.deliver_message(message_id)
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_each_event_is_delivered_exactly_once_under_any_interleaving(race_app) -> None:
    all_ids: list[int] = []
    for _ in range(ROUNDS):
        ids = _queue(race_app, MESSAGES)
        all_ids += ids
        assert _race(race_app, ids) == []
    with race_app.app_context():
        rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(all_ids))).all()
        assert {row.status for row in rows} == {"delivered"}
        started = db.session.scalars(
            select(AuditEvent.payload).where(AuditEvent.kind == "start_by_message")
        ).all()
        by_event = sorted(payload["event_id"] for payload in started)
        assert by_event == sorted(row.event_id for row in rows)  # one start per event, none twice
        problems = (
            select(func.count()).select_from(ProcessInstance).where(ProcessInstance.process_id == "problem")
        )
        assert db.session.scalar(problems) == ROUNDS * MESSAGES
        deliveries = db.session.scalar(select(func.count()).select_from(MessageDelivery))
        assert deliveries == ROUNDS * MESSAGES


def test_a_failed_attempt_never_downgrades_a_delivered_message(race_app) -> None:
    (message_id,) = _queue(race_app, 1)
    with race_app.app_context():
        assert workflow.deliver_message(message_id) == "delivered"
        # A second deliverer that failed afterwards (its lock timed out, say) reports the failure.
        from app.services.workflow.outbox import mark_failed

        mark_failed(message_id, "database is locked")
        row = db.session.get(OutboxMessage, message_id)
        assert row.status == "delivered" and row.last_error is None
        assert workflow.retry_message(message_id) == "delivered"
        problems = (
            select(func.count()).select_from(ProcessInstance).where(ProcessInstance.process_id == "problem")
        )
        assert db.session.scalar(problems) == 1
