"""`flask db upgrade` builds the schema from nothing, and the migrations match the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect, text

from app.extensions import db
from tests.conftest import make_app


def _upgrade_and_diff(url: str) -> list:
    app = make_app(url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
            tables = set(inspect(connection).get_table_names())
            head = connection.execute(text("select sequence, hash from audit_head")).one()
        db.engine.dispose()
    assert {"process_instance", "human_task", "audit_event", "user_account", "timer"} <= tables
    assert head == (0, "0" * 64)
    return diff


def test_upgrade_on_empty_sqlite_matches_models(tmp_path):
    assert _upgrade_and_diff(f"sqlite:///{tmp_path / 'empty.sqlite'}") == []


@pytest.mark.postgres
def test_upgrade_on_empty_postgres_matches_models(fresh_postgres_db):
    assert _upgrade_and_diff(fresh_postgres_db) == []


def test_cli_upgrade_then_seed_demo_gives_a_working_platform(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'cli.sqlite'}")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    seeded = runner.invoke(args=["seed-demo"])
    assert seeded.exit_code == 0, seeded.output
    assert "desk" in seeded.output
    again = runner.invoke(args=["seed-demo"])
    assert "already there" in again.output
    listed = runner.invoke(args=["processes", "list"])
    assert "* incident" in listed.output
    with app.app_context():
        db.engine.dispose()
