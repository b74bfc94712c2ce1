"""The platform serves under gunicorn from wsgi.py, and production refuses to start without a secret."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import ROOT

GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "APP_ENV"}}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite'}",
        APP_ENV="production",
        SESSION_COOKIE_SECURE="0",
        **extra,
    )
    return env


def test_gunicorn_serves_the_sign_in_page(tmp_path):
    port = _free_port()
    env = _env(tmp_path, SECRET_KEY="a-long-random-production-secret")
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(GUNICORN), "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:  # wait until gunicorn listens, then ask once
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
                assert time.monotonic() < deadline, "gunicorn did not listen within 30 s"
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=30) as response:
            assert response.status == 200
            assert b'name="password"' in response.read()
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def test_production_without_secret_does_not_start(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
