"""Every path of processes/config_audit.bpmn, walked task by task through engine/ (no Flask).

Each command takes the snapshot the previous one returned, and after every command a fresh Engine restores
that snapshot and must see the same instance (open tasks, status, history). Each step checks which tasks are
open, in which lane and role, with which form. Form data is built from forms/config_audit_*.json and
validated against their schemas. Covered: the timer start (the schedule in ProcessPackage.start_timer) and the
message start after a change; one verification task per CI (multi-instance) and the findings it collects; both
outcomes of every gateway (report approved/rejected, RFC yes/no, correction yes/no); the RFC message
change_requested with its payload and correlation; the report rework loop, a few times through the public API
and 500 times in memory (marked slow: SpiffWorkflow walks every finished loop pass on each step, so 500 passes
cost ~25 s).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from SpiffWorkflow.util.task import TaskState

from engine import Engine, load_package
from engine import snapshot as snapshots
from engine.engine import _run

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


@pytest.fixture(scope="module")
def package():
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


def test_rejected_report_is_reworked(package):
    """Rejected twice (the writer is told each time), then approved: the loop runs three passes."""
    walk = Walk(package).scheduled().do("control_cis").verify({ci: MATCHES for ci in SCOPE})
    for rejection in (1, 2):
        walk.do("draft_audit_report", report_rework_notes=None if rejection == 1 else "已复核")
        walk.do("approve_audit_report", **REJECT)
        [draft] = walk.open_tasks("draft_audit_report")
        assert draft.data["audit_approval_comment"] == REJECT["audit_approval_comment"]
        assert walk.count("audit_report_returned") == rejection
    walk.do("draft_audit_report", report_rework_notes="已复核 APP-PORTAL-01").do("approve_audit_report")
    report_and_end(walk)
    assert (walk.count("draft_audit_report"), walk.count("approve_audit_report")) == (3, 3)
    assert walk.count("verify_ci") == 2  # rework revises the report; the findings stay


def test_verify_form_needs_the_difference_unless_it_matches():
    """The per-CI form asks for the difference for every result except matches."""
    schema = Draft202012Validator(form("config_audit_verify_ci.json")["schema"])
    base = {"ci_evidence": "现场核对"}
    assert not list(schema.iter_errors({**base, "ci_result": "matches"}))
    for result in ("differs", "missing", "unauthorised"):
        assert [e.validator for e in schema.iter_errors({**base, "ci_result": result})] == ["required"]


@pytest.mark.slow
def test_report_rework_loop_survives_500_passes(package):
    """500 rejections in a row: the standard loop still offers the draft, then approves and ends.

    The passes run in memory on the restored workflow (engine internals): through the public API each command
    re-reads the whole snapshot (3.7 MB after 500 passes), which takes minutes; the snapshot is then restored
    by a fresh Engine and the instance is finished through the public API.
    """
    walk = Walk(package).scheduled().do("control_cis").verify({ci: MATCHES for ci in SCOPE})
    draft = form_data("config_audit_draft_report.json", "op1", {"report_rework_notes": "已复核"})
    reject = form_data("config_audit_approve_report.json", "cm1", REJECT)
    workflow, _, _ = Engine()._restore(package, walk.result.snapshot)
    for _ in range(500):
        for element, data in (("draft_audit_report", draft), ("approve_audit_report", reject)):
            [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
            assert task.task_spec.bpmn_id == element
            task.data.update(copy.deepcopy(data))
            task.run()
            _run(workflow)
    walk._took(Engine().state(package, snapshots.dump(workflow)))
    assert walk.count("approve_audit_report") == 500 and walk.count("audit_report_returned") == 500
    walk.do("draft_audit_report").do("approve_audit_report")
    report_and_end(walk)
