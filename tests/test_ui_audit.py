"""Auditors' pages: the audit log, an instance's full record, and the hash-chain check."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from tests import journey
from tests.conftest import direct_writes


def text(response) -> str:
    """The body of a response as text."""
    return response.get_data(as_text=True)


def raise_incident(client) -> int:
    response = client.post("/start/incident", data=journey.RAISE)
    assert response.status_code == 302
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_audit_log_lists_events(as_user):
    instance_id = raise_incident(as_user("requester"))
    page = text(as_user("auditor").get("/audit/", headers={"Accept-Language": "en"}))
    assert "Audit log" in page and "<code>start</code>" in page
    assert f'href="/audit/instances/{instance_id}"' in page and "requester" in page


def test_instance_record_shows_history_with_labels_and_raw_events(as_user):
    instance_id = raise_incident(as_user("requester"))
    page = text(
        as_user("auditor").get(f"/audit/instances/{instance_id}", headers={"Accept-Language": "zh-CN"})
    )
    assert "处理记录" in page and "发起" in page
    assert journey.RAISE["title"] in page and "APP-PORTAL" in page
    assert "sys_business_key" in page  # the raw payload is there in full for auditors


def test_verify_chain_reports_intact_then_tampered(app, as_user):
    raise_incident(as_user("requester"))
    auditor = as_user("auditor")
    ok = text(auditor.get("/audit/verify", headers={"Accept-Language": "en"}))
    assert 'data-chain="ok"' in ok and "The audit log is intact." in ok
    with app.app_context(), direct_writes():
        event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.sequence))
        event.payload = dict(event.payload, data={"title": "rewritten"})
        db.session.commit()
    broken = text(auditor.get("/audit/verify", headers={"Accept-Language": "zh-CN"}))
    assert 'data-chain="broken"' in broken and "审计日志已被篡改" in broken


def test_audit_pages_refuse_non_auditors(as_user):
    instance_id = raise_incident(as_user("requester"))
    for username in ("requester", "desk", "owner"):
        client = as_user(username)
        for path in ("/audit/", f"/audit/instances/{instance_id}", "/audit/verify"):
            assert client.get(path).status_code == 403, (username, path)
