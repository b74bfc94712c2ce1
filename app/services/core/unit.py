"""The unit of work every service command is: one transaction that commits once or leaves nothing behind.

SQLite has no row locks (``SELECT … FOR UPDATE`` does nothing there) and a deferred transaction that read
before another writer committed cannot write any more. So on SQLite a command takes the database's write lock
with its first statement (``BEGIN IMMEDIATE``; other commands wait up to the busy timeout) and reads what it
then writes under that lock: commands are serialised, reads (pages) are not. On PostgreSQL the commands lock
the rows they change (``FOR UPDATE``) and run side by side.

``command`` (a decorator) and ``writing()`` (a context manager) mark the current thread's work as a command.
With ``strict`` on (the test suite), a write on SQLite outside a command raises instead of risking
"database is locked" under load.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine as SAEngine

from app.extensions import db

log = logging.getLogger(__name__)

#: How deep the current thread is inside commands (0: not in one).
_depth: ContextVar[int] = ContextVar("itsm_command_depth", default=0)
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class Settings:
    """Process-wide switches of the unit of work (set by the app factory from the configuration)."""

    #: Raise on a write outside a command on SQLite (tests); otherwise it is logged.
    strict = False


class WriteOutsideCommand(RuntimeError):
    """A service wrote to SQLite outside a command: under load it would fail with "database is locked"."""


def json_safe(value: Any) -> Any:
    """Plain JSON (dates become ISO strings): what is stored hashes and reads back the same everywhere."""
    return json.loads(json.dumps(value, default=str))


def in_command() -> bool:
    """Whether the current thread runs a command."""
    return _depth.get() > 0


@contextmanager
def writing() -> Iterator[None]:
    """Run the block as a command: on SQLite its transactions take the write lock with their first statement.

    Entering the outermost command ends the read transaction a page may have opened (a view that loaded the
    signed-in user), so that the command's own transaction starts now, under the lock.
    """
    outermost = _depth.get() == 0
    if outermost:
        db.session.rollback()
    token = _depth.set(_depth.get() + 1)
    try:
        yield
    finally:
        _depth.reset(token)


def command(fn):
    """Run a service command so that any failure leaves the session clean (nothing half-written survives)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with writing():
            try:
                return fn(*args, **kwargs)
            except BaseException:
                db.session.rollback()
                raise

    return wrapper


@event.listens_for(SAEngine, "connect")
def _sqlite_connect(dbapi_connection, _record) -> None:
    """SQLite: WAL journal, enforced foreign keys, a busy timeout, and transactions begun by us (below)."""
    if not type(dbapi_connection).__module__.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL never corrupts the database; only a power cut can lose the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
    # The driver would begin transactions lazily, before the first write: too late to take the lock.
    dbapi_connection.isolation_level = None


@event.listens_for(SAEngine, "begin")
def _sqlite_begin(connection) -> None:
    """A command's transaction takes SQLite's write lock at once; any other transaction only reads."""
    if connection.dialect.name != "sqlite":
        return
    immediate = in_command()
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
    connection.info["itsm_immediate"] = immediate


@event.listens_for(SAEngine, "before_cursor_execute")
def _sqlite_guard(connection, _cursor, statement: str, _parameters, _context, _executemany) -> None:
    """A write outside a command on SQLite: an error in the test suite, a log line elsewhere."""
    if connection.dialect.name != "sqlite" or connection.info.get("itsm_immediate", True):
        return
    if statement.lstrip()[:7].upper().startswith(_WRITES):
        if Settings.strict:
            raise WriteOutsideCommand(f"write outside a command: {statement[:120]}")
        log.warning("write outside a command (SQLite may answer 'database is locked'): %s", statement[:120])
