"""The walker for config_audit.bpmn's path tests: constants, form data from forms/config_audit_*.json, and
``Walk`` (both starts, one verification task per CI).

test_config_audit_paths.py holds the paths, test_config_audit_rework.py the report rework loop.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from engine import Engine, load_package

ROOT = Path(__file__).resolve().parents[2]
PROCESSES_DIR = ROOT / "processes"
FORMS_DIR = ROOT / "forms"

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


def lane_role(name: str) -> str | None:
    """The role id in brackets at the end of a lane name."""
    match = re.search(r"\(([a-z][a-z0-9_]*)\)\s*$", name)
    return match.group(1) if match else None


@cache
def form(name: str) -> dict[str, Any]:
    """A form file of forms/."""
    return json.loads((FORMS_DIR / name).read_text(encoding="utf-8"))


def form_data(name: str, actor: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """What the platform passes for a submitted form: base data, overrides, auto fields; validated."""
    data = {**BASE[name], **overrides}
    data = {k: v for k, v in data.items() if v is not None}
    autos = {"actor": actor, "now": NOW, "business_key": BUSINESS_KEY}
    for fld in form(name)["fields"]:
        if "auto" in fld:
            data[fld["name"]] = autos[fld["auto"]]
    errors = sorted(e.message for e in Draft202012Validator(form(name)["schema"]).iter_errors(data))
    assert not errors, f"test data for {name} is invalid: {errors}"
    return data


def load_config_audit():
    """config_audit.bpmn with its decision tables, loaded and linted like the platform loads it."""
    forms = {p.name for p in FORMS_DIR.glob("*.json")}
    path = PROCESSES_DIR / "config_audit.bpmn"
    return load_package(path, PROCESSES_DIR, forms=forms, lane_role=lane_role)


@dataclass
class Walk:
    """One instance driven command by command, restoring every returned snapshot on a fresh Engine."""

    package: Any
    engine: Engine = field(default_factory=Engine)
    result: Any = None

    def _took(self, result: Any) -> Walk:
        restored = Engine().state(self.package, result.snapshot)
        assert restored.status == result.status
        assert [(t.task_id, t.element_id) for t in restored.open_tasks] == [
            (t.task_id, t.element_id) for t in result.open_tasks
        ]
        assert restored.completed_elements == result.completed_elements
        self.result = result
        return self

    def scheduled(self) -> Walk:
        """Started by the platform's scheduler (or by hand): no form, only the sys_ keys."""
        data = {"sys_business_key": BUSINESS_KEY, "sys_started_by": "system", "sys_started_at": NOW}
        return self._took(self.engine.start(self.package, data))

    def requested(self, payload: dict[str, Any]) -> Walk:
        """Started by config_audit_requested as the platform does: start at the message start, deliver."""
        name = "config_audit_requested"
        data = {**payload, "sys_business_key": BUSINESS_KEY, "sys_started_by": "system"}
        self._took(self.engine.start(self.package, {**data, "sys_started_at": NOW}, message=name))
        assert self.result.open_tasks == []
        [subscription] = self.result.subscriptions
        assert (subscription.element_id, subscription.name) == ("start_after_change", name)
        return self._took(self.engine.deliver_message(self.package, self.result.snapshot, name, payload))

    def open_tasks(self, element_id: str) -> list[Any]:
        """Assert only ``element_id`` tasks are open, in their role's lane with their form; return them."""
        assert self.result.status == "running"
        assert {t.element_id for t in self.result.open_tasks} == {element_id}, [
            t.element_id for t in self.result.open_tasks
        ]
        role, form_name = TASKS[element_id]
        for task in self.result.open_tasks:
            assert (task.role, task.lane, task.form) == (role, LANES[role], form_name)
        return self.result.open_tasks

    def complete(self, task: Any, **overrides: Any) -> Walk:
        """Complete ``task`` with its form's data plus overrides."""
        data = form_data(task.form, ACTORS[task.role], overrides)
        return self._took(self.engine.complete_task(self.package, self.result.snapshot, task.task_id, data))

    def do(self, element_id: str, **overrides: Any) -> Walk:
        """Complete the single open task ``element_id``."""
        [task] = self.open_tasks(element_id)
        return self.complete(task, **overrides)

    def verify(self, findings: dict[str, dict[str, Any]], *, reverse: bool = False) -> Walk:
        """Complete one verify_ci task per CI (all open at once), with the given data per CI."""
        tasks = self.open_tasks("verify_ci")
        assert sorted(t.data["audit_ci"] for t in tasks) == sorted(findings)
        for task in reversed(tasks) if reverse else tasks:
            self.complete(task, **findings[task.data["audit_ci"]])
        return self

    def ended(self) -> Walk:
        """Assert the instance completed at its one end event with nothing left open or waiting."""
        assert self.result.status == "completed"
        assert self.result.open_tasks == [] and self.result.subscriptions == [] and self.result.timers == []
        facts = [(f.kind, f.element_id) for f in self.result.facts]
        assert ("event_reached", "end_reported") in facts and ("ended", "config_audit") in facts
        return self

    def count(self, element_id: str) -> int:
        """How often ``element_id`` completed."""
        return self.result.completed_elements.count(element_id)


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
