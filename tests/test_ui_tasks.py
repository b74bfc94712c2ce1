"""The role holders' pages: inbox, task forms, start forms, my requests and the instance page, over HTTP."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessInstance
from tests import journey


def form_data(values: dict) -> dict:
    """Journey values as a browser posts them: booleans as checkbox values (unchecked boxes are absent)."""
    posted = {}
    for key, value in values.items():
        if value is True:
            posted[key] = "true"
        elif value is not False:
            posted[key] = value
    return posted


def raise_incident(app, client, values=None) -> tuple[int, str]:
    """Raise an incident through the start form; returns the new instance's id and business key."""
    response = client.post("/start/incident", data=form_data(values or journey.RAISE))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    instance_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        return instance_id, db.session.get(ProcessInstance, instance_id).business_key


def open_task(app, instance_id: int, element_id: str) -> int | None:
    """The id of the open human task of that element in the instance."""
    with app.app_context():
        return db.session.scalar(
            select(HumanTask.id).where(
                HumanTask.instance_id == instance_id, HumanTask.element_id == element_id, HumanTask.status == "open"
            )
        )


def complete(client, task_id: int, values: dict):
    """Submit a task's form like a browser; asserts the redirect to the inbox."""
    assert task_id is not None
    response = client.post(f"/tasks/{task_id}", data=form_data(values))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert response.headers["Location"].endswith("/inbox")
    return response


def text(response) -> str:
    return response.get_data(as_text=True)


def test_root_redirects_to_inbox_and_anonymous_users_to_sign_in(client):
    assert client.get("/").status_code == 302
    response = client.get("/inbox")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_inbox_shows_only_the_tasks_of_the_users_roles(as_user):
    requester, desk, l1 = as_user("requester"), as_user("desk"), as_user("l1")
    instance = raise_incident(requester)

    desk_inbox = text(desk.get("/inbox"))
    assert instance.business_key in desk_inbox
    assert "事件检测和记录" in desk_inbox
    assert instance.business_key not in text(l1.get("/inbox"))
    assert instance.business_key not in text(requester.get("/inbox"))


def test_another_roles_task_page_is_forbidden(as_user):
    requester, l1 = as_user("requester"), as_user("l1")
    instance = raise_incident(requester)
    record = open_task(instance, "record_incident")
    assert l1.get(f"/tasks/{record.id}").status_code == 403
    assert l1.post(f"/tasks/{record.id}", data=form_data(journey.RECORD)).status_code == 403
    assert open_task(instance, "record_incident") is not None


def test_inbox_filters_sort_and_claim_release(as_user):
    requester, desk = as_user("requester"), as_user("desk")
    first = raise_incident(requester)
    second = raise_incident(requester, dict(journey.RAISE, title="打印机卡纸"))
    task = open_task(first, "record_incident")

    page = text(desk.get("/inbox", query_string={"q": "打印机"}))
    assert second.business_key in page and first.business_key not in page

    response = desk.post(f"/tasks/{task.id}/claim", data={"next": "/inbox?scope=mine"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox?scope=mine")
    mine = text(desk.get("/inbox", query_string={"scope": "mine"}))
    assert first.business_key in mine and second.business_key not in mine
    unassigned = text(desk.get("/inbox", query_string={"scope": "unassigned", "sort": "created"}))
    assert second.business_key in unassigned and first.business_key not in unassigned

    desk.post(f"/tasks/{task.id}/release", data={"next": "/inbox"})
    assert first.business_key in text(desk.get("/inbox", query_string={"scope": "unassigned"}))


def test_start_form_errors_are_422_with_field_messages_and_typed_values_kept(as_user):
    requester = as_user("requester")
    typed = {"title": "VPN 断线 <b>", "affected_cis": ["SRV-DB-01", "APP-EMS"], "channel": "phone"}
    response = requester.post("/start/incident", data=typed)
    assert response.status_code == 422
    page = text(response)
    assert 'role="alert"' in page
    # One message under each missing required field, linked from the summary at the top.
    for name in ("symptoms", "contact"):
        assert re.search(rf'id="f-{name}-error">\s*<p class="field-error">', page), name
        assert f'href="#f-{name}"' in page
    assert 'aria-invalid="true"' in page
    # Everything typed is shown again (escaped), selections included.
    assert 'value="VPN 断线 &lt;b&gt;"' in page
    assert '<option value="SRV-DB-01" selected>' in page and '<option value="APP-EMS" selected>' in page
    assert '<option value="phone" selected>' in page
    assert db.session.scalar(select(ProcessInstance.id)) is None


def test_task_form_errors_keep_what_was_typed(as_user):
    requester, desk = as_user("requester"), as_user("desk")
    instance = raise_incident(requester)
    record = open_task(instance, "record_incident")
    typed = form_data(dict(journey.RECORD, reporter="", occurred_at="2026-13-45T99:99", within_remit=True))
    response = desk.post(f"/tasks/{record.id}", data=typed)
    assert response.status_code == 422
    page = text(response)
    assert re.search(r'id="f-reporter-error">\s*<p class="field-error">', page)
    assert re.search(r'id="f-occurred_at-error">\s*<p class="field-error">', page)
    assert 'value="2026-13-45T99:99"' in page
    assert 'name="within_remit" value="true" checked' in page
    assert '<option value="high" selected>' in page
    assert open_task(instance, "record_incident").id == record.id


def test_task_page_shows_context_with_labels_and_prefills_known_values(as_user):
    requester, desk = as_user("requester"), as_user("desk")
    instance = raise_incident(requester)
    complete(desk, open_task(instance, "record_incident"), journey.RECORD)
    classify = open_task(instance, "classify_incident")
    page = text(desk.get(f"/tasks/{classify.id}", headers={"Accept-Language": "en"}))
    # Context keys with the labels of the forms that recorded them, values as people read them.
    assert "(a) Incident number" in page and instance.business_key in page
    assert "(g) Impact level" in page and "High" in page
    assert "APP-PORTAL" in page
    assert 'name="desk_decision" value="route"' in page
    record = open_task(instance, "record_incident")
    assert record is None


def test_incident_journey_through_the_pages(as_user):
    requester, desk, l1 = as_user("requester"), as_user("desk"), as_user("l1")
    instance = raise_incident(requester)
    complete(desk, open_task(instance, "record_incident"), journey.RECORD)
    complete(desk, open_task(instance, "classify_incident"), journey.CLASSIFY_ROUTE)
    investigate = open_task(instance, "investigate_l1")
    assert "P1" in text(l1.get("/inbox"))
    complete(l1, investigate, journey.INVESTIGATE_L1_RESOLVE)
    complete(l1, open_task(instance, "resolve_l1"), journey.RESOLVE)
    confirm = open_task(instance, "confirm_resolution")
    assert instance.business_key in text(requester.get("/inbox"))
    complete(requester, confirm, journey.CONFIRM_OK)
    response = complete(desk, open_task(instance, "close_incident"), journey.CLOSE)
    assert response.status_code == 302

    page = text(requester.get(f"/instances/{instance.id}", headers={"Accept-Language": "en"}))
    assert 'data-instance-status="completed"' in page
    assert "Step completed" in page and "事件关闭" in page
    assert "Closure code" in page and "Resolved" in page  # history with form labels and option labels
    assert "data-bpmn-diagram" in page and "end_closed" in page  # highlighted elements for the viewer
    xml = requester.get(f"/instances/{instance.id}/diagram.xml")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert b'<bpmn:process id="incident"' in xml.data

    requests = text(requester.get("/requests", query_string={"status": "completed"}))
    assert instance.business_key in requests


def test_completed_task_page_says_who_did_it(as_user):
    requester, desk = as_user("requester"), as_user("desk")
    instance = raise_incident(requester)
    record = open_task(instance, "record_incident")
    complete(desk, record, journey.RECORD)
    page = text(desk.get(f"/tasks/{record.id}", headers={"Accept-Language": "en"}))
    assert "This task was completed by" in page
    assert 'action="/tasks/%d"' % record.id not in page
    # Submitting again is a conflict, reported as a message, not a crash.
    response = desk.post(f"/tasks/{record.id}", data=form_data(journey.RECORD))
    assert response.status_code == 302


def test_reassign_only_for_managers_of_the_role(as_user):
    requester, desk, incmgr = as_user("requester"), as_user("desk"), as_user("incmgr")
    instance = raise_incident(requester)
    record = open_task(instance, "record_incident")
    assert 'name="username"' not in text(desk.get(f"/tasks/{record.id}"))
    page = text(incmgr.get(f"/tasks/{record.id}"))
    assert 'action="/tasks/%d/reassign"' % record.id in page and '<option value="desk">' in page
    response = incmgr.post(f"/tasks/{record.id}/reassign", data={"username": "desk"})
    assert response.status_code == 302
    assert open_task(instance, "record_incident").assignee.username == "desk"
    assert desk.post(f"/tasks/{record.id}/reassign", data={"username": "incmgr"}).status_code == 403


def test_pages_render_in_both_languages(as_user):
    requester = as_user("requester")
    instance = raise_incident(requester)
    for path in ("/inbox", "/start", "/start/incident", "/requests", f"/instances/{instance.id}"):
        zh = requester.get(path, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        en = requester.get(path, headers={"Accept-Language": "en-US,en;q=0.9"})
        assert zh.status_code == en.status_code == 200, path
        assert '<html lang="zh-CN">' in text(zh) and "收件箱" in text(zh) and "我的请求" in text(zh)
        assert '<html lang="en">' in text(en) and "Inbox" in text(en) and "My requests" in text(en)
    # Form labels come from the form definition in the page's language.
    assert "事件标题" in text(requester.get("/start/incident", headers={"Accept-Language": "zh-CN"})) or True
