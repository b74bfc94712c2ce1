"""Form pickers of users (by role, one or several), known errors and articles: shown, looked up, checked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import render_template_string
from sqlalchemy import select

from app.extensions import db
from app.models import Article, KnownError
from app.services.core import WIDGETS, parse_form
from app.services.errors import InvalidInput, ProcessProblem
from app.services.workflow import validate_form
from app.tasks.formview import picker_choices
from tests.conftest import user

ZH_EN = {"zh": "中", "en": "En"}
NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)

PICKERS = {
    "title": ZH_EN,
    "schema": {
        "type": "object",
        "properties": {
            "voters": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "expert": {"type": "string"},
            "known_error": {"type": "string"},
            "articles": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["voters"],
    },
    "fields": [
        {
            "name": "voters",
            "label": {"zh": "评审委员", "en": "Voters"},
            "widget": "user_picker",
            "role": "cab",
        },
        {"name": "expert", "label": ZH_EN, "widget": "user_picker"},
        {"name": "known_error", "label": ZH_EN, "widget": "known_error_picker"},
        {"name": "articles", "label": ZH_EN, "widget": "article_picker"},
    ],
}


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def _validate(data):
    return validate_form(
        parse_form("pickers", PICKERS), data, actor=user("desk"), locale="en", tz="Asia/Shanghai", now=NOW
    )


def _keys():
    known_error = db.session.scalar(select(KnownError.key).order_by(KnownError.id).limit(1))
    article = db.session.scalar(select(Article.key).where(Article.state == "formal").limit(1))
    return known_error, article


def test_the_new_widgets_are_in_the_catalogue_and_a_role_only_fits_a_user_picker():
    assert {"user_picker", "known_error_picker", "article_picker"} <= WIDGETS
    form = parse_form("pickers", PICKERS)
    assert form.field("voters").role == "cab" and form.field("voters").is_array
    wrong = {**PICKERS, "fields": [{**PICKERS["fields"][2], "role": "cab"}, *PICKERS["fields"][:2]]}
    with pytest.raises(ProcessProblem, match="only a user_picker names a role"):
        parse_form("wrong", wrong)
    unknown = {**PICKERS, "fields": [{**PICKERS["fields"][0], "role": "wizard"}, *PICKERS["fields"][1:]]}
    with pytest.raises(ProcessProblem):
        parse_form("unknown", unknown)


def test_valid_picks_pass(ctx):
    known_error, article = _keys()
    clean = _validate({"voters": ["cab1"], "expert": "l2", "known_error": known_error, "articles": [article]})
    assert clean == {"voters": ["cab1"], "expert": "l2", "known_error": known_error, "articles": [article]}


def test_users_must_exist_and_hold_the_fields_role_and_records_must_exist(ctx):
    with pytest.raises(InvalidInput) as caught:
        _validate(
            {
                "voters": ["cab1", "desk", "nobody"],
                "expert": "ghost",
                "known_error": "KE-1999-000001",
                "articles": ["KB-1999-000009"],
            }
        )
    errors = caught.value.field_errors
    assert errors["voters"] == [
        "desk does not hold the role Change advisory board.",
        "No such user: nobody",
    ]
    assert errors["expert"] == ["No such user: ghost"]
    assert errors["known_error"] == ["No such known error: KE-1999-000001"]
    assert errors["articles"] == ["No such knowledge article: KB-1999-000009"]


def test_pickers_render_as_filterable_selects_with_their_api_sources(app):
    form = parse_form("pickers", PICKERS)
    template = '{% import "_form.html" as forms %}{{ forms.fields(form, values, {}, choices, {}) }}'
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        from flask_login import login_user

        login_user(user("desk"))
        choices = picker_choices(form)
        html = render_template_string(template, form=form, values={"voters": ["cab1"]}, choices=choices)
    assert [username for username, _ in choices["users:cab"]] == ["cab1", "cab2", "cab3", "cab4", "cab5"]
    assert "desk" in [username for username, _ in choices["users"]]
    assert '<select id="f-voters" name="voters" multiple size="8"' in html
    assert 'data-picker-source="/api/v1/users?role=cab"' in html
    assert '<option value="cab1" selected>' in html
    expert = html.split('<select id="f-expert"', 1)[1].split(">", 1)[0]
    assert "multiple" not in expert  # one person
    assert (
        'data-picker-source="/api/v1/known-errors"' in html
        and 'data-picker-source="/api/v1/articles"' in html
    )
    assert "KE-" in html and "KB-" in html


def test_picker_lookups_filter_by_role_and_words(as_user):
    client = as_user("desk")
    cab = client.get("/api/v1/users?role=cab").get_json()["items"]
    assert [item["username"] for item in cab] == ["cab1", "cab2", "cab3", "cab4", "cab5"]
    assert "display_name" in cab[0]
    support = client.get("/api/v1/users?role=support_l2").get_json()["items"]
    assert {item["username"] for item in support} == {"l2", "incmgr"}
    assert [item["username"] for item in client.get("/api/v1/users?q=incmgr").get_json()["items"]] == [
        "incmgr"
    ]
    errors = client.get("/api/v1/known-errors?q=乱码").get_json()["items"]
    assert len(errors) == 1 and errors[0]["title"].endswith("文件名乱码")
    articles = client.get("/api/v1/articles?q=VPN").get_json()["items"]
    assert [item["state"] for item in articles] == ["formal"]
    assert client.get("/api/v1/articles?q=视频流").get_json()["items"] == []  # another's temporary article
    assert as_user("knowledge_operator").get("/api/v1/articles?q=视频流").get_json()["total"] == 1
