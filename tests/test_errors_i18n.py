"""The services' error messages speak the reader's language: pages, JSON, flashes and field errors.

Without Accept-Language (and with no saved choice) a request is answered in the default language, zh_CN.
"""

from __future__ import annotations

import html

import pytest
from flask_babel import force_locale

from app.extensions import db
from app.models import HumanTask
from app.services import workflow
from app.services.errors import Forbidden
from tests import journey
from tests.conftest import user
from tests.test_api_incident import complete, only_task, start

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en-US,en;q=0.8"}

WRONG_ROLE = {
    "zh": "此待办属于「服务台」角色，您不具有该角色。",
    "en": "This task is for the role 'Service desk', which you do not hold.",
}
COMPLETED = {"zh": "此待办已经办结。", "en": "This task has already been completed."}


def page_text(response) -> str:
    """The page with HTML entities decoded (Jinja escapes the apostrophes of the English messages)."""
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def record_task(as_user):
    """A fresh incident's first task (the service desk's), as the API lists it."""
    start(as_user("requester"))
    return only_task(as_user("desk"), "record_incident")


@pytest.mark.parametrize(("headers", "lang"), [(ZH, "zh"), (EN, "en"), ({}, "zh")])
def test_another_roles_task_is_403_in_the_readers_language_on_the_page(as_user, record_task, headers, lang):
    response = as_user("l1").get(f"/tasks/{record_task['id']}", headers=headers)
    assert response.status_code == 403
    page = page_text(response)
    assert WRONG_ROLE[lang] in page
    other = "en" if lang == "zh" else "zh"
    assert WRONG_ROLE[other] not in page


@pytest.mark.parametrize(("headers", "lang"), [(ZH, "zh"), (EN, "en"), ({}, "zh")])
def test_another_roles_task_is_403_in_the_readers_language_in_json(as_user, record_task, headers, lang):
    response = as_user("l1").get(f"/api/v1/tasks/{record_task['id']}", headers=headers)
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "forbidden"
    assert error["message"] == WRONG_ROLE[lang]


@pytest.mark.parametrize(("headers", "lang"), [(ZH, "zh"), (EN, "en")])
def test_completing_twice_is_a_409_in_the_readers_language(as_user, record_task, headers, lang):
    desk = as_user("desk")
    complete(desk, record_task, journey.RECORD)
    url = f"/api/v1/tasks/{record_task['id']}/complete"
    response = desk.post(url, json={"data": journey.RECORD}, headers=headers)
    assert response.status_code == 409
    assert response.get_json()["error"] == {"status": 409, "code": "conflict", "message": COMPLETED[lang]}


@pytest.mark.parametrize(("headers", "lang"), [(ZH, "zh"), (EN, "en")])
def test_completing_twice_on_the_page_flashes_the_409_in_the_readers_language(
    as_user, record_task, headers, lang
):
    desk = as_user("desk")
    complete(desk, record_task, journey.RECORD)
    response = desk.post(f"/tasks/{record_task['id']}", data={}, headers=headers, follow_redirects=True)
    assert response.status_code == 200
    assert COMPLETED[lang] in page_text(response)


@pytest.mark.parametrize(
    ("headers", "message", "field"),
    [
        (ZH, "请选择具有此待办所属角色的用户。", "该用户不具有此待办所属的角色。"),
        (EN, "Choose a user who holds the task's role.", "This user does not hold the task's role."),
    ],
)
def test_field_errors_in_json_are_translated(as_user, record_task, headers, message, field):
    response = as_user("incmgr").post(
        f"/api/v1/tasks/{record_task['id']}/reassign", json={"username": "l1"}, headers=headers
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["message"] == message
    assert error["fields"] == {"assignee": [field]}


def test_user_text_inside_a_translated_message_is_escaped(as_user):
    response = as_user("requester").get("/start/<img src=x onerror=alert(1)>", headers=EN)
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "<img src=x" not in body
    assert "No deployed process &#39;&lt;img src=x onerror=alert(1)&gt;&#39;." in body


def test_messages_resolve_outside_a_request(app, record_task):
    """A CLI command or the scheduler may render a message: the default language, or the one forced."""
    with app.app_context():
        task = db.session.get(HumanTask, record_task["id"])
        with pytest.raises(Forbidden) as excinfo:
            workflow.check_can_see(user("l1"), task)
        assert str(excinfo.value.message) == WRONG_ROLE["zh"]
        with force_locale("en"):
            assert str(excinfo.value) == WRONG_ROLE["en"]
