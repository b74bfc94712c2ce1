"""The CMDB: everyone reads it, configuration roles change it, and every change leaves history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, CIHistory, CIRelation, ConfigurationItem
from app.services import registries
from app.services.errors import InvalidInput
from tests.conftest import direct_writes, user
from tests.documents import record_instance

EN = {"Accept-Language": "en"}
AT = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)


def _history(app, code: str) -> list[CIHistory]:
    with app.app_context():
        item = db.session.scalar(select(ConfigurationItem).where(ConfigurationItem.code == code))
        rows = db.session.scalars(select(CIHistory).where(CIHistory.ci_id == item.id).order_by(CIHistory.id))
        return list(rows)


def test_everyone_signed_in_reads_the_cmdb_with_filters(as_user):
    client = as_user("requester")
    page = client.get("/cmdb/?class=database", headers=EN).get_data(as_text=True)
    assert "DB-ORA-EMS" in page and "DB-PG-GIS" in page and "SRV-APP-01" not in page
    found = client.get("/cmdb/?q=2102311YBN10L7000310", headers=EN).get_data(as_text=True)
    assert "SRV-DB-01" in found and "SRV-APP-01" not in found
    planned = client.get("/cmdb/?status=planned", headers=EN).get_data(as_text=True)
    assert "SRV-BAK-01" in planned and "APP-EMS" not in planned
    assert (
        client.get("/cmdb/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True).count("配置管理")
        >= 2
    )


def test_a_ci_page_shows_relations_both_ways_known_errors_and_history(as_user):
    client = as_user("desk")
    app_page = client.get("/cmdb/APP-EMS", headers=EN).get_data(as_text=True)
    assert "runs on" in app_page and "SRV-APP-01" in app_page and "depends on" in app_page
    assert "KE-" in app_page  # the demo known error names APP-EMS
    server = client.get("/cmdb/SRV-APP-01", headers=EN).get_data(as_text=True)
    assert "hosts" in server and "APP-EMS" in server  # the same relation seen from its target
    assert "connects to" in server and "NET-CORE-01" in server
    assert 'id="ci-history"' in server and "Direct edit" in server
    assert "Add a relation" not in server and "/cmdb/SRV-APP-01/edit" not in server  # desk only reads
    assert client.get("/cmdb/NOPE-1").status_code == 404


def test_people_without_a_configuration_role_get_403_on_every_change(as_user, app):
    client = as_user("desk")
    assert client.get("/cmdb/new").status_code == 403
    assert client.get("/cmdb/APP-EMS/edit").status_code == 403
    edit = client.post("/cmdb/APP-EMS/edit", data={"name": "x", "ci_class": "server", "reason": "r"})
    assert edit.status_code == 403
    relate = client.post("/cmdb/APP-EMS/relations", data={"target": "NET-FW-01", "kind": "connects_to"})
    assert relate.status_code == 403
    api = client.patch("/api/v1/cis/APP-EMS", json={"version": "9", "reason": "r"}, headers=EN)
    assert api.status_code == 403 and "configuration" in api.get_json()["error"]["message"]
    assert (
        client.post("/api/v1/cis", json={"code": "X-1", "name": "x", "ci_class": "server"}).status_code == 403
    )
    with app.app_context():
        assert db.session.scalar(
            select(ConfigurationItem.name).where(ConfigurationItem.code == "APP-EMS")
        ) == ("环境监测信息系统")


def test_a_configuration_operator_registers_and_edits_a_ci_and_history_records_each_field(as_user, app):
    client = as_user("config_operator")
    fields = {
        "code": "SRV-APP-03",
        "name": "环境监测应用服务器 03",
        "ci_class": "server",
        "status": "planned",
    }
    fields.update(serial_number="SN-3", purchase_date="2026-10-01")
    created = client.post("/cmdb/new", data=fields)
    assert created.status_code == 302 and created.headers["Location"].endswith("/cmdb/SRV-APP-03")
    without_reason = client.post(
        "/cmdb/SRV-APP-03/edit",
        data={"name": "环境监测应用服务器 03", "ci_class": "server", "status": "in_use", "version": "V10"},
        headers=EN,
    )
    assert without_reason.status_code == 422
    assert "Give the reason" in without_reason.get_data(as_text=True)
    assert 'value="V10"' in without_reason.get_data(as_text=True)  # what was typed is kept
    fields.update(status="in_use", version="V10", reason="上架完成")
    del fields["code"]
    saved = client.post("/cmdb/SRV-APP-03/edit", data=fields)
    assert saved.status_code == 302
    history = _history(app, "SRV-APP-03")
    assert [entry.action for entry in history] == ["created", "updated"]
    assert history[0].changes["serial_number"] == {"before": None, "after": "SN-3"}
    assert history[1].changes == {
        "status": {"before": "planned", "after": "in_use"},
        "version": {"before": None, "after": "V10"},
    }
    assert (history[1].actor, history[1].authority, history[1].reason) == (
        "config_operator",
        "manual",
        "上架完成",
    )
    page = client.get("/cmdb/SRV-APP-03", headers=EN).get_data(as_text=True)
    assert "上架完成" in page and "V10" in page and "Direct edit" in page
    with app.app_context():
        kinds = db.session.scalars(select(AuditEvent.kind).order_by(AuditEvent.sequence)).all()
        assert kinds[-2:] == ["cmdb_create", "cmdb_update"]


def test_edits_need_the_csrf_token_and_valid_values(as_user, app):
    client = as_user("config_manager")
    form = {"name": "x", "ci_class": "server", "status": "in_use", "reason": "r"}
    assert client.post("/cmdb/APP-EMS/edit", data=form, csrf=False).status_code == 400
    bad = client.post(
        "/cmdb/APP-EMS/edit",
        data={
            "name": "",
            "ci_class": "spaceship",
            "status": "gone",
            "purchase_date": "yesterday",
            "reason": "r",
        },
        headers=EN,
    )
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    for message in ("A name is required.", "Choose a class", "Choose a status", "YYYY-MM-DD"):
        assert message in text
    not_a_change = client.post(
        "/cmdb/APP-EMS/edit", data={**form, "change_key": "INC-2026-999999"}, headers=EN
    )
    assert not_a_change.status_code == 422 and "is not a change or release request" in not_a_change.get_data(
        as_text=True
    )
    taken = client.post("/api/v1/cis", json={"code": "APP-EMS", "name": "x", "ci_class": "server"})
    assert taken.status_code == 422 and "code" in taken.get_json()["error"]["fields"]
    assert len(_history(app, "APP-EMS")) == 1  # only the demo registration


def test_relations_are_recorded_once_and_removed_with_a_reason(as_user, app):
    client = as_user("config_manager")
    body = {"target": "SRV-DB-01", "kind": "depends_on", "reason": "门户调用数据库"}
    created = client.post("/api/v1/cis/APP-PORTAL/relations", json=body)
    assert created.status_code == 201
    relation_id = created.get_json()["id"]
    assert client.post("/api/v1/cis/APP-PORTAL/relations", json=body).status_code == 409
    itself = client.post("/api/v1/cis/APP-PORTAL/relations", json={**body, "target": "APP-PORTAL"})
    assert itself.status_code == 422
    detail = client.get("/api/v1/cis/SRV-DB-01").get_json()
    assert {"source": "APP-PORTAL", "kind": "depends_on"} in [
        {"source": r["source"], "kind": r["kind"]} for r in detail["incoming"]
    ]
    no_reason = client.post(f"/cmdb/APP-PORTAL/relations/{relation_id}/delete", data={})
    assert no_reason.status_code == 302
    with app.app_context():
        assert db.session.get(CIRelation, relation_id) is not None
    removed = client.post(f"/cmdb/APP-PORTAL/relations/{relation_id}/delete", data={"reason": "改为接口"})
    assert removed.status_code == 302
    with app.app_context():
        assert db.session.get(CIRelation, relation_id) is None
    for code in ("APP-PORTAL", "SRV-DB-01"):
        actions = [(h.action, h.changes["relation"]) for h in _history(app, code)[1:]]
        assert actions == [
            ("related", {"before": None, "after": "APP-PORTAL depends_on SRV-DB-01"}),
            ("unrelated", {"before": "APP-PORTAL depends_on SRV-DB-01", "after": None}),
        ]


def test_the_api_gives_a_ci_with_relations_history_and_paged_search(as_user):
    client = as_user("requester")
    detail = client.get("/api/v1/cis/APP-EMS").get_json()
    assert detail["ci"]["class_label"] == {"zh": "应用系统", "en": "Application"}
    assert {r["target"] for r in detail["outgoing"]} == {"SRV-APP-01", "SRV-APP-02", "DB-ORA-EMS"}
    assert detail["history"][0]["authority"] == "manual" and detail["known_errors"]
    listed = client.get("/api/v1/cis?class=server&q=SRV").get_json()
    assert listed["total"] == 4 and all(item["ci_class"] == "server" for item in listed["items"])


def test_apply_change_writes_history_under_the_change_key(app):
    with app.app_context(), direct_writes():
        record_instance("change", "CHG-2026-000042")
        db.session.commit()
        actor = user("config_operator")
        changed = registries.apply_change(
            actor,
            "CHG-2026-000042",
            [
                {"code": "SRV-APP-01", "version": "银河麒麟 V10 SP3"},
                {"code": "SRV-APP-09", "name": "新应用服务器", "ci_class": "server", "status": "planned"},
                {"code": "NET-CORE-01", "version": "Huawei S12708 V200R021"},  # unchanged: no history
            ],
            AT,
        )
        assert [item.code for item in changed] == ["SRV-APP-01", "SRV-APP-09"]
        event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.sequence.desc()).limit(1))
        assert event.kind == "cmdb_change" and event.payload["change_key"] == "CHG-2026-000042"
    updated = _history(app, "SRV-APP-01")[-1]
    assert (updated.authority, updated.actor, updated.at) == ("CHG-2026-000042", "config_operator", AT)
    assert updated.changes == {"version": {"before": "银河麒麟 V10 SP2", "after": "银河麒麟 V10 SP3"}}
    created = _history(app, "SRV-APP-09")
    assert created[0].action == "created" and created[0].authority == "CHG-2026-000042"
    assert len(_history(app, "NET-CORE-01")) == 1


def test_apply_change_inside_a_callers_transaction_and_its_checks(app):
    with app.app_context(), direct_writes():
        record_instance("change", "CHG-2026-000043")
        record_instance("incident", "INC-2026-000043")
        db.session.commit()
        actor = user("config_operator")
        before = db.session.scalar(select(func.count(CIHistory.id)))
        registries.apply_change(
            actor, "CHG-2026-000043", [{"code": "APP-EMS", "version": "3.3"}], AT, commit=False
        )
        db.session.rollback()  # the calling process command failed: nothing of the change remains
        assert db.session.scalar(
            select(ConfigurationItem.version).where(ConfigurationItem.code == "APP-EMS")
        ) == ("3.2.1")
        with pytest.raises(InvalidInput) as wrong_key:
            registries.apply_change(actor, "INC-2026-000043", [{"code": "APP-EMS", "version": "3.3"}], AT)
        assert "change_key" in wrong_key.value.field_errors
        with pytest.raises(InvalidInput) as wrong_value:
            registries.apply_change(
                actor,
                "CHG-2026-000043",
                [
                    {"code": "APP-EMS", "version": "3.3"},
                    {"code": "APP-EMS", "status": "lost"},
                    {"code": "NEW-1"},
                ],
                AT,
            )
        fields = wrong_value.value.field_errors
        assert "updates.1.status" in fields and "updates.2.name" in fields and "updates.2.ci_class" in fields
        assert db.session.scalar(select(func.count(CIHistory.id))) == before
