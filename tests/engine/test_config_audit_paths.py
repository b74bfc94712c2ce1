"""Every path of processes/config_audit.bpmn, walked task by task through engine/ (no Flask).

Each command takes the snapshot the previous one returned, and after every command a fresh Engine restores
that snapshot and must see the same instance (open tasks, status, history). Each step checks which tasks are
open, in which lane and role, with which form. Form data is built from forms/config_audit_*.json and
validated against their schemas. Covered: the timer start (the schedule in ProcessPackage.start_timer) and the
message start after a change; one verification task per CI (multi-instance) and the findings it collects; both
outcomes of every gateway (report approved/rejected, RFC yes/no, correction yes/no); the RFC message
change_requested with its payload and correlation. The report rework loop, a few times through the public API
and 500 times in memory, is in test_config_audit_rework.py; the walker is config_audit_walk.Walk.
"""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from tests.engine.config_audit_walk import (
    BASE,
    BUSINESS_KEY,
    LANES,
    MATCHES,
    SCHEDULE,
    SCOPE,
    TASKS,
    WITH_CORRECTION,
    WITH_RFC,
    Walk,
    counts,
    finding,
    form,
    load_config_audit,
    report_and_end,
)


@pytest.fixture(scope="module")
def package():
    """config_audit.bpmn with its decision tables, loaded and linted like the platform loads it."""
    return load_config_audit()


# ---------------------------------------------------------------- the package


def test_package_schedule_starts_lanes_and_tasks(package):
    """Quarterly timer start (the platform's schedule) and a message start; lanes, tasks, forms, decisions."""
    assert (package.process_id, package.name) == ("config_audit", "配置审计")
    assert package.start_timer == SCHEDULE
    assert package.start_messages == ("config_audit_requested",)
    assert package.start_task is None  # a scheduled start has no form; the first task opens in the inbox
    assert package.lanes == {name: role for role, name in LANES.items()}
    assert {k: (v.role, v.form) for k, v in package.user_tasks.items()} == TASKS
    assert package.user_tasks["verify_ci"].name == "配置状态验证和审计"
    assert set(package.files) == {
        "config_audit.bpmn",
        "config_audit_worklist.dmn",
        "config_audit_finding.dmn",
        "config_audit_summary.dmn",
    }


def test_separation_of_duties_and_notices(package):
    """The approver did not verify or draft; the writer hears of a rejection; the manager of the report
    and, at once, of unauthorised changes."""
    props = package.element_properties
    assert props["approve_audit_report"]["separateFrom"] == "verify_ci,draft_audit_report"
    assert props["audit_report_returned"]["notifyTo"] == "assignee:draft_audit_report"
    assert "{audit_approval_comment}" in props["audit_report_returned"]["notifyText"]
    assert props["report_configuration"]["notifyTo"] == "config_manager"
    assert props["report_unauthorised"]["notifyTo"] == "config_manager"


def test_scheduled_start_opens_control_and_waits_for_nothing(package):
    """A scheduled (or hand) start opens 配置项控制; no timer, no message subscription is left waiting."""
    walk = Walk(package).scheduled()
    [task] = walk.open_tasks("control_cis")
    assert task.data["sys_business_key"] == BUSINESS_KEY
    assert walk.result.timers == [] and walk.result.subscriptions == []
    assert walk.result.completed_elements[:2] == ["start_quarterly", "gw_trigger_merge"]


# ---------------------------------------------------------------- paths


def test_scheduled_audit_everything_matches(package):
    """Everything matches: report approved, no RFC, no correction, the report, the end."""
    walk = Walk(package).scheduled().do("control_cis")
    walk.verify({ci: MATCHES for ci in SCOPE})
    [draft] = walk.open_tasks("draft_audit_report")
    evidence = BASE["config_audit_verify_ci.json"]["ci_evidence"]
    assert draft.data["ci_findings"] == [
        {"ci": ci, "result": "matches", "evidence": evidence, "difference": "", "action": "none"}
        for ci in SCOPE
    ]
    assert counts(draft.data) == (2, 2, 0, 0, 0, 100.0)
    assert draft.data["suggested_rfc_cis"] == [] and draft.data["suggested_correction_cis"] == []
    walk.do("draft_audit_report").do("approve_audit_report")
    report_and_end(walk)
    assert walk.result.messages == []
    for element in ("report_unauthorised", "audit_report_returned", "request_change", "correct_records"):
        assert walk.count(element) == 0
    assert walk.count("verify_ci") == 2


def test_audit_after_a_change_raises_an_rfc_and_corrects_records(package):
    """Started by a change; an unauthorised change joins the worklist; both RFC and correction run."""
    payload = {
        "change_key": "CHG-2027-000042",
        "affected_cis": ["SRV-DB-01"],
        "source_key": "CHG-2027-000042",
        "source_process": "change",
    }
    walk = Walk(package).requested(payload)
    [control] = walk.open_tasks("control_cis")
    assert control.data["affected_cis"] == ["SRV-DB-01"] and control.data["change_key"] == "CHG-2027-000042"
    assert control.data["audit_request"] == payload
    assert walk.result.completed_elements[:2] == ["start_after_change", "gw_trigger_merge"]
    walk.do(
        "control_cis",
        control_unauthorised_found=True,
        control_unauthorised_cis=["NET-FW-02"],
        control_unauthorised_notes="防火墙规则在无RFC的情况下被修改",
        audit_scope_basis="change_related",
    )
    assert walk.count("report_unauthorised") == 1  # the configuration manager is alerted at once
    tasks = walk.open_tasks("verify_ci")
    assert [t.data["audit_ci"] for t in tasks] == ["SRV-DB-01", "APP-PORTAL-01", "NET-FW-02"]
    walk.verify(
        {
            "SRV-DB-01": finding("missing", "机房内未找到该服务器"),
            "APP-PORTAL-01": finding("differs", "版本为 2.1.3，CMDB 记录 2.1.2"),
            "NET-FW-02": finding("unauthorised", "新增了两条规则"),
        },
        reverse=True,  # findings come in completion order; each names its CI
    )
    [draft] = walk.open_tasks("draft_audit_report")
    assert [(f["ci"], f["result"], f["action"]) for f in draft.data["ci_findings"]] == [
        ("NET-FW-02", "unauthorised", "rfc"),
        ("APP-PORTAL-01", "differs", "correct_record"),
        ("SRV-DB-01", "missing", "rfc"),
    ]
    assert draft.data["suggested_rfc_cis"] == ["NET-FW-02", "SRV-DB-01"]
    assert draft.data["suggested_correction_cis"] == ["APP-PORTAL-01"]
    assert counts(draft.data) == (3, 0, 1, 1, 1, 0.0)
    assert draft.data["audit_findings_list"].splitlines() == [
        "NET-FW-02：未经授权的变更，提交RFC（新增了两条规则）",
        "APP-PORTAL-01：与记录不符，更正CMDB记录（版本为 2.1.3，CMDB 记录 2.1.2）",
        "SRV-DB-01：缺失，提交RFC（机房内未找到该服务器）",
    ]
    draft_data = {**WITH_RFC, **WITH_CORRECTION, "report_rfc_cis": ["SRV-DB-01", "NET-FW-02"]}
    walk.do("draft_audit_report", **draft_data, report_summary="发现缺失和未经授权的变更")
    walk.do("approve_audit_report")
    [message] = walk.result.messages
    assert message.name == "change_requested"
    assert message.correlation == {"source_key": BUSINESS_KEY}
    assert message.payload == {
        "title": f"配置审计发现差异：{BUSINESS_KEY}",
        "description": WITH_RFC["report_rfc_description"],
        "reason": "配置审计发现现实与授权基线不符（未经授权的变更或缺失的配置项），需经变更管理整改或追认",
        "affected_cis": ["SRV-DB-01", "NET-FW-02"],
        "source_key": BUSINESS_KEY,
        "source_process": "config_audit",
    }
    assert walk.result.subscriptions == []  # the audit does not wait for change_completed
    walk.do("correct_records")
    report_and_end(walk)
    assert walk.count("request_change") == 1 and walk.count("correct_records") == 1


@pytest.mark.parametrize(
    ("draft", "rfc", "correction"),
    [
        (WITH_RFC, True, False),
        (WITH_CORRECTION, False, True),
    ],
    ids=["rfc_only", "correction_only"],
)
def test_rfc_and_correction_are_independent(package, draft, rfc, correction):
    """Each of the two follow-up gateways has its own yes and no."""
    walk = Walk(package).scheduled().do("control_cis")
    walk.verify({"SRV-DB-01": finding("unauthorised"), "APP-PORTAL-01": finding("differs")})
    walk.do("draft_audit_report", **draft).do("approve_audit_report")
    assert [m.name for m in walk.result.messages] == (["change_requested"] if rfc else [])
    if correction:
        walk.do("correct_records")
    report_and_end(walk)
    assert walk.count("request_change") == int(rfc)
    assert walk.count("correct_records") == int(correction)


def test_verify_form_needs_the_difference_unless_it_matches():
    """The per-CI form asks for the difference for every result except matches."""
    schema = Draft202012Validator(form("config_audit_verify_ci.json")["schema"])
    base = {"ci_evidence": "现场核对"}
    assert not list(schema.iter_errors({**base, "ci_result": "matches"}))
    for result in ("differs", "missing", "unauthorised"):
        assert [e.validator for e in schema.iter_errors({**base, "ci_result": result})] == ["required"]
