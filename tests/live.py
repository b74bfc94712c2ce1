"""A real server for tests that need one: gunicorn (several workers, threads) on a seeded database.

``LiveServer`` starts ``gunicorn wsgi:app`` in a subprocess with the given database URL and environment,
waits until it answers, and stops it (``kill()`` sends SIGKILL, as a crash would). ``Api`` is a small JSON
client with a bearer token, safe to use from many threads at once; ``api_tokens`` issues tokens for
demo users.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """``gunicorn wsgi:app`` on 127.0.0.1 against ``database_url`` (use as a context manager)."""

    def __init__(
        self,
        database_url: str,
        log_path: Path,
        *,
        workers: int = 2,
        threads: int = 8,
        env: dict[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.workers = workers
        self.threads = threads
        self.port = port or free_port()
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:5123``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> LiveServer:
        """Start the server and wait until it accepts connections."""
        env = {k: v for k, v in os.environ.items() if k not in {"APP_ENV", "SCHEDULER_ENABLED"}}
        env.update(DATABASE_URL=self.database_url, SECRET_KEY="live-server-test-secret", **self.extra_env)
        self._log = log = self.log_path.open("a")
        command = [str(GUNICORN), "-w", str(self.workers), "--threads", str(self.threads)]
        command += ["-b", f"127.0.0.1:{self.port}", "--timeout", "120", "--graceful-timeout", "5", "wsgi:app"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/login", timeout=5) as response:  # noqa: S310 - http://127.0.0.1
                    if response.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                pass
            if self.process.poll() is not None:
                self._closed()
                raise RuntimeError(f"gunicorn exited: {self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within {timeout} s: {self.log()[-3000:]}")
            time.sleep(0.2)

    def log(self) -> str:
        """What the server wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole server (master and workers), as a crash would, and wait for it."""
        if self.process is None:
            return
        _kill_children(self.process.pid)
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait(timeout=30)
        self._closed()

    def _closed(self) -> None:
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        """Stop the server gracefully."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        self._closed()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _kill_children(pid: int) -> None:
    """SIGKILL the gunicorn workers of master ``pid`` (they would outlive a killed master briefly)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status and decoded JSON body (None when the body is not JSON)."""

    status: int
    body: dict | None


class Api:
    """A JSON client of the platform's API with a bearer token (one urllib request per call)."""

    def __init__(self, base_url: str, token: str | None) -> None:
        self.base_url = base_url
        self.token = token

    def call(self, method: str, path: str, body: dict | None = None, timeout: float = 60) -> Reply:
        """Send one request; HTTP errors come back as a Reply, not an exception."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        url = f"{self.base_url}{path}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - loopback
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback
                return Reply(response.status, _json(response.read()))
        except urllib.error.HTTPError as error:
            return Reply(error.code, _json(error.read()))

    def get(self, path: str) -> Reply:
        """GET ``path``."""
        return self.call("GET", path)

    def post(self, path: str, body: dict | None = None) -> Reply:
        """POST ``body`` as JSON to ``path``."""
        return self.call("POST", path, body if body is not None else {})


def _json(raw: bytes) -> dict | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def api_tokens(app, usernames) -> dict[str, str]:
    """An API token for each demo user (issued in the app's database, before the server starts)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import User
    from app.services.governance import issue_api_token

    tokens = {}
    with app.app_context():
        for username in usernames:
            user = db.session.scalar(select(User).where(User.username == username))
            tokens[username] = issue_api_token(user, user.id)
        db.session.remove()
        db.engine.dispose()
    return tokens
