"""Shared fixtures: an app on a fresh copy of a seeded database, a CSRF-aware client, sign-in helpers."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db
from config import TestingConfig

pytest_plugins = ["tests.postgres", "tests.browser"]

ROOT = Path(__file__).resolve().parent.parent

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class CsrfClient(FlaskClient):
    """A test client that sends the CSRF token on unsafe requests, as a browser with the page would.

    Pass ``csrf=False`` to send a request without it.
    """

    _token: str | None = None

    def csrf_token(self) -> str:
        """A valid token for this client's session."""
        if self._token is None:
            response = super().open("/api/v1/csrf-token", method="GET")
            self._token = response.get_json()["csrf_token"]
        return self._token

    def open(self, *args, csrf: bool = True, **kwargs):  # noqa: D102 - FlaskClient API
        method = (kwargs.get("method") or "GET").upper()
        if csrf and method not in {"GET", "HEAD", "OPTIONS"}:
            headers = dict(kwargs.pop("headers", None) or {})
            if "Authorization" not in headers:
                headers["X-CSRFToken"] = self.csrf_token()
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def make_app(database_url: str, **overrides) -> Flask:
    """An app for tests on the given database (and its own audit checkpoint file)."""
    overrides.setdefault("AUDIT_CHECKPOINT_PATH", str(Path(tempfile.mkdtemp()) / "audit-checkpoint.json"))
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_url, **overrides)
    app.test_client_class = CsrfClient
    return app


def prepare_database(app: Flask) -> None:
    """Schema, demo roles/users/CIs and the deployed processes."""
    from app.demo import seed_demo
    from app.services.workflow import deploy_directory

    with app.app_context():
        db.create_all()
        seed_demo()
        deploy_directory(author="tests")
        db.engine.dispose()


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory) -> Path:
    """A SQLite file prepared once per session; each test gets its own copy."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    prepare_database(make_app(f"sqlite:///{path}"))
    return path


@pytest.fixture
def app(seeded_sqlite: Path, tmp_path: Path) -> Iterator[Flask]:
    """The platform on a private copy of the seeded database."""
    path = tmp_path / "test.sqlite"
    shutil.copy(seeded_sqlite, path)
    application = make_app(f"sqlite:///{path}")
    # No app context stays pushed: requests made while one is pushed would share its `g` (the signed-in user,
    # the CSRF token). Tests open `with app.app_context():` around direct database reads.
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> CsrfClient:
    """A browser-like client (cookies, CSRF token)."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    """The `flask` command line of the app."""
    return app.test_cli_runner()


def sign_in(client: FlaskClient, username: str, password: str = "demo"):  # noqa: S107 - demo password
    """Sign in through the sign-in form; returns the response."""
    return client.post("/login", data={"username": username, "password": password}, follow_redirects=False)


@pytest.fixture
def login(client: CsrfClient):
    """``login("desk")`` signs the client in as a demo user (and out of anyone else)."""

    def _login(username: str, password: str = "demo") -> CsrfClient:  # noqa: S107 - demo password
        client._cookies.clear()
        client._token = None
        response = sign_in(client, username, password)
        assert response.status_code == 302, f"sign-in as {username} failed: {response.status_code}"
        client._token = None
        return client

    return _login


@pytest.fixture
def as_user(app: Flask):
    """``as_user("desk")`` returns a fresh signed-in client for that user (several users side by side)."""

    def _as(username: str) -> CsrfClient:
        fresh = app.test_client()
        response = sign_in(fresh, username)
        assert response.status_code == 302, f"sign-in as {username} failed: {response.status_code}"
        fresh._token = None
        return fresh

    return _as


def direct_writes():
    """Write to the database straight from a test (tampering, odd states set up by hand) as commands do.

    On SQLite a write outside a service command raises in the test suite (app/services/core/unit.py).
    """
    from app.services.core import writing

    return writing()


def user(username: str):
    """The User row of a demo user (inside an app context)."""
    from sqlalchemy import select

    from app.models import User

    return db.session.scalar(select(User).where(User.username == username))
