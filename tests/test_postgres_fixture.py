"""The throw-away PostgreSQL server of tests/postgres.py: reachable, empty databases, row locks that skip."""

import pytest
from sqlalchemy import create_engine, inspect, text

pytestmark = pytest.mark.postgres


def test_session_database_answers(postgres_url):
    """The session URL is a psycopg URL on loopback, and the server answers a query."""
    assert postgres_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("select 1")).scalar_one() == 1
            assert conn.execute(text("show server_version_num")).scalar_one() >= "150000"
    finally:
        engine.dispose()


def test_skip_locked_hands_each_row_to_one_claimer(fresh_postgres_db):
    """Two workers claiming due timers with FOR UPDATE SKIP LOCKED never get the same row."""
    engine = create_engine(fresh_postgres_db)
    try:
        with engine.begin() as conn:
            conn.execute(text("create table timer (id int primary key)"))
            conn.execute(text("insert into timer values (1), (2)"))
        claim = text("select id from timer order by id limit 1 for update skip locked")
        with engine.connect() as first, engine.connect() as second:
            first.begin()
            second.begin()
            assert first.execute(claim).scalar_one() == 1
            assert second.execute(claim).scalar_one() == 2
            claim_all = text("select id from timer order by id for update skip locked")
            assert second.execute(claim_all).all() == [(2,)]
    finally:
        engine.dispose()


def test_fresh_databases_are_empty_and_separate(fresh_postgres_db, module_postgres_db, postgres_url):
    """Each fixture hands out its own database, and a fresh one has no tables."""
    assert len({fresh_postgres_db, module_postgres_db, postgres_url}) == 3
    engine = create_engine(fresh_postgres_db)
    try:
        with engine.connect() as conn:
            assert inspect(conn).get_table_names() == []
    finally:
        engine.dispose()
