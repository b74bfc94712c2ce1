"""The role holders' pages: inbox, task forms, start forms, my requests and the instance page, over HTTP."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessInstance, User
from tests import journey
from tests.conftest import direct_writes


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
                HumanTask.instance_id == instance_id,
                HumanTask.element_id == element_id,
                HumanTask.status == "open",
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
    """The body of a response as text."""
    return response.get_data(as_text=True)


def inbox_keys(client, **params) -> list[str]:
    """The business keys of the inbox rows (not of flash messages), top to bottom."""
    page = text(client.get("/inbox", query_string=params))
    return re.findall(r'<tr data-href="/tasks/\d+"[^>]*>\s*<td[^>]*><a[^>]*>([A-Z]+-\d{4}-\d+)</a>', page)


def test_root_redirects_to_inbox_and_anonymous_users_to_sign_in(client):
    assert client.get("/").status_code == 302
    response = client.get("/inbox")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_inbox_shows_only_the_tasks_of_the_users_roles(app, as_user):
    requester, desk, l1 = as_user("requester"), as_user("desk"), as_user("l1")
    _, key = raise_incident(app, requester)

    assert inbox_keys(desk) == [key]
    assert "事件检测和记录" in text(desk.get("/inbox"))
    assert inbox_keys(l1) == []
    assert inbox_keys(requester) == []


def test_another_roles_task_page_is_forbidden(app, as_user):
    requester, l1 = as_user("requester"), as_user("l1")
    instance_id, _ = raise_incident(app, requester)
    record = open_task(app, instance_id, "record_incident")
    assert l1.get(f"/tasks/{record}").status_code == 403
    assert l1.post(f"/tasks/{record}", data=form_data(journey.RECORD)).status_code == 403
    assert open_task(app, instance_id, "record_incident") == record


def test_inbox_filters_sort_and_claim_release(app, as_user):
    requester, desk = as_user("requester"), as_user("desk")
    first_id, first = raise_incident(app, requester)
    _, second = raise_incident(app, requester, dict(journey.RAISE, title="打印机卡纸"))
    task = open_task(app, first_id, "record_incident")

    assert inbox_keys(desk, q="打印机") == [second]
    assert inbox_keys(desk, sort="created") == [second, first]

    response = desk.post(f"/tasks/{task}/claim", data={"next": "/inbox?scope=mine"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox?scope=mine")
    assert inbox_keys(desk, scope="mine") == [first]
    assert inbox_keys(desk, scope="unassigned") == [second]

    response = desk.post(f"/tasks/{task}/release", data={"next": "https://evil.example/"})
    assert response.headers["Location"] == f"/tasks/{task}"  # only local paths are followed
    assert sorted(inbox_keys(desk, scope="unassigned")) == [first, second]


def test_start_form_errors_are_422_with_field_messages_and_typed_values_kept(app, as_user):
    requester = as_user("requester")
    typed = {"title": "VPN 断线 <b>", "affected_cis": ["SRV-DB-01", "APP-EMS"], "channel": "phone"}
    response = requester.post("/start/incident", data=typed)
    assert response.status_code == 422
    page = text(response)
    assert 'role="alert"' in page
    # One message under each missing required field, linked from the summary at the top.
    for name in ("symptoms", "contact"):
        assert re.search(rf'id="f-{name}-error"><p class="field-error">', page), name
        assert f'href="#f-{name}"' in page
    assert 'aria-invalid="true"' in page
    # Everything typed is shown again (escaped), selections included.
    assert 'value="VPN 断线 &lt;b&gt;"' in page
    assert '<option value="SRV-DB-01" selected>' in page and '<option value="APP-EMS" selected>' in page
    assert '<option value="phone" selected>' in page
    with app.app_context():
        assert db.session.scalar(select(ProcessInstance.id)) is None


def test_task_form_errors_keep_what_was_typed(app, as_user):
    requester, desk = as_user("requester"), as_user("desk")
    instance_id, _ = raise_incident(app, requester)
    record = open_task(app, instance_id, "record_incident")
    typed = form_data(dict(journey.RECORD, reporter="", occurred_at="2026-13-45T99:99", error_codes="E42"))
    response = desk.post(f"/tasks/{record}", data=typed)
    assert response.status_code == 422
    page = text(response)
    assert re.search(r'id="f-reporter-error"><p class="field-error">', page)
    assert re.search(r'id="f-occurred_at-error"><p class="field-error">', page)
    assert 'value="2026-13-45T99:99"' in page
    assert 'value="E42"' in page
    assert 'name="within_remit" value="true" checked' in page
    assert '<option value="high" selected>' in page
    assert open_task(app, instance_id, "record_incident") == record


def test_task_page_shows_context_with_labels_and_prefills_known_values(app, as_user):
    requester, desk = as_user("requester"), as_user("desk")
    instance_id, key = raise_incident(app, requester)
    complete(desk, open_task(app, instance_id, "record_incident"), journey.RECORD)
    classify = open_task(app, instance_id, "classify_incident")
    page = text(desk.get(f"/tasks/{classify}", headers={"Accept-Language": "en"}))
    # Context keys with the labels of the forms that recorded them, values as people read them.
    assert "(a) Incident number" in page and key in page
    assert "(g) Impact level" in page and "<dd>High</dd>" in page
    assert "APP-PORTAL" in page
    assert 'name="desk_decision" value="route"' in page


def test_record_form_is_prefilled_from_the_raise_form(app, as_user):
    requester, desk = as_user("requester"), as_user("desk")
    instance_id, _ = raise_incident(app, requester)
    page = text(desk.get(f"/tasks/{open_task(app, instance_id, 'record_incident')}"))
    assert f'value="{journey.RAISE["title"]}"' in page
    assert '<option value="APP-PORTAL" selected>' in page


def test_incident_journey_through_the_pages(app, as_user):
    requester, desk, l1 = as_user("requester"), as_user("desk"), as_user("l1")
    instance_id, key = raise_incident(app, requester)
    complete(desk, open_task(app, instance_id, "record_incident"), journey.RECORD)
    complete(desk, open_task(app, instance_id, "classify_incident"), journey.CLASSIFY_ROUTE)
    assert inbox_keys(l1) == [key] and "prio-p1" in text(l1.get("/inbox"))
    complete(l1, open_task(app, instance_id, "investigate_l1"), journey.INVESTIGATE_L1_RESOLVE)
    complete(l1, open_task(app, instance_id, "resolve_l1"), journey.RESOLVE)
    assert inbox_keys(requester) == [key]
    complete(requester, open_task(app, instance_id, "confirm_resolution"), journey.CONFIRM_OK)
    complete(desk, open_task(app, instance_id, "close_incident"), journey.CLOSE)

    page = text(requester.get(f"/instances/{instance_id}", headers={"Accept-Language": "en"}))
    assert 'data-instance-status="completed"' in page
    assert "Step completed" in page and "事件关闭" in page
    assert "Closure code" in page and "Resolved" in page  # history with form labels and option labels
    assert "data-bpmn-diagram" in page and "end_closed" in page  # highlighted elements for the viewer
    xml = requester.get(f"/instances/{instance_id}/diagram.xml")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert b'<bpmn:process id="incident"' in xml.data

    assert key in text(requester.get("/requests", query_string={"status": "completed"}))
    assert key not in text(requester.get("/requests", query_string={"status": "running"}))


def test_completed_task_page_says_who_did_it(app, as_user):
    requester, desk = as_user("requester"), as_user("desk")
    instance_id, _ = raise_incident(app, requester)
    record = open_task(app, instance_id, "record_incident")
    complete(desk, record, journey.RECORD)
    page = text(desk.get(f"/tasks/{record}", headers={"Accept-Language": "en"}))
    assert "This task was completed by" in page
    assert f'action="/tasks/{record}"' not in page
    # Submitting again is a conflict, reported as a message on the task page, not a crash.
    response = desk.post(f"/tasks/{record}", data=form_data(journey.RECORD), follow_redirects=True)
    assert response.status_code == 200 and "alert-warning" in text(response)


def test_reassign_only_for_managers_of_the_role(app, as_user):
    requester, desk, incmgr = as_user("requester"), as_user("desk"), as_user("incmgr")
    instance_id, _ = raise_incident(app, requester)
    record = open_task(app, instance_id, "record_incident")
    assert 'name="username"' not in text(desk.get(f"/tasks/{record}"))
    page = text(incmgr.get(f"/tasks/{record}"))
    assert f'action="/tasks/{record}/reassign"' in page and '<option value="desk">' in page
    response = incmgr.post(f"/tasks/{record}/reassign", data={"username": "desk"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(HumanTask, record).assignee.username == "desk"
    assert desk.post(f"/tasks/{record}/reassign", data={"username": "incmgr"}).status_code == 403
    # The claimed task shows who holds it; others cannot complete it from the page.
    assert "only they can complete it" in text(
        incmgr.get(f"/tasks/{record}", headers={"Accept-Language": "en"})
    )


def test_pages_render_in_both_languages(app, as_user):
    requester = as_user("requester")
    instance_id, _ = raise_incident(app, requester)
    for path in ("/inbox", "/start", "/start/incident", "/requests", f"/instances/{instance_id}"):
        zh = requester.get(path, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        en = requester.get(path, headers={"Accept-Language": "en-US,en;q=0.9"})
        assert zh.status_code == en.status_code == 200, path
        assert '<html lang="zh-CN">' in text(zh) and "收件箱" in text(zh) and "我的请求" in text(zh)
        assert '<html lang="en">' in text(en) and "Inbox" in text(en) and "My requests" in text(en)
    # Form titles and labels come from the form definition, in the page's language.
    assert "Raise an incident" in text(requester.get("/start/incident", headers={"Accept-Language": "en"}))


def test_times_are_typed_and_shown_in_each_users_zone(app, as_user):
    requester, desk = as_user("requester"), as_user("desk")
    instance_id, _ = raise_incident(app, requester)
    complete(desk, open_task(app, instance_id, "record_incident"), journey.RECORD)  # 09:30 in Asia/Shanghai
    with app.app_context():
        assert (
            db.session.get(ProcessInstance, instance_id).data["occurred_at"].startswith("2026-11-21T01:30:00")
        )
        classify = open_task(app, instance_id, "classify_incident")
    assert "2026-11-21 09:30" in text(desk.get(f"/tasks/{classify}"))
    with app.app_context(), direct_writes():
        db.session.scalar(select(User).where(User.username == "desk")).timezone = "Europe/London"
        db.session.commit()
    page = text(desk.get(f"/tasks/{classify}"))
    assert "2026-11-21 01:30" in page and "Europe/London" in page
