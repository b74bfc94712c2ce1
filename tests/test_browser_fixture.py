"""The browser plugin of tests/browser.py: a Flask page served on loopback, read by headless Chromium."""

import pytest
from flask import Flask

pytestmark = pytest.mark.browser


def _tiny_app() -> Flask:
    """A Flask app with one page whose heading is set by a script, so the test proves JavaScript ran."""
    app = Flask(__name__)

    @app.get("/")
    def index() -> str:
        return (
            "<!doctype html><html lang='en'><head><title>Service desk</title></head><body>"
            "<h1 id='greeting'>Loading</h1>"
            "<script>document.getElementById('greeting').textContent = 'Service desk ready';</script>"
            "</body></html>"
        )

    return app


def test_page_heading_is_rendered(live_server, page):
    """Chromium loads the live server's page, runs its script and shows the heading."""
    base_url = live_server(_tiny_app())
    assert base_url.startswith("http://127.0.0.1:")
    response = page.goto(base_url + "/")
    assert response is not None and response.status == 200
    assert page.title() == "Service desk"
    assert page.locator("h1").inner_text() == "Service desk ready"


def test_missing_page_is_a_404(live_server, page):
    """The live server answers like the app: an unknown path is a 404 in the browser too."""
    base_url = live_server(_tiny_app())
    response = page.goto(base_url + "/nowhere")
    assert response is not None and response.status == 404
