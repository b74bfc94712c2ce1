"""The walker for config_audit.bpmn's path tests: constants, form data from forms/config_audit_*.json, and
``Walk`` (walk.ProcessWalk for this process: both starts, one verification task per CI).

test_config_audit_paths.py holds the paths, test_config_audit_rework.py the report rework loop.
"""

from __future__ import annotations

from typing import Any

from tests.engine.walk import ProcessWalk, form, load_process  # noqa: F401 (form: the path tests import it here)

SCHEDULE = "R/2027-01-01T00:00:00+08:00/P3M"
BUSINESS_KEY = "CFA-2027-000001"
NOW = "2027-01-04T02:00:00+00:00"
LANES = {
    "config_operator": "配置管理操作员 (config_operator)",
    "config_manager": "配置管理组长 (config_manager)",
}
#: element id -> (role, form) of every user task.
TASKS = {
    "control_cis": ("config_operator", "config_audit_control.json"),
    "verify_ci": ("config_operator", "config_audit_verify_ci.json"),
    "draft_audit_report": ("config_operator", "config_audit_draft_report.json"),
    "approve_audit_report": ("config_manager", "config_audit_approve_report.json"),
    "correct_records": ("config_operator", "config_audit_correct_records.json"),
    "report_configuration": ("config_operator", "config_audit_report.json"),
}
ACTORS = {"config_operator": "op1", "config_manager": "cm1"}
SCOPE = ["SRV-DB-01", "APP-PORTAL-01"]

#: Valid data for each form; a step overrides only what steers the path (None removes a key).
BASE: dict[str, dict[str, Any]] = {
    "config_audit_control.json": {
        "control_period_from": "2026-10-01",
        "control_period_to": "2026-12-31",
        "control_changes_reviewed": "CHG-2026-000101 SRV-DB-01 升级；CHG-2026-000117 APP-PORTAL-01 补丁",
        "control_unauthorised_found": False,
        "audit_scope_basis": "sample",
        "audit_scope_cis": SCOPE,
    },
    "config_audit_verify_ci.json": {"ci_result": "matches", "ci_evidence": "现场核对序列号和版本"},
    "config_audit_draft_report.json": {
        "report_summary": "抽查的配置项与CMDB一致",
        "report_rfc_needed": False,
        "report_correction_needed": False,
    },
    "config_audit_approve_report.json": {"audit_approval": "approved"},
    "config_audit_correct_records.json": {
        "correction_cis_done": ["APP-PORTAL-01"],
        "correction_notes": "版本号更正为 2.1.3",
    },
    "config_audit_report.json": {
        "cm_report_title": "2026年第四季度配置管理报告",
        "cm_report_content": "CMDB准确率、审计发现、已提交的RFC",
        "cm_report_recipients": "变更管理、问题管理、领导",
    },
}
REJECT = {"audit_approval": "rejected", "audit_approval_comment": "请复核 APP-PORTAL-01 的版本"}
WITH_RFC = {
    "report_rfc_needed": True,
    "report_rfc_cis": ["SRV-DB-01"],
    "report_rfc_description": "回退未经授权的内核参数修改",
}
WITH_CORRECTION = {"report_correction_needed": True, "report_correction_cis": ["APP-PORTAL-01"]}


def load_config_audit():
    """config_audit.bpmn with its decision tables, loaded and linted like the platform loads it."""
    return load_process("config_audit")


class Walk(ProcessWalk):
    """ProcessWalk for config_audit.bpmn: scheduled or requested, one verification task per CI."""

    PROCESS_ID = "config_audit"
    TASKS = TASKS
    LANES = LANES
    ACTORS = ACTORS
    BASE = BASE
    ENDS = ("end_reported",)
    BUSINESS_KEY = BUSINESS_KEY
    NOW = NOW
    START_MESSAGE = "config_audit_requested"
    MESSAGE_START = "start_after_change"
    ENDED_EMPTY = ("subscriptions", "timers")

    def requested(self, payload: dict[str, Any]) -> Walk:
        """Started by config_audit_requested as the platform does: start at the message start, deliver."""
        return self.start_by_message(payload)

    def open_tasks(self, element_id: str) -> list[Any]:
        """Assert only ``element_id`` tasks are open, in their role's lane with their form; return them."""
        assert self.result.status == "running"
        assert {t.element_id for t in self.result.open_tasks} == {element_id}, [
            t.element_id for t in self.result.open_tasks
        ]
        return self.tasks(element_id)

    def verify(self, findings: dict[str, dict[str, Any]], *, reverse: bool = False) -> Walk:
        """Complete one verify_ci task per CI (all open at once), with the given data per CI."""
        tasks = self.open_tasks("verify_ci")
        assert sorted(t.data["audit_ci"] for t in tasks) == sorted(findings)
        for task in reversed(tasks) if reverse else tasks:
            self.complete(task, **findings[task.data["audit_ci"]])
        return self

    count = ProcessWalk.passed


form_data = Walk.form_data


def finding(result: str, difference: str = "与CMDB记录不同") -> dict[str, Any]:
    """verify_ci data for a result other than matches."""
    return {"ci_result": result, "ci_difference": difference}


MATCHES: dict[str, Any] = {}
COUNTS = (
    "audit_total",
    "audit_matches",
    "audit_differs",
    "audit_missing",
    "audit_unauthorised",
    "audit_accuracy",
)


def counts(data: dict[str, Any]) -> tuple:
    """The summary decision's counts and accuracy, in COUNTS order."""
    return tuple(data[key] for key in COUNTS)


def report_and_end(walk: Walk) -> Walk:
    """The configuration management report, then the end."""
    return walk.do("report_configuration").ended()
