"""The known error database: everyone searches it, problem roles write it, the problem process adds to it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import KnownError
from app.services import registries
from app.services.errors import InvalidInput
from tests.conftest import direct_writes, user
from tests.documents import record_instance

EN = {"Accept-Language": "en"}
AT = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)
KEY = re.compile(r"^KE-\d{4}-\d{6}$")


def test_everyone_searches_known_errors_by_symptom_status_and_ci(as_user):
    client = as_user("requester")
    found = client.get("/kedb/?q=EMS-TIMEOUT-504", headers=EN).get_data(as_text=True)
    assert "整点后监测数据上报接口超时" in found and "乱码" not in found
    by_ci = client.get("/kedb/?ci=MW-WEB-01", headers=EN).get_data(as_text=True)
    assert "乱码" in by_ci and "整点后" not in by_ci
    resolved = client.get("/kedb/?status=resolved", headers=EN).get_data(as_text=True)
    assert "乱码" in resolved and "整点后" not in resolved
    listed = client.get("/api/v1/known-errors?q=504").get_json()
    assert listed["total"] == 1 and KEY.match(listed["items"][0]["key"])
    key = listed["items"][0]["key"]
    page = client.get(f"/kedb/{key}", headers=EN).get_data(as_text=True)
    assert "Workaround" in page and "02:30" in page and 'href="/cmdb/APP-EMS"' in page
    assert "/edit" not in page  # the requester only reads
    assert client.get("/kedb/KE-1999-000001").status_code == 404


def test_only_problem_managers_and_experts_write(as_user):
    desk = as_user("desk")
    assert desk.get("/kedb/new").status_code == 403
    assert desk.post("/kedb/new", data={"title": "x"}).status_code == 403
    assert desk.post("/api/v1/known-errors", json={"title": "x"}).status_code == 403
    key = desk.get("/api/v1/known-errors").get_json()["items"][0]["key"]
    assert desk.patch(f"/api/v1/known-errors/{key}", json={"status": "retired"}).status_code == 403
    assert desk.get(f"/kedb/{key}/edit").status_code == 403


def test_a_problem_expert_records_and_updates_a_known_error(as_user, app):
    client = as_user("problem_expert")
    wrong = client.post(
        "/kedb/new",
        data={"title": "", "ci_codes": ["APP-EMS", "GONE-7"], "problem_key": "INC-2026-000001"},
        headers=EN,
    )
    assert wrong.status_code == 422
    text = wrong.get_data(as_text=True)
    assert "A title is required." in text and "GONE-7" in text and "is not a problem record" in text
    assert '<option value="GONE-7" selected>' in text  # what was chosen is kept
    created = client.post(
        "/kedb/new",
        data={
            "title": "审批系统导出 Excel 超时",
            "symptoms": "导出超过 5 万行时 504",
            "root_cause": "同步导出",
            "workaround": "按月分批导出",
            "ci_codes": ["APP-EIA", "MW-WEB-01"],
        },
    )
    assert created.status_code == 302
    key = created.headers["Location"].rsplit("/", 1)[1]
    assert KEY.match(key)
    changed = client.patch(
        f"/api/v1/known-errors/{key}", json={"status": "resolved", "ci_codes": ["APP-EIA"]}
    )
    assert changed.status_code == 200
    body = changed.get_json()
    assert (
        body["status"] == "resolved"
        and body["ci_codes"] == ["APP-EIA"]
        and body["updated_by"] == "problem_expert"
    )
    edit = client.post(
        f"/kedb/{key}/edit",
        data={
            "title": "审批系统导出 Excel 超时",
            "status": "open",
            "ci_codes": ["APP-EIA"],
            "workaround": "分批",
        },
    )
    assert edit.status_code == 302
    with app.app_context():
        record = db.session.scalar(select(KnownError).where(KnownError.key == key))
        assert (record.status, record.workaround, record.author) == ("open", "分批", "problem_expert")
    assert key in client.get("/cmdb/APP-EIA").get_data(as_text=True)


def test_the_problem_process_records_one_known_error_per_problem(app):
    with app.app_context(), direct_writes():
        record_instance("problem", "PRB-2026-000007")
        db.session.commit()
        data = {
            "title": "门户首页偶发 502",
            "symptoms": "高峰期首页 502",
            "root_cause": "中间件线程池过小",
            "workaround": "重启 MW-WEB-01 节点",
            "affected_cis": ["APP-PORTAL", "MW-WEB-01"],
            "priority": "2",  # other process data is ignored
        }
        first = registries.record_from_problem(user("problem_expert"), "PRB-2026-000007", data, AT)
        again = registries.record_from_problem(
            user("problem_manager"), "PRB-2026-000007", {"workaround": "扩大线程池前先重启节点"}, AT
        )
        assert first.key == again.key and KEY.match(first.key)
        assert again.workaround == "扩大线程池前先重启节点" and again.title == "门户首页偶发 502"
        assert again.ci_codes == ["APP-PORTAL", "MW-WEB-01"] and again.problem_key == "PRB-2026-000007"
        count = db.session.scalar(
            select(func.count(KnownError.id)).where(KnownError.problem_key == "PRB-2026-000007")
        )
        assert count == 1
        with pytest.raises(InvalidInput) as not_a_problem:
            registries.record_from_problem(user("problem_expert"), "CHG-2026-000001", data, AT)
        assert "problem_key" in not_a_problem.value.field_errors
