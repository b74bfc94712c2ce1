"""Parallel clients against a real server (gunicorn, 2 workers × 8 threads), on SQLite and on PostgreSQL.

What a new user of the embedded default saw before: 12 parallel starts gave 2×201 and 10×500 (one business
key handed out twice), 8 parallel completions of one task gave 500s beside the 409s. Required on both
databases: every start succeeds with its own key; exactly one completion wins, the others get 409; never 5xx.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, ProcessInstance
from tests import journey
from tests.conftest import make_app, prepare_database
from tests.live import Api, LiveServer, api_tokens

USERS = ("requester", "desk")
STARTS = 12
COMPLETIONS = 8


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path: Path) -> str:
    """A seeded database of either kind, private to the test."""
    if request.param == "sqlite":
        path = tmp_path / "live.sqlite"
        shutil.copy(request.getfixturevalue("seeded_sqlite"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("fresh_postgres_db")
    prepare_database(make_app(url))
    return url


def _all_at_once(count: int, call):
    """Run ``call(i)`` on ``count`` threads that start together; the results in order."""
    barrier = Barrier(count)

    def run(index: int):
        barrier.wait()
        return call(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_parallel_starts_and_completions_never_fail(database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url)
    tokens = api_tokens(app, USERS)
    with LiveServer(database_url, tmp_path / "gunicorn.log") as server:
        requester = Api(server.url, tokens["requester"])
        desk = Api(server.url, tokens["desk"])

        starts = _all_at_once(
            STARTS, lambda i: requester.post("/api/v1/processes/incident/instances", {"data": journey.RAISE})
        )
        assert [reply.status for reply in starts] == [201] * STARTS, server.log()[-4000:]
        keys = [reply.body["business_key"] for reply in starts]
        assert len(set(keys)) == STARTS

        task = next(t for t in starts[0].body["open_tasks"] if t["element_id"] == "record_incident")
        replies = _all_at_once(
            COMPLETIONS,
            lambda i: desk.post(f"/api/v1/tasks/{task['id']}/complete", {"data": journey.RECORD}),
        )
        statuses = sorted(reply.status for reply in replies)
        assert statuses == [200] + [409] * (COMPLETIONS - 1), server.log()[-4000:]
        assert "Traceback" not in server.log()

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == STARTS
        completions = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.kind == "complete_task", AuditEvent.payload["task_id"].as_integer() == task["id"]
            )
        )
        assert completions == 1
        db.session.remove()
        db.engine.dispose()
