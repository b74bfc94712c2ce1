"""No request ever answers 5xx for bad input: every route of the url_map, odd ids, odd bodies, every method.

Each route is asked with values its converters accept but that name nothing (0, huge ids, odd strings), each
method it allows, bodies that are empty, the wrong JSON type, broken JSON or stray form fields — as nobody,
as a signed-in administrator (page session with its CSRF token) and as an API client with a bearer token.
Before: a huge id answered 500 (OverflowError), an API POST without a token the CSRF page, a POST to a path
that matches no route a CSRF error instead of 404.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from werkzeug.routing import IntegerConverter, PathConverter

from app.extensions import db
from tests.conftest import make_app, prepare_database, sign_in
from tests.live import api_tokens

INT_VALUES = ("1", "0", "987654321", str(2**63), str(10**30))
TEXT_VALUES = ("INC-2026-000001", "no-such-thing", "..%2F..%2Fetc", "%E4%B8%AD%E6%96%87" * 20, "%00")
PATH_VALUES = ("a/b", "..%2F..%2Fetc%2Fpasswd")
BODIES = {
    "none": {},
    "json-object": {"json": {"data": {"title": 7, "unknown": [1, 2]}, "q": {"a": 1}}},
    "json-list": {"json": [1, "two", None]},
    "json-broken": {"data": b"{not json", "content_type": "application/json"},
    "form": {"data": {"username": "x" * 300, "page": "-9", "file": "zzz", "reason": ""}},
    "json-big-number": {"json": {"data": {"priority": 10**400}, "page": 10**30}},
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: Routes whose request ends the session of the client that sends it (asked last, once).
SESSION_ENDING = {"auth.logout"}


def _values(converter) -> tuple[str, ...]:
    if isinstance(converter, IntegerConverter):
        return INT_VALUES
    if isinstance(converter, PathConverter):
        return PATH_VALUES
    return TEXT_VALUES


def urls_of(rule) -> list[str]:
    """The rule filled with each odd value in turn (other arguments keep their first value)."""
    names = sorted(rule.arguments)
    if not names:
        return [rule.rule]
    urls = []
    for index in range(max(len(_values(rule._converters[n])) for n in names)):
        url = rule.rule
        for name in names:
            values = _values(rule._converters[name])
            url = url.replace(f"<{_spec(rule, name)}>", values[index % len(values)])
        urls.append(url)
    return urls


def _spec(rule, name: str) -> str:
    """The ``int:task_id`` text of an argument in the rule string."""
    start = rule.rule.index(f":{name}>") if f":{name}>" in rule.rule else rule.rule.index(f"<{name}>")
    opening = rule.rule.rfind("<", 0, start + 1)
    return rule.rule[opening + 1 : rule.rule.index(">", opening)]


@pytest.fixture(params=["sqlite", "postgres"])
def fuzz_app(request, tmp_path: Path):
    if request.param == "sqlite":
        path = tmp_path / "fuzz.sqlite"
        shutil.copy(request.getfixturevalue("seeded_sqlite"), path)
        app = make_app(f"sqlite:///{path}")
    else:
        app = make_app(request.getfixturevalue("fresh_postgres_db"))
        prepare_database(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_no_route_answers_5xx_to_odd_input(fuzz_app) -> None:
    token = api_tokens(fuzz_app, ["admin"])["admin"]
    anonymous = fuzz_app.test_client()
    admin = fuzz_app.test_client()
    assert sign_in(admin, "admin").status_code == 302
    bearer = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    rules = sorted(
        (r for r in fuzz_app.url_map.iter_rules() if r.endpoint != "static"),
        key=lambda r: (r.endpoint in SESSION_ENDING, r.rule),
    )
    failures, asked = [], 0
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            bodies = BODIES if method in UNSAFE else {"none": {}}
            for url in urls_of(rule):
                for body_name, body in bodies.items():
                    for who, client, headers in (
                        ("anonymous", anonymous, {}),
                        ("admin", admin, {}),
                        ("api", anonymous, bearer),
                    ):
                        response = client.open(url, method=method, headers=headers, **body)
                        asked += 1
                        if response.status_code >= 500:
                            failures.append(f"{who} {method} {url} [{body_name}] -> {response.status_code}")
                        if who == "admin" and response.status_code == 302 and "/login" in response.location:
                            assert sign_in(admin, "admin").status_code == 302
    assert asked > 1000
    assert failures == []


def test_the_cases_seen_before(client, login) -> None:
    assert client.get(f"/tasks/{2**70}").status_code in (302, 404)
    reply = client.post("/api/v1/processes/incident/instances", json={"data": {}}, csrf=False)
    assert reply.status_code == 401 and reply.get_json()["error"]["code"] == "unauthorized"
    login("desk")
    assert client.get(f"/tasks/{2**70}").status_code == 404
    assert client.get(f"/api/v1/instances/{2**64}").status_code == 404
    reply = client.post("/api/v1/tasks/abc/complete", json={"data": {}}, csrf=False)
    assert reply.status_code == 404 and reply.get_json()["error"]["code"] == "not_found"
