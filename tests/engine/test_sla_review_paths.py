"""Every path of processes/sla_review.bpmn, walked task by task through engine/ (no Flask).

Each command takes the snapshot the previous one returned, and after every command a fresh Engine restores it
and must see the same instance. Form data comes from forms/sla_review_*.json and is validated against their
schemas. Covered: the six-monthly schedule (start_timer), both outcomes of every gateway (improvement needed,
problem needed, renegotiation needed, agreements change needed), the problem_requested and change_requested
messages (name, payload, correlation) and the notice on the end event. The process has no loop.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from lxml import etree

from tests.engine.walk import NS, ProcessWalk, form, load_process
from tests.engine.walk import PROCESSES_DIR as PROCESSES

KEY = "SLR-2027-000001"
NOW = "2027-01-05T01:00:00+00:00"
SCHEDULE = "R/2027-01-05T09:00:00+08:00/P6M"
LANES = {
    "slm_manager": "服务级别管理组长 (slm_manager)",
    "slm_operator": "服务级别管理操作者 (slm_operator)",
}
#: element id -> (role, form) of every user task.
TASKS = {
    "monitor_service": ("slm_operator", "sla_review_monitor.json"),
    "review_meeting": ("slm_manager", "sla_review_meeting.json"),
    "review_report": ("slm_manager", "sla_review_report.json"),
    "improve_service": ("slm_manager", "sla_review_improve.json"),
    "plan_service": ("slm_manager", "sla_review_plan.json"),
    "manage_catalogue": ("slm_manager", "sla_review_catalogue.json"),
    "sign_agreements": ("slm_manager", "sla_review_agreements.json"),
    "maintain_agreements": ("slm_operator", "sla_review_maintain.json"),
}
ACTORS = {"slm_manager": "slm_lead", "slm_operator": "slm_op"}
RENEGOTIATION = ("plan_service", "manage_catalogue", "sign_agreements")
PROBLEM = {
    "problem_needed": True,
    "problem_title": "门户响应慢导致解决超时",
    "problem_description": "本期 12 起事件因门户响应慢未按时解决",
    "problem_affected_cis": ["APP-PORTAL"],
    "problem_priority": "P2",
}
AGREEMENT_CHANGE = {
    "agreements_change_needed": True,
    "agreement_change_title": "修订门户 SLA 的响应时间目标",
    "agreement_change_description": "响应时间目标由 30 分钟改为 15 分钟",
    "agreement_change_reason": "半年度评审与客户商定",
    "agreement_cis": ["DOC-SLA-PORTAL"],
}
#: Valid data for each form; a step overrides only what steers the path.
BASE: dict[str, dict[str, Any]] = {
    "sla_review_monitor.json": {
        "sla_period_start": "2026-07-01",
        "sla_period_end": "2026-12-31",
        "sla_scope": "门户网站服务 SLA-PORTAL v2",
        "targets_met": "partly_met",
        "indicator_analysis": "响应及时率 97%，解决及时率 88%",
        "sla_breaches": "解决及时率低于 90% 的目标",
        "report_submitted_on": "2027-01-06",
    },
    "sla_review_meeting.json": {
        "meeting_date": "2027-01-10",
        "customer_attendees": "业务处室 王处长",
        "provider_attendees": "服务级别管理组",
        "meeting_minutes": "审阅服务等级报告，客户关注解决及时率",
        "customer_satisfaction": "satisfied",
    },
    "sla_review_report.json": {
        "review_findings": "解决及时率未达标，其余达标",
        "improvement_needed": False,
        "renegotiation_needed": False,
    },
    "sla_review_improve.json": {"improvement_plan": "增加二线值班", "problem_needed": False},
    "sla_review_plan.json": {
        "plan_objectives": "覆盖新增的移动端服务",
        "plan_responsibilities": "组长负责协议，操作者负责监控",
        "plan_resources": "增加一名操作者",
        "plan_catalogue_structure": "按业务系统划分",
        "plan_monitoring": "现有监控可覆盖",
        "plan_experience_indicators": "移动端可用率",
    },
    "sla_review_catalogue.json": {
        "service_requirements": "移动端 7×24 小时可用",
        "catalogue_changes": "新增移动端服务",
        "catalogue_version": "2027.1",
    },
    "sla_review_agreements.json": {
        "sla_targets": "移动端可用率 99.5%",
        "sla_version": "v3",
        "sla_signed_on": "2027-02-01",
        "sla_published": True,
    },
    "sla_review_maintain.json": {
        "maintenance_notes": "SLA、OLA、UC 内容完整",
        "agreements_change_needed": False,
    },
}


@pytest.fixture(scope="module")
def package():
    """sla_review.bpmn, loaded and linted like the platform loads it."""
    return load_process("sla_review")


class Walk(ProcessWalk):
    """ProcessWalk for sla_review.bpmn: started by the six-monthly schedule only."""

    PROCESS_ID = "sla_review"
    TASKS = TASKS
    LANES = LANES
    ACTORS = ACTORS
    BASE = BASE
    ENDS = ("end_reviewed",)
    BUSINESS_KEY = KEY
    NOW = NOW
    ENDED_EMPTY = ()

    def start(self) -> Walk:  # type: ignore[override]
        """As app/services/schedules.py starts an occurrence: platform keys only, no start task."""
        return self.scheduled(occurrence=True, complete_start_task=False)

    def done(self) -> set[str]:
        """Element ids completed so far."""
        return set(self.result.completed_elements)


def reviewed(walk: Walk, **report: Any) -> Walk:
    """Report, review meeting with the customer, review report."""
    walk.start().do("monitor_service")
    assert walk.open_task("review_meeting").data["sla_breaches"] == "解决及时率低于 90% 的目标"
    return walk.do("review_meeting").do("review_report", **report)


# ---------------------------------------------------------------- the package


def test_package_schedule_lanes_tasks_and_forms(package):
    """A six-monthly timer start (the platform's schedule), no start task, each task's role and form."""
    assert (package.process_id, package.name) == ("sla_review", "服务级别管理")
    assert package.start_timer == SCHEDULE
    assert package.start_task is None and package.start_messages == ()
    assert package.lanes == {name: role for role, name in LANES.items()}
    assert {k: (v.role, v.form) for k, v in package.user_tasks.items()} == TASKS
    assert package.element_properties["end_reviewed"]["notifyTo"] == "slm_manager,slm_operator"


def test_timer_start_is_written_unquoted():
    """The schedule is the ISO 8601 repeating interval as bpmn.io writes it (no quotes)."""
    root = etree.parse(str(PROCESSES / "sla_review.bpmn")).getroot()
    cycles = root.xpath("//bpmn:startEvent/bpmn:timerEventDefinition/bpmn:timeCycle/text()", namespaces=NS)
    assert [c.strip() for c in cycles] == [SCHEDULE]


# ---------------------------------------------------------------- paths


def test_targets_met_nothing_to_improve_or_renegotiate(package):
    """No improvement, no renegotiation, agreements unchanged: straight to maintenance and the end."""
    walk = Walk(package).start()
    assert walk.open_task("monitor_service").data["sys_business_key"] == KEY
    assert walk.result.timers == [] and walk.result.subscriptions == []
    walk.do("monitor_service", targets_met="met", sla_breaches=None).do("review_meeting").do("review_report")
    assert walk.open_task("maintain_agreements").data["review_findings"] == "解决及时率未达标，其余达标"
    walk.do("maintain_agreements").ended()
    assert not walk.done() & {"improve_service", "request_problem", "request_change", *RENEGOTIATION}
    assert walk.messages == []


def test_improvement_with_problem_management(package):
    """Improvement needed and problem management must take a problem on: problem_requested is sent."""
    walk = reviewed(Walk(package), improvement_needed=True, adverse_issues="解决超时")
    assert walk.open_task("improve_service").data["adverse_issues"] == "解决超时"
    walk.do("improve_service", **PROBLEM)
    [message] = walk.result.messages
    assert (message.name, message.correlation) == ("problem_requested", {"source_key": KEY})
    assert message.payload == {
        "title": PROBLEM["problem_title"],
        "description": PROBLEM["problem_description"],
        "affected_cis": ["APP-PORTAL"],
        "priority": "P2",
        "source_key": KEY,
        "source_process": "sla_review",
    }
    assert walk.result.subscriptions == []  # problem_closed is noted on the record, not waited for
    walk.do("maintain_agreements").ended()
    assert "request_problem" in walk.done() and not walk.done() & set(RENEGOTIATION)


def test_improvement_without_problem(package):
    """Improvement needed; the plan needs no problem record."""
    walk = reviewed(Walk(package), improvement_needed=True, adverse_issues="解决超时")
    walk.do("improve_service").do("maintain_agreements").ended()
    assert "improve_service" in walk.done() and "request_problem" not in walk.done()
    assert walk.messages == []


def test_renegotiation_runs_steps_1_to_3_and_the_agreements_change_goes_to_change_management(package):
    """The review asks to renegotiate: service plan, catalogue, signed agreements; the changed documents
    raise an RFC (change_requested)."""
    walk = reviewed(Walk(package), renegotiation_needed=True, renegotiation_reason="新增移动端服务")
    assert walk.open_task("plan_service").data["renegotiation_reason"] == "新增移动端服务"
    walk.do("plan_service").do("manage_catalogue").do("sign_agreements")
    assert walk.open_task("maintain_agreements").data["sla_version"] == "v3"
    walk.do("maintain_agreements", **AGREEMENT_CHANGE)
    [message] = walk.result.messages
    assert (message.name, message.correlation) == ("change_requested", {"source_key": KEY})
    assert message.payload == {
        "title": AGREEMENT_CHANGE["agreement_change_title"],
        "description": AGREEMENT_CHANGE["agreement_change_description"],
        "reason": AGREEMENT_CHANGE["agreement_change_reason"],
        "affected_cis": ["DOC-SLA-PORTAL"],
        "source_key": KEY,
        "source_process": "sla_review",
    }
    walk.ended()
    assert "improve_service" not in walk.done() and "request_change" in walk.done()


def test_everything_at_once(package):
    """Improvement with a problem, renegotiation and an agreements change: both messages, in order."""
    walk = reviewed(
        Walk(package),
        improvement_needed=True,
        adverse_issues="解决超时",
        renegotiation_needed=True,
        renegotiation_reason="新增移动端服务",
    )
    walk.do("improve_service", **PROBLEM).do("plan_service").do("manage_catalogue").do("sign_agreements")
    walk.do("maintain_agreements", **AGREEMENT_CHANGE).ended()
    assert [m.name for m in walk.messages] == ["problem_requested", "change_requested"]


# ---------------------------------------------------------------- expressions read the forms


def test_conditions_and_payloads_read_only_form_fields():
    """Every name a condition or message payload reads is a form field or a sys_ key."""
    known = {"True", "False", "None", "sys_business_key", "sys_started_by", "sys_started_at"}
    for _, name in TASKS.values():
        known |= set(form(name)["schema"]["properties"])
    root = etree.parse(str(PROCESSES / "sla_review.bpmn")).getroot()
    texts = root.xpath(
        "//bpmn:conditionExpression/text() | //spiffworkflow:messagePayload/text()", namespaces=NS
    )
    assert len(texts) == 6
    for text in texts:
        names = set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", re.sub(r'"[^"]*"', "", str(text))))
        assert names - {"and", "or", "not", "in"} <= known, f"`{text}` reads {sorted(names - known)}"
