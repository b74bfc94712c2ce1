"""Pytest plugin: a throw-away PostgreSQL server for the tests that need real row locks.

Load it from tests/conftest.py with ``pytest_plugins = ["tests.postgres"]``. Fixtures:

- ``postgres_server`` (session): the running :class:`PostgresServer`, for tests that manage databases.
- ``postgres_url`` (session): SQLAlchemy URL of one database shared by the whole session.
- ``module_postgres_db`` (module): URL of a fresh empty database for one test module, dropped after it.
- ``fresh_postgres_db`` (function): URL of a fresh empty database for one test, dropped after it.

A test that uses any of them is marked ``postgres`` automatically, so ``-m "not postgres"`` leaves it out.

The server lives in a temporary directory, listens on 127.0.0.1 on a free port with trust authentication
and ``fsync=off``, and is removed at the end of the session. PostgreSQL refuses to run as root, so as root it
runs as the ``postgres`` user through ``runuser`` (the user is created if missing). :class:`PostgresServer`
also works outside pytest (``with PostgresServer() as server: ...``), for instance from a benchmark.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

SERVER_USER = "postgres"
INSTALL_HINT = "`make test` installs them (as root: apt-get install -y postgresql-15)"
FIXTURE_NAMES = frozenset({"postgres_server", "postgres_url", "module_postgres_db", "fresh_postgres_db"})
_START_ATTEMPTS = 5
_names = itertools.count(1)


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are missing or the server would not start."""


def find_bindir() -> Path:
    """Return the directory holding ``initdb`` and ``pg_ctl``.

    ``POSTGRES_BINDIR`` wins if set; then the newest ``/usr/lib/postgresql/*/bin`` (Debian's layout); then
    wherever ``initdb`` on ``PATH`` points to.
    """
    candidates: list[Path] = []
    if os.environ.get("POSTGRES_BINDIR"):
        candidates.append(Path(os.environ["POSTGRES_BINDIR"]))
    debian = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted((Path(d) for d in debian), key=_major_version, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found under /usr/lib/postgresql/*/bin or on "
        f"PATH; {INSTALL_HINT}, or point POSTGRES_BINDIR at them."
    )


def _major_version(bindir: Path) -> int:
    """Sort key: the major version in ``/usr/lib/postgresql/<major>/bin``."""
    name = bindir.parent.name
    return int(name) if name.isdigit() else -1


def _free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """A PostgreSQL server in a temporary directory, on 127.0.0.1, trusting every local connection.

    :param bindir: directory with ``initdb`` and ``pg_ctl``; found with :func:`find_bindir` if omitted.
    """

    host = "127.0.0.1"
    user = SERVER_USER

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir or find_bindir()
        self.port = 0
        self.tmpdir: Path | None = None
        self._as_root = os.geteuid() == 0

    @property
    def datadir(self) -> Path:
        """The cluster's data directory."""
        assert self.tmpdir is not None, "server not started"
        return self.tmpdir / "data"

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> PostgresServer:
        """Create the cluster and start the server; return self once it accepts connections."""
        # As root the temporary directory must be reachable by the postgres user: keep it in /tmp.
        self.tmpdir = Path(tempfile.mkdtemp(prefix="pg-test-", dir="/tmp" if self._as_root else None))
        try:
            if self._as_root:
                server_user = _ensure_server_user()
                os.chown(self.tmpdir, server_user.pw_uid, server_user.pw_gid)
            self._run(
                "initdb",
                *("-D", str(self.datadir), "-U", self.user, "-A", "trust", "-E", "UTF8"),
                *("--no-locale", "--no-sync", "--no-instructions"),
            )
            for _ in range(_START_ATTEMPTS):
                self.port = _free_port()
                self._write_config()
                try:
                    self._pg_ctl("-l", str(self.logfile), "-w", "-t", "60", "-s", "start")
                    return self
                except PostgresUnavailable:
                    # Another process may have taken the port between the check and the bind: try another.
                    if "could not bind" not in self.log_tail():
                        raise
            raise PostgresUnavailable(f"PostgreSQL found no free port in {_START_ATTEMPTS} attempts")
        except BaseException:
            self.stop()
            raise

    @property
    def logfile(self) -> Path:
        """The server's log file (kept until :meth:`stop`)."""
        assert self.tmpdir is not None, "server not started"
        return self.tmpdir / "server.log"

    def log_tail(self, lines: int = 20) -> str:
        """Return the last lines of the server log, for error messages."""
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _write_config(self) -> None:
        """Append the test settings; later lines override earlier ones, so a retry just appends again."""
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.tmpdir}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "100",
        }
        with open(self.datadir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# tests/postgres.py\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def _run(self, program: str, *args: str) -> None:
        """Run a server program from bindir, as the postgres user when we are root."""
        argv = [str(self.bindir / program), *args]
        if self._as_root:
            argv = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", SERVER_USER, "--", *argv]
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env["LC_ALL"] = "C"
        result = subprocess.run(
            argv,
            cwd=self.tmpdir,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"{program} failed with exit code {result.returncode}:\n{result.stdout}{result.stderr}"
                f"\nserver log:\n{self.log_tail()}"
            )

    def _pg_ctl(self, *args: str) -> None:
        """Run ``pg_ctl`` on this server's data directory."""
        self._run("pg_ctl", "-D", str(self.datadir), *args)

    def stop(self) -> None:
        """Stop the server (immediately: the data is thrown away) and delete its directory."""
        if self.tmpdir is None:
            return
        if (self.datadir / "postmaster.pid").exists():
            with contextlib.suppress(PostgresUnavailable):  # already gone: nothing left to stop
                self._pg_ctl("-m", "immediate", "-w", "-s", "stop")
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        self.tmpdir = None

    def url(self, dbname: str, driver: str = "postgresql+psycopg") -> str:
        """Return the SQLAlchemy URL of a database on this server."""
        return f"{driver}://{self.user}@{self.host}:{self.port}/{dbname}"

    def connect_admin(self) -> psycopg.Connection:
        """Return an autocommit connection to the ``postgres`` maintenance database."""
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            dbname="postgres",
            autocommit=True,
            connect_timeout=10,
        )

    def create_database(self, label: str = "test") -> str:
        """Create an empty database and return its name (``label`` made safe, plus a unique suffix)."""
        safe = re.sub(r"[^a-z0-9_]", "_", label.lower())[:40]
        name = f"{safe}_{os.getpid()}_{next(_names)}"
        with self.connect_admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, closing any connection still open to it (a pool a test forgot to dispose)."""
        with self.connect_admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _ensure_server_user() -> pwd.struct_passwd:
    """Return the postgres system user, creating it first if this machine has none."""
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/bin/sh", SERVER_USER],
            check=True,
            stdin=subprocess.DEVNULL,
        )
        return pwd.getpwnam(SERVER_USER)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a PostgreSQL fixture with ``postgres`` (before ``-m`` selects)."""
    for item in items:
        if FIXTURE_NAMES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The throw-away PostgreSQL server, started once per session and removed at its end."""
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """SQLAlchemy URL (``postgresql+psycopg://postgres@127.0.0.1:PORT/NAME``) of one database per session."""
    return postgres_server.url(postgres_server.create_database("session"))


@pytest.fixture(scope="module")
def module_postgres_db(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """SQLAlchemy URL of a fresh empty database for the current test module; dropped after the module."""
    name = postgres_server.create_database(request.module.__name__.rpartition(".")[2])
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture
def fresh_postgres_db(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """SQLAlchemy URL of a fresh empty database for the current test; dropped after the test."""
    name = postgres_server.create_database(request.node.name)
    yield postgres_server.url(name)
    postgres_server.drop_database(name)
