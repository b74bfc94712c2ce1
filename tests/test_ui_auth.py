"""Sign-in, sign-out, the language switch, CSRF on every form, and the layout's role-dependent links."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from tests.conftest import direct_writes, user


def text(response) -> str:
    """The body of a response as text."""
    return response.get_data(as_text=True)


def page_token(client, path: str = "/login") -> str:
    """The CSRF token a page embeds in its forms."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', text(client.get(path)))
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def test_sign_in_page_in_both_languages(client):
    zh = text(client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}))
    en = text(client.get("/login", headers={"Accept-Language": "en-US,en;q=0.8"}))
    assert '<html lang="zh-CN">' in zh and "登录" in zh and "用户名" in zh
    assert '<html lang="en">' in en and "Sign in" in en and "Username" in en
    assert 'for="username"' in en and 'autocomplete="current-password"' in en
    assert 'class="skip-link"' in en


def test_sign_in_through_the_form_with_its_csrf_token(client):
    token = page_token(client)
    response = client.post(
        "/login", data={"username": "desk", "password": "demo", "csrf_token": token}, csrf=False
    )
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"


def test_post_without_csrf_token_is_rejected(client, as_user):
    response = client.post("/login", data={"username": "desk", "password": "demo"}, csrf=False)
    assert response.status_code == 400
    desk = as_user("desk")
    assert desk.post("/logout", csrf=False).status_code == 400
    assert desk.post("/start/incident", data={"title": "x"}, csrf=False).status_code == 400
    assert desk.get("/inbox").status_code == 200  # still signed in


def test_wrong_password_shows_a_message_and_keeps_the_username(client):
    response = client.post(
        "/login", data={"username": "desk", "password": "nope"}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 401
    page = text(response)
    assert "Wrong username or password" in page and 'value="desk"' in page


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/requests?status=running", "/requests?status=running"),
        ("https://evil.example/", "/inbox"),
        ("//evil.example/x", "/inbox"),
        ("/\\evil.example", "/inbox"),
        ("javascript:alert(1)", "/inbox"),
    ],
)
def test_next_redirects_only_to_local_paths(client, next_url, expected):
    response = client.post("/login", data={"username": "desk", "password": "demo", "next": next_url})
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_sign_out_is_a_post(as_user):
    desk = as_user("desk")
    assert desk.get("/logout").status_code == 405
    response = desk.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert desk.get("/inbox").status_code == 302


def test_language_switch_is_kept_in_the_session_and_on_the_user(app, as_user):
    desk = as_user("desk")
    response = desk.post(
        "/locale", data={"locale": "en", "next": "/requests"}, headers={"Accept-Language": "zh-CN"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/requests"
    page = text(desk.get("/inbox", headers={"Accept-Language": "zh-CN"}))
    assert '<html lang="en">' in page and 'value="en" lang="en" aria-pressed="true"' in page
    with app.app_context():
        assert user("desk").locale == "en"
    # A new session of the same user starts in the saved language, whatever the browser says.
    again = as_user("desk")
    assert '<html lang="en">' in text(again.get("/inbox", headers={"Accept-Language": "zh-CN"}))


def test_language_switch_works_before_sign_in(client):
    client.post("/locale", data={"locale": "en", "next": "/login"})
    assert "Sign in" in text(client.get("/login", headers={"Accept-Language": "zh-CN"}))


def test_navigation_shows_only_the_links_of_the_users_roles(as_user):
    links = {
        "requester": set(),
        "owner": {"/processes/"},
        "auditor": {"/audit/"},
        "admin": {"/admin/users"},
    }
    special = {"/processes/", "/audit/", "/admin/users"}
    for username, expected in links.items():
        page = text(as_user(username).get("/inbox"))
        nav = page.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
        shown = {href for href in special if f'href="{href}"' in nav}
        assert shown == expected, username
        assert 'href="/inbox"' in nav and 'href="/requests"' in nav and 'href="/start"' in nav


def test_keyboard_shortcuts_are_documented_on_every_page(as_user):
    page = text(as_user("desk").get("/inbox", headers={"Accept-Language": "en"}))
    assert 'id="shortcuts"' in page and "<kbd>j</kbd>" in page and "<kbd>/</kbd>" in page
    assert 'data-go="i"' in page and "data-nav-list" in page and "data-filter" in page


def test_disabled_user_cannot_sign_in(app, client):
    with app.app_context(), direct_writes():
        user("l3").active = False
        db.session.commit()
    response = client.post("/login", data={"username": "l3", "password": "demo"})
    assert response.status_code == 401


def test_sign_in_prompt_is_in_the_pages_language(client):
    response = client.get("/requests", headers={"Accept-Language": "zh-CN"}, follow_redirects=True)
    assert "请先登录后再访问此页面。" in text(response)
    assert 'name="next" value="/requests"' in text(response)
