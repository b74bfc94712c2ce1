"""Pytest plugin: headless Chromium through Playwright, and Flask apps served on loopback for it.

Load it from tests/conftest.py with ``pytest_plugins = ["tests.browser"]``. Fixtures:

- ``browser`` (session): a Playwright ``Browser`` running Debian's ``/usr/bin/chromium``.
- ``page`` (function): a new page in its own browser context (no cookies shared between tests).
- ``live_server`` (function): a factory; ``live_server(app)`` serves a Flask app on 127.0.0.1 on a free port
  in a background thread and returns its base URL (``http://127.0.0.1:PORT``); stopped after the test.

Tests that use ``browser`` or ``page`` are marked ``browser`` automatically. Without /usr/bin/chromium they
are skipped, unless ``CI`` or ``REQUIRE_BROWSER`` is set: then they fail (``make test`` installs chromium as
root). Playwright never downloads a browser of its own here; it drives the Debian package. ``chromium.launch``
gives the browser a fresh temporary ``--user-data-dir`` and deletes it on close.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

CHROMIUM = Path("/usr/bin/chromium")
FIXTURE_NAMES = frozenset({"browser", "page"})
# --no-sandbox: CI runs as root. The rest keeps Chromium off the network (closed here) and quick to start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
DEFAULT_TIMEOUT_MS = 10_000


def _env_flag(name: str) -> bool:
    """True if the environment variable is set to anything but empty, 0, false or no."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def require_chromium() -> None:
    """Skip the test if /usr/bin/chromium is missing, or fail when CI or REQUIRE_BROWSER is set."""
    if os.access(CHROMIUM, os.X_OK):
        return
    reason = (
        f"{CHROMIUM} is missing: browser tests need Debian's chromium package "
        "(`make test` installs it as root; otherwise apt-get install -y chromium)"
    )
    if _env_flag("CI") or _env_flag("REQUIRE_BROWSER"):
        pytest.fail(reason + "; CI/REQUIRE_BROWSER is set, so this is an error, not a skip", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a browser fixture with ``browser`` (before ``-m`` selects)."""
    for item in items:
        if FIXTURE_NAMES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """A headless Chromium (``playwright.sync_api.Browser``) shared by the session."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A new page (``playwright.sync_api.Page``) in a browser context of its own, closed after the test."""
    context = browser.new_context()
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def live_server() -> Iterator[Callable[..., str]]:
    """Factory: ``live_server(app)`` serves a WSGI app on 127.0.0.1 and returns its base URL.

    Each call starts a threaded werkzeug server on a free port in a daemon thread; all of them are shut down
    when the test ends. The app runs in this process, so it shares the test's database and fixtures.
    """
    started: list[tuple[BaseWSGIServer, threading.Thread]] = []

    def serve(app: Callable) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name=f"live_server:{server.port}", daemon=True)
        thread.start()
        started.append((server, thread))
        return f"http://127.0.0.1:{server.port}"

    yield serve
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
