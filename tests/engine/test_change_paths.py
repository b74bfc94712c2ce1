"""Every path of processes/change.bpmn (normal change with the CAB), walked task by task through engine/.

Each command takes the snapshot the previous one returned, and after every command a fresh Engine restores
that snapshot and must see the same instance (open tasks, status, history). At every step the test checks
which tasks are open, in which lane and role, with which form; messages to other processes are checked by
name, payload and correlation, and their replies delivered with ``Engine.deliver_message``. Form data is
built from forms/*.json and validated against their schemas.

The 500-repetition tests of the loops drive the instance in memory between two snapshots, through the
engine's own snapshot, loader and script engine modules (and the process's scripts in this process): through
the public API every command rewrites the snapshot, which takes 15 s and more for 500 rounds. They start and
finish through the Engine API, so the 500-round snapshot is restored and run on.
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
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from engine import Engine, MessageNotAccepted, load_directory
from engine import snapshot as snapshots
from engine.loader import specs_for
from engine.script_engine import SafeScriptEngine, utc_now
from engine.scripts import PlatformCall

ROOT = Path(__file__).resolve().parents[2]
FORMS_DIR = ROOT / "forms"

LANES = {
    "requester": "变更请求者 (requester)",
    "change_analyst": "变更分析员 (change_analyst)",
    "change_manager": "变更管理组长 (change_manager)",
    "cab": "变更咨询委员会 (cab)",
    "change_implementer": "变更实施人员 (change_implementer)",
    "config_operator": "配置管理操作员 (config_operator)",
}
#: element id -> (role, form) of every user task.
TASKS = {
    "submit_rfc": ("requester", "change_submit_rfc.json"),
    "assess_change": ("change_analyst", "change_assess.json"),
    "complete_rfc": ("requester", "change_complete_rfc.json"),
    "approve_change": ("change_manager", "change_manager_approve.json"),
    "convene_cab": ("change_manager", "change_convene_cab.json"),
    "cab_approve": ("cab", "change_cab_vote.json"),
    "rework_change": ("change_manager", "change_rework.json"),
    "schedule_tasks": ("change_manager", "change_schedule.json"),
    "implement_change": ("change_implementer", "change_implement.json"),
    "update_cmdb": ("config_operator", "change_update_cmdb.json"),
    "review_change": ("change_manager", "change_review.json"),
    "close_change": ("change_manager", "change_close.json"),
}
ACTORS = {
    "requester": "alice",
    "change_analyst": "ana",
    "change_manager": "mgr",
    "cab": "cab1",
    "change_implementer": "impl",
    "config_operator": "cfg",
}
CAB = ["cab1", "cab2", "cab3", "cab4", "cab5"]
KEY = "CHG-2026-000042"
INCIDENT = "INC-2026-000007"
NOW = "2026-03-02T09:30:00+00:00"
ENDS = ("end_closed", "end_rejected")

RFC = {
    "title": "升级邮件服务器操作系统",
    "description": "将邮件服务器从 OS 7 升级到 OS 8",
    "reason": "OS 7 停止维护",
    "affected_cis": ["SRV-MAIL-01"],
    "requested_start": "2026-03-10T22:00:00+08:00",
    "requested_end": "2026-03-11T02:00:00+08:00",
    "benefit": "获得安全补丁",
    "risk": "升级失败导致邮件中断",
}
#: Valid data for each form; a step overrides only what steers the path (None removes a key).
BASE: dict[str, dict[str, Any]] = {
    "change_submit_rfc.json": dict(RFC),
    "change_complete_rfc.json": {**RFC, "rfc_completion_note": "补充了实施窗口"},
    "change_assess.json": {
        "rfc_check": "accepted",
        "impact": "low",
        "urgency": "low",
        "risk_level": "low",
        "change_assessment": "影响单台服务器",
        "change_plan": "备份后升级",
        "backout_plan": "从快照恢复",
    },
    "change_manager_approve.json": {"manager_decision": "approve", "manager_opinion": "同意"},
    "change_convene_cab.json": {
        "cab_members": CAB,
        "cab_decision_rule": "majority",
        "cab_meeting_at": "2026-03-05T10:00:00+08:00",
        "cab_agenda": "审议邮件系统升级",
    },
    "change_cab_vote.json": {"cab_vote": "approve", "cab_vote_comment": "同意"},
    "change_rework.json": {
        "cab_rework": "resubmit",
        "change_assessment": "补充了容量评估",
        "change_plan": "分两批升级",
        "backout_plan": "从快照恢复",
        "rework_summary": "按CAB意见分批实施",
    },
    "change_schedule.json": {
        "implementation_plan": "周五夜间窗口升级",
        "implementation_tasks": "备份\n升级\n验证",
        "assigned_implementer": "impl",
        "window_start": "2026-03-13T22:00:00+08:00",
        "window_end": "2026-03-14T02:00:00+08:00",
    },
    "change_implement.json": {
        "implementation_result": "completed",
        "implemented_from": "2026-03-13T22:05:00+08:00",
        "implemented_to": "2026-03-14T01:10:00+08:00",
        "implementation_notes": "升级完成，服务正常",
        "backout_performed": False,
        "ci_changed": False,
        "needs_release": False,
    },
    "change_update_cmdb.json": {
        "cmdb_cis": ["SRV-MAIL-01"],
        "cmdb_before": "os_version: 7",
        "cmdb_after": "os_version: 8",
    },
    "change_review.json": {
        "review_result": "success",
        "review_body": "change_manager",
        "review_findings": "达到预期",
        "change_record_updated": True,
    },
    "change_close.json": {
        "handover_complete": True,
        "handover_documents": "运维手册更新版",
        "closure_notes": "已关闭",
    },
}


def lane_role(name: str) -> str | None:
    """The role id in brackets at the end of a lane name, or a bare role id."""
    match = re.search(r"\(([a-z][a-z0-9_]*)\)\s*$", name)
    if match:
        return match.group(1)
    return name if re.fullmatch(r"[a-z][a-z0-9_]*", name) else None


@cache
def form(name: str) -> dict[str, Any]:
    """A form file of forms/."""
    return json.loads((FORMS_DIR / name).read_text(encoding="utf-8"))


def form_data(name: str, actor: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """What the platform passes for a submitted form: base data, overrides, auto fields; validated."""
    data = {**copy.deepcopy(BASE[name]), **overrides}
    data = {k: v for k, v in data.items() if v is not None}
    autos = {"actor": actor, "now": NOW, "business_key": KEY}
    for fld in form(name)["fields"]:
        if "auto" in fld:
            data[fld["name"]] = autos[fld["auto"]]
    errors = sorted(e.message for e in Draft202012Validator(form(name)["schema"]).iter_errors(data))
    assert not errors, f"test data for {name} is invalid: {errors}"
    return data


@pytest.fixture(scope="module")
def package():
    """The change process, loaded and linted like the platform loads it."""
    forms = {p.name for p in FORMS_DIR.glob("*.json")}
    return load_directory(ROOT / "processes", forms=forms, lane_role=lane_role)["change"]


def rejected(vote: str = "reject") -> dict[str, Any]:
    """A CAB vote other than approve (a rejection needs a comment)."""
    return {"cab_vote": vote, "cab_vote_comment": "风险过高"}


@dataclass
class Walk:
    """One instance driven command by command, restoring every returned snapshot on a fresh Engine."""

    package: Any
    engine: Engine = field(default_factory=Engine)
    result: Any = None
    sent: list[Any] = field(default_factory=list)

    def _took(self, result: Any) -> Walk:
        restored = Engine().state(self.package, result.snapshot)
        assert restored.status == result.status
        assert [(t.task_id, t.element_id) for t in restored.open_tasks] == [
            (t.task_id, t.element_id) for t in result.open_tasks
        ]
        assert restored.completed_elements == result.completed_elements
        assert restored.subscriptions == result.subscriptions
        self.result = result
        self.sent.extend(result.messages)
        return self

    def start(self, **overrides: Any) -> Walk:
        """The requester submits the RFC on the start form (the start task)."""
        data = form_data("change_submit_rfc.json", ACTORS["requester"], overrides)
        data.update(sys_business_key=KEY, sys_started_by=ACTORS["requester"], sys_started_at=NOW)
        self._took(self.engine.start(self.package, data))
        assert "submit_rfc" in self.result.completed_elements
        return self

    def start_by_message(self, **overrides: Any) -> Walk:
        """Another process sends change_requested; the platform starts and delivers it as it does."""
        payload = {
            "source_key": INCIDENT,
            "source_process": "incident",
            **{k: RFC[k] for k in ("title", "description", "reason", "affected_cis")},
            **overrides,
        }
        data = dict(payload, sys_business_key=KEY, sys_started_by="system", sys_started_at=NOW)
        first = self.engine.start(self.package, data, message="change_requested")
        assert first.open_tasks == [] and [s.name for s in first.subscriptions] == ["change_requested"]
        self._took(self.engine.deliver_message(self.package, first.snapshot, "change_requested", payload))
        assert "submit_rfc" not in self.result.completed_elements
        return self

    def tasks(self, element_id: str) -> list[Any]:
        """The open tasks of ``element_id``, each checked for its lane, role and form."""
        found = [t for t in self.result.open_tasks if t.element_id == element_id]
        role, form_name = TASKS[element_id]
        for task in found:
            assert (task.role, task.lane, task.form) == (role, LANES[role], form_name)
        return found

    def open_task(self, element_id: str) -> Any:
        """Assert ``element_id`` is the only open task; return it."""
        assert self.result.status == "running"
        assert [t.element_id for t in self.result.open_tasks] == [element_id], (
            f"expected {element_id} open, got {[t.element_id for t in self.result.open_tasks]}"
        )
        return self.tasks(element_id)[0]

    def do(self, element_id: str, **overrides: Any) -> Walk:
        """Complete the open task ``element_id`` with its form's data (plus overrides)."""
        task = self.open_task(element_id)
        data = form_data(task.form, ACTORS[task.role], overrides)
        return self._took(self.engine.complete_task(self.package, self.result.snapshot, task.task_id, data))

    def vote(self, *votes: dict[str, Any] | str) -> Walk:
        """Every convened member votes, in the order of cab_members; each task is offered to its voter."""
        ballots = self.tasks("cab_approve")
        members = ballots[0].data["cab_members"] if ballots else []
        assert [t.data["voter"] for t in ballots] == members
        assert len(votes) == len(ballots)
        assert {t.element_id for t in self.result.open_tasks} == {"cab_approve"}
        for task, vote in zip(ballots, votes, strict=True):
            overrides = {"cab_vote": vote} if isinstance(vote, str) else vote
            data = form_data(task.form, task.data["voter"], overrides)
            self._took(self.engine.complete_task(self.package, self.result.snapshot, task.task_id, data))
        return self

    def deliver(self, name: str, **payload: Any) -> Walk:
        """Deliver a reply message to the waiting instance."""
        return self._took(self.engine.deliver_message(self.package, self.result.snapshot, name, payload))

    def message(self, name: str) -> Any:
        """The one message of that name the instance has sent so far."""
        found = [m for m in self.sent if m.name == name]
        assert len(found) == 1, f"{name}: {found}"
        return found[0]

    def ended(self, end_event: str) -> Walk:
        """Assert the instance completed at ``end_event`` and no task is left open."""
        assert self.result.status == "completed"
        assert self.result.open_tasks == [] and self.result.subscriptions == []
        assert [e for e in self.result.completed_elements if e in ENDS] == [end_event]
        facts = [(f.kind, f.element_id) for f in self.result.facts]
        assert ("event_reached", end_event) in facts and ("ended", "change") in facts
        return self

    def passed(self, element_id: str) -> int:
        """How often ``element_id`` completed."""
        return self.result.completed_elements.count(element_id)


def approved_minor(walk: Walk) -> Walk:
    """Submitted, assessed as a minor change, approved by the change manager."""
    return walk.start().do("assess_change").do("approve_change")


def implement_to_end(walk: Walk, **implement: Any) -> Walk:
    """Schedule, implement (no release, no CI change unless asked), review and close."""
    walk.do("schedule_tasks").do("implement_change", **implement)
    return walk


def review_and_close(walk: Walk, **review: Any) -> Walk:
    """Review and close: the instance ends closed."""
    return walk.do("review_change", **review).do("close_change").ended("end_closed")


def major(walk: Walk, members: list[str] | None = None, rule: str = "majority") -> Walk:
    """Submitted, assessed as a major change (high impact), the CAB convened."""
    walk.start().do("assess_change", impact="high")
    assert walk.result.data["change_class"] == "major"
    return walk.do("convene_cab", cab_members=members or CAB, cab_decision_rule=rule)


# ------------------------------------------------------------------------------------- the package


def test_package_lanes_tasks_forms_and_properties(package):
    """The start task and message, each lane's role, each user task's role and form, platform properties."""
    assert (package.process_id, package.name) == ("change", "变更管理")
    assert package.start_task == "submit_rfc"
    assert package.start_messages == ("change_requested",)
    assert package.lanes == {name: role for role, name in LANES.items()}
    assert {k: (v.role, v.form) for k, v in package.user_tasks.items()} == TASKS
    assert set(package.files) == {"change.bpmn", "change_class.dmn", "cab_decision.dmn"}
    props = package.element_properties
    assert props["approve_change"]["separateFrom"] == "starter,submit_rfc"
    assert props["cab_approve"]["separateFrom"] == "starter,submit_rfc"
    assert props["cab_approve"]["assignee"] == "voter"
    assert props["review_change"]["separateFrom"] == "implement_change"
    assert props["update_cmdb"]["platformEffect"] == "cmdb_update"
    assert props["implement_change"]["assignee"] == "assigned_implementer"
    assert props["convene_cab"]["notifyTo"] == "user:cab_members"
    assert props["chase_handover"]["notifyTo"] == "assignee:implement_change"
    assert props["end_rejected"]["notifyTo"] == "requester"
    for element in (
        "approve_change",
        "convene_cab",
        "decide_cab",
        "chase_handover",
        "end_rejected",
        "end_closed",
    ):
        assert props[element]["notifyText"], element


# ------------------------------------------------------------------------------------ normal paths


def test_minor_change_approved_implemented_reviewed_closed(package):
    """A minor change: the change manager approves; scheduled, implemented, reviewed, closed; no reply."""
    walk = Walk(package).start()
    task = walk.open_task("assess_change")
    assert task.data["title"] == RFC["title"] and task.data["source_key"] == ""
    walk.do("assess_change")
    assert walk.result.data["change_class"] == "minor"
    assert walk.open_task("approve_change").data["change_plan"] == "备份后升级"
    walk.do("approve_change")
    assert walk.open_task("schedule_tasks").data["manager_opinion"] == "同意"
    walk.do("schedule_tasks")
    task = walk.open_task("implement_change")
    assert task.data["assigned_implementer"] == "impl"
    walk.do("implement_change")
    assert "request_release" not in walk.result.completed_elements
    assert "update_cmdb" not in walk.result.completed_elements
    review_and_close(walk)
    assert walk.sent == []
    for skipped in (
        "complete_rfc",
        "convene_cab",
        "cab_approve",
        "request_emergency_change",
        "notify_origin",
    ):
        assert skipped not in walk.result.completed_elements


@pytest.mark.parametrize(
    ("assessment", "change_class", "next_step"),
    [
        ({"urgency": "critical", "impact": "low"}, "emergency", None),
        ({"urgency": "critical", "impact": "high", "risk_level": "high"}, "emergency", None),
        ({"impact": "high"}, "major", "convene_cab"),
        ({"impact": "medium", "risk_level": "high"}, "major", "convene_cab"),
        ({"risk_level": "high"}, "major", "convene_cab"),
        ({"urgency": "high", "impact": "medium"}, "normal", "approve_change"),
        ({"risk_level": "medium"}, "normal", "approve_change"),
        ({"urgency": "medium"}, "minor", "approve_change"),
        ({"urgency": "high"}, "minor", "approve_change"),
    ],
)
def test_change_class_from_the_decision_table(package, assessment, change_class, next_step):
    """change_class.dmn over impact, urgency and risk routes to the ECAB, the CAB or the change manager."""
    walk = Walk(package).start().do("assess_change", **assessment)
    assert walk.result.data["change_class"] == change_class
    assert "determine_change_class" in walk.result.completed_elements
    if next_step:
        walk.open_task(next_step)
    else:
        assert walk.result.open_tasks == []
        assert [s.name for s in walk.result.subscriptions] == ["emergency_change_completed"]


@pytest.mark.parametrize(
    ("count", "change_class"),
    [(1, "minor"), (2, "minor"), (3, "normal"), (9, "normal"), (10, "major"), (12, "major")],
)
def test_change_class_by_number_of_affected_cis(package, count, change_class):
    """Low impact and risk: one or two CIs minor, three to nine normal, ten or more major."""
    cis = [f"SRV-{n:02d}" for n in range(count)]
    walk = Walk(package).start(affected_cis=cis).do("assess_change")
    assert walk.result.data["change_class"] == change_class
    walk.open_task("convene_cab" if change_class == "major" else "approve_change")


def test_normal_change_goes_the_same_way_as_minor(package):
    """A normal change is approved by the change manager too."""
    walk = Walk(package).start().do("assess_change", impact="medium")
    assert walk.result.data["change_class"] == "normal"
    walk.do("approve_change")
    implement_to_end(walk)
    review_and_close(walk)


# -------------------------------------------------------------------------------------- assessment


def test_incomplete_rfc_goes_back_to_the_requester_and_is_assessed_again(package):
    """Returned: the requester completes the RFC (same fields, current values); the analyst assesses again."""
    walk = Walk(package).start()
    walk.do("assess_change", rfc_check="returned", rfc_return_reason="缺少回退方案说明")
    task = walk.open_task("complete_rfc")
    assert task.data["rfc_return_reason"] == "缺少回退方案说明"
    assert task.data["title"] == RFC["title"] and task.data["assessed_by"] == "ana"
    walk.do("complete_rfc", title="升级邮件服务器操作系统（分批）")
    task = walk.open_task("assess_change")
    assert task.data["title"] == "升级邮件服务器操作系统（分批）"
    assert task.data["rfc_completion_note"] == "补充了实施窗口"
    walk.do("assess_change").do("approve_change")
    implement_to_end(walk)
    review_and_close(walk)
    assert walk.passed("assess_change") == 2 and walk.passed("complete_rfc") == 1


@pytest.mark.parametrize(
    "reason",
    [
        {"rfc_reject_category": "impractical", "rfc_reject_reason": "预算不足"},
        {
            "rfc_reject_category": "duplicate",
            "rfc_duplicate_of": "CHG-2026-000001",
            "rfc_reject_reason": "重复",
        },
    ],
)
def test_rejected_rfc_ends_rejected(package, reason):
    """Impractical or duplicate: the analyst rejects it; the change ends rejected and nobody else is told."""
    walk = Walk(package).start().do("assess_change", rfc_check="rejected", **reason)
    walk.ended("end_rejected")
    assert "determine_change_class" not in walk.result.completed_elements
    assert walk.sent == []


def test_manager_rejection_goes_back_to_assessment(package):
    """The change manager rejects: back to the analyst, who improves the plan; then approved."""
    walk = Walk(package).start().do("assess_change")
    walk.do("approve_change", manager_decision="reject", manager_opinion="回退方案不充分")
    task = walk.open_task("assess_change")
    assert task.data["manager_opinion"] == "回退方案不充分"
    assert task.data["change_plan"] == "备份后升级"  # the form opens on the current plan
    walk.do("assess_change", backout_plan="从快照恢复，并保留旧服务器一周").do("approve_change")
    implement_to_end(walk)
    review_and_close(walk)
    assert walk.passed("approve_change") == 2 and walk.passed("assessment_cycle") >= 2


def test_manager_rejection_then_reassessed_as_major_goes_to_the_cab(package):
    """After a rejection the analyst may reclassify: the second round goes to the CAB."""
    walk = Walk(package).start().do("assess_change").do("approve_change", manager_decision="reject")
    walk.do("assess_change", impact="high").do("convene_cab").vote(
        "approve", "approve", "approve", "approve", "approve"
    )
    walk.open_task("schedule_tasks")


# ----------------------------------------------------------------------------------------- the CAB


@pytest.mark.parametrize(
    ("rule", "votes", "result", "counts"),
    [
        ("majority", ["approve"] * 3 + [rejected()] * 2, "approved", (3, 2, 0)),
        ("unanimous", ["approve"] * 3 + [rejected()] * 2, "rejected", (3, 2, 0)),
        ("any_veto", ["approve"] * 4 + [rejected()], "rejected", (4, 1, 0)),
        ("any_veto", ["approve"] * 4 + [rejected("abstain")], "approved", (4, 0, 1)),
        ("unanimous", ["approve"] * 4 + [rejected("abstain")], "rejected", (4, 0, 1)),
        ("unanimous", ["approve"] * 5, "approved", (5, 0, 0)),
        ("majority", ["approve"] * 2 + [rejected()] + [rejected("abstain")] * 2, "rejected", (2, 1, 2)),
        ("any_veto", [rejected("abstain")] * 5, "rejected", (0, 0, 5)),
    ],
    ids=[
        "majority-3-of-5",
        "unanimous-3-of-5",
        "any_veto-one-reject",
        "any_veto-one-abstains",
        "unanimous-one-abstains",
        "unanimous-5-of-5",
        "majority-2-of-5",
        "any_veto-all-abstain",
    ],
)
def test_cab_vote_decided_by_the_rule(package, rule, votes, result, counts):
    """Every member votes (one task each, offered to that member); cab_decision.dmn applies the rule."""
    walk = major(Walk(package), rule=rule)
    ballots = walk.tasks("cab_approve")
    assert [t.data["voter"] for t in ballots] == CAB
    assert all(t.data["cab_decision_rule"] == rule for t in ballots)
    walk.vote(*votes)
    data = walk.result.data
    assert data["cab_result"] == result
    assert (data["cab_approvals"], data["cab_rejections"], data["cab_abstentions"]) == counts
    assert data["cab_vote_total"] == 5 and data["cab_votes"] == []
    assert data["cab_vote_record"].startswith("cab1: ")
    walk.open_task("schedule_tasks" if result == "approved" else "rework_change")


def test_cab_approved_major_change_to_the_end(package):
    """A major change approved by the CAB is scheduled, implemented, reviewed (by the CAB) and closed."""
    walk = major(Walk(package)).vote("approve", "approve", "approve", rejected(), "approve")
    implement_to_end(walk)
    review_and_close(walk, review_body="cab", cab_review_opinion="CAB确认成功")
    assert walk.result.data["review_body"] == "cab"


def test_cab_rejection_reworked_and_revoted_by_a_smaller_cab(package):
    """Rejected: the change manager reworks and resubmits; a newly convened CAB (fewer members) approves."""
    walk = major(Walk(package), rule="unanimous").vote("approve", "approve", "approve", rejected(), "approve")
    task = walk.open_task("rework_change")
    assert task.data["cab_result"] == "rejected"
    walk.do("rework_change")
    task = walk.open_task("convene_cab")
    assert task.data["rework_summary"] == "按CAB意见分批实施"
    walk.do("convene_cab", cab_members=["cab2", "cab4"], cab_decision_rule="majority")
    assert [t.data["voter"] for t in walk.tasks("cab_approve")] == ["cab2", "cab4"]
    walk.vote("approve", "approve")
    assert (walk.result.data["cab_result"], walk.result.data["cab_vote_total"]) == ("approved", 2)
    assert walk.result.data["cab_vote_record"] == "cab2: approve; cab4: approve"
    walk.open_task("schedule_tasks")
    assert walk.passed("convene_cab") == 2 and walk.passed("rework_change") == 1


def test_cab_rejection_withdrawn_ends_rejected(package):
    """Rejected and withdrawn: the change ends rejected."""
    walk = major(Walk(package), members=["cab1", "cab2", "cab3"]).vote(rejected(), rejected(), "approve")
    walk.do("rework_change", cab_rework="withdraw", withdraw_reason="改为采购新设备", change_plan=None)
    walk.ended("end_rejected")
    assert "schedule_tasks" not in walk.result.completed_elements


# --------------------------------------------------------------------------------------- emergency


def test_emergency_change_round_trip_implemented(package):
    """Emergency: the request goes to the emergency process; its reply (implemented) leads to closing."""
    walk = Walk(package).start().do("assess_change", urgency="critical")
    sent = walk.message("emergency_change_requested")
    assert sent.correlation == {"source_key": KEY}
    assert sent.payload == {
        "source_key": KEY,
        "source_process": "change",
        "title": RFC["title"],
        "description": RFC["description"],
        "affected_cis": RFC["affected_cis"],
    }
    [waiting] = walk.result.subscriptions
    assert (waiting.element_id, waiting.name, waiting.correlation) == (
        "emergency_change_done",
        "emergency_change_completed",
        {"source_key": KEY},
    )
    with pytest.raises(MessageNotAccepted):
        walk.deliver("emergency_change_completed", source_key="CHG-2026-999999", outcome="implemented")
    walk.deliver("emergency_change_completed", source_key=KEY, change_key="ECHG-1", outcome="implemented")
    assert walk.result.data["emergency_result"]["change_key"] == "ECHG-1"
    walk.do("close_change").ended("end_closed")
    for skipped in ("approve_change", "schedule_tasks", "implement_change", "review_change"):
        assert skipped not in walk.result.completed_elements


def test_emergency_change_rejected_goes_back_to_assessment(package):
    """The ECAB rejects: back to the analyst, who reassesses; then the normal way."""
    walk = Walk(package).start().do("assess_change", urgency="critical")
    walk.deliver("emergency_change_completed", source_key=KEY, change_key="ECHG-1", outcome="rejected")
    task = walk.open_task("assess_change")
    assert task.data["emergency_result"]["outcome"] == "rejected"
    walk.do("assess_change", urgency="high").do("approve_change")
    implement_to_end(walk)
    review_and_close(walk)
    assert walk.passed("request_emergency_change") == 1


# ---------------------------------------------------------------------------------- implementation


def test_release_requested_and_released(package):
    """A release package: release_requested goes out, the change waits for release_completed (released)."""
    walk = approved_minor(Walk(package)).do("schedule_tasks")
    walk.do("implement_change", needs_release=True, release_scope="OS 8 镜像与配置")
    sent = walk.message("release_requested")
    assert sent.correlation == {"source_key": KEY}
    assert sent.payload == {
        "source_key": KEY,
        "source_process": "change",
        "title": RFC["title"],
        "description": "OS 8 镜像与配置",
        "change_key": KEY,
    }
    assert [(s.name, s.correlation) for s in walk.result.subscriptions] == [
        ("release_completed", {"source_key": KEY})
    ]
    assert walk.result.open_tasks == []
    walk.deliver("release_completed", source_key=KEY, release_key="REL-1", outcome="released")
    review_and_close(walk)


def test_release_rejected_goes_back_to_scheduling(package):
    """The release is rejected: back to 安排和分派任务; re-planned without a release this time."""
    walk = approved_minor(Walk(package)).do("schedule_tasks")
    walk.do("implement_change", needs_release=True, release_scope="OS 8 镜像")
    walk.deliver("release_completed", source_key=KEY, release_key="REL-1", outcome="rejected")
    task = walk.open_task("schedule_tasks")
    assert task.data["release_result"]["outcome"] == "rejected"
    walk.do("schedule_tasks", implementation_plan="就地升级，不发布").do("implement_change")
    review_and_close(walk)
    assert walk.passed("schedule_tasks") == 2 and walk.passed("request_release") == 1


def test_ci_change_updates_the_cmdb_and_asks_for_an_audit(package):
    """CI details changed: the configuration operator updates the CMDB; a configuration audit is asked."""
    walk = approved_minor(Walk(package)).do("schedule_tasks").do("implement_change", ci_changed=True)
    task = walk.open_task("update_cmdb")
    assert task.data["implementation_notes"] == "升级完成，服务正常"
    walk.do("update_cmdb", cmdb_cis=["SRV-MAIL-01", "APP-MAIL-01"])
    sent = walk.message("config_audit_requested")
    assert sent.payload == {
        "source_key": KEY,
        "source_process": "change",
        "change_key": KEY,
        "affected_cis": ["SRV-MAIL-01", "APP-MAIL-01"],
    }
    assert walk.open_task("review_change").data["cmdb_after"] == "os_version: 8"
    review_and_close(walk)


def test_release_then_cmdb(package):
    """Both: the release first, then the CMDB records what reached production."""
    walk = approved_minor(Walk(package)).do("schedule_tasks")
    walk.do("implement_change", needs_release=True, release_scope="OS 8", ci_changed=True)
    walk.deliver("release_completed", source_key=KEY, release_key="REL-1", outcome="released")
    walk.do("update_cmdb")
    review_and_close(walk)
    order = walk.result.completed_elements
    assert order.index("release_done") < order.index("update_cmdb") < order.index("review_change")


def test_failed_implementation_reviewed_as_failed(package):
    """Failed and backed out: reviewed as a failure, closed."""
    walk = approved_minor(Walk(package)).do("schedule_tasks")
    walk.do("implement_change", implementation_result="failed", backout_performed=True)
    review_and_close(walk, review_result="failed")
    assert walk.result.data["review_result"] == "failed"


def test_missing_handover_documents_are_chased_before_closing(package):
    """Handover incomplete: the implementer is asked; the change manager closes when it is complete."""
    walk = approved_minor(Walk(package))
    implement_to_end(walk)
    walk.do("review_change")
    walk.do("close_change", handover_complete=False, handover_missing="回退脚本", closure_notes=None)
    assert "chase_handover" in walk.result.completed_elements
    task = walk.open_task("close_change")
    assert task.data["handover_missing"] == "回退脚本"
    walk.do("close_change").ended("end_closed")
    assert walk.passed("close_change") == 2


# --------------------------------------------------------------------------------- other processes


def test_change_from_an_incident_tells_it_the_outcome(package):
    """Started by change_requested: assessed like any RFC; at close the incident gets change_completed."""
    walk = Walk(package).start_by_message()
    task = walk.open_task("assess_change")
    assert (task.data["source_key"], task.data["source_process"]) == (INCIDENT, "incident")
    assert task.data["title"] == RFC["title"]
    walk.do("assess_change").do("approve_change")
    implement_to_end(walk)
    review_and_close(walk)
    sent = walk.message("change_completed")
    assert sent.correlation == {"source_key": INCIDENT}
    assert sent.payload == {"source_key": INCIDENT, "change_key": KEY, "outcome": "success"}


def test_failed_change_from_a_problem_reports_failed(package):
    """The review found the change failed: the problem is told outcome failed."""
    walk = Walk(package).start_by_message(source_key="PRB-2026-000003", source_process="problem")
    walk.do("assess_change").do("approve_change").do("schedule_tasks")
    walk.do("implement_change", implementation_result="failed", backout_performed=True)
    review_and_close(walk, review_result="failed")
    assert walk.message("change_completed").payload == {
        "source_key": "PRB-2026-000003",
        "change_key": KEY,
        "outcome": "failed",
    }


def test_rejected_change_from_an_incident_tells_it_rejected(package):
    """The analyst rejects an RFC another process sent: it is told outcome rejected."""
    walk = Walk(package).start_by_message()
    walk.do(
        "assess_change", rfc_check="rejected", rfc_reject_category="impractical", rfc_reject_reason="不可行"
    )
    walk.ended("end_rejected")
    assert walk.message("change_completed").payload == {
        "source_key": INCIDENT,
        "change_key": KEY,
        "outcome": "rejected",
    }


def test_withdrawn_change_from_an_incident_tells_it_rejected(package):
    """Withdrawn after the CAB's rejection: outcome rejected too."""
    walk = Walk(package).start_by_message()
    walk.do("assess_change", impact="high").do("convene_cab", cab_members=["cab1"]).vote(rejected())
    walk.do("rework_change", cab_rework="withdraw", withdraw_reason="撤回")
    walk.ended("end_rejected")
    assert walk.message("change_completed").payload["outcome"] == "rejected"


def test_emergency_change_from_an_incident_reports_success(package):
    """Implemented by the emergency process: the incident is told success, on this change's key."""
    walk = Walk(package).start_by_message().do("assess_change", urgency="critical")
    assert walk.message("emergency_change_requested").payload["source_key"] == KEY
    walk.deliver("emergency_change_completed", source_key=KEY, change_key="ECHG-9", outcome="implemented")
    walk.do("close_change").ended("end_closed")
    sent = walk.message("change_completed")
    assert sent.payload == {"source_key": INCIDENT, "change_key": KEY, "outcome": "success"}


def test_message_start_without_submit_form(package):
    """The message start never completes the requester's start task; the RFC comes from the payload."""
    walk = Walk(package).start_by_message(affected_cis=["SRV-MAIL-01", "DB-MAIL-01", "NET-CORE-01"])
    assert walk.result.completed_elements[:3] == ["change_requested", "join_start", "register_origin"]
    assert walk.open_task("assess_change").data["affected_cis"] == [
        "SRV-MAIL-01",
        "DB-MAIL-01",
        "NET-CORE-01",
    ]


# -------------------------------------------------------------------------- rejected by other processes


def test_emergency_rejected_repeatedly(package):
    """The ECAB rejects the RFC 20 times (the assessment loop repeats): reassessment still works."""
    walk = Walk(package).start()
    for n in range(20):
        walk.do("assess_change", urgency="critical")
        walk.deliver("emergency_change_completed", source_key=KEY, change_key=f"E{n}", outcome="rejected")
    walk.do("assess_change").do("approve_change")
    walk.open_task("schedule_tasks")
    assert walk.passed("request_emergency_change") == 20


def test_release_rejected_repeatedly(package):
    """The release is rejected 20 times (the implementation loop repeats): re-planning still works."""
    walk = approved_minor(Walk(package))
    for n in range(20):
        walk.do("schedule_tasks").do("implement_change", needs_release=True, release_scope="OS 8")
        walk.deliver("release_completed", source_key=KEY, release_key=f"R{n}", outcome="rejected")
    walk.do("schedule_tasks").do("implement_change")
    review_and_close(walk)
    assert walk.passed("schedule_tasks") == 21


# --------------------------------------------------------------------------------- 500 repetitions


class InProcessScripts:
    """Runs the process's scripts in this process, for the 500-round tests only.

    The sandbox starts a child interpreter per script (tens of ms); 500 CAB rounds would spend most of the
    test there. The scripts of change.bpmn only read and set task data. The rounds before and after the
    fast-forward still run through the Engine and its real sandbox.
    """

    def run(self, script: str, data: dict[str, Any], *, element_id: str) -> tuple[dict, list[PlatformCall]]:
        scope = copy.deepcopy(dict(data))
        builtins = {"len": len, "zip": zip, "str": str, "NameError": NameError}
        exec(compile(script, element_id, "exec"), {"__builtins__": builtins}, scope)  # noqa: S102
        return scope, []


@dataclass
class InMemory:
    """The instance of a snapshot, driven in memory; ``snapshot()`` writes it back for the Engine."""

    package: Any
    snapshot_text: str

    def __post_init__(self) -> None:
        self.workflow = snapshots.load(self.snapshot_text, self.package, specs_for(self.package))
        self.workflow.script_engine = SafeScriptEngine(InProcessScripts(), utc_now)

    def open(self) -> list[str]:
        return [t.task_spec.bpmn_id for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)]

    def do(self, element_id: str, **overrides: Any) -> None:
        """Complete the one open task ``element_id`` (fails if it is not the one open task)."""
        [task] = self.workflow.get_tasks(state=TaskState.READY, manual=True)
        assert task.task_spec.bpmn_id == element_id
        role, form_name = TASKS[element_id]
        actor = task.data.get("voter", ACTORS[role])
        task.data.update(form_data(form_name, actor, overrides))
        task.run()
        self.workflow.do_engine_steps()

    def deliver(self, name: str, **payload: Any) -> None:
        """Deliver a correlated reply to the one catch waiting for ``name``."""
        [task] = [
            t
            for t in self.workflow.get_tasks(state=TaskState.WAITING)
            if getattr(getattr(t.task_spec, "event_definition", None), "name", None) == name
        ]
        definition = task.task_spec.event_definition
        correlations = definition.calculate_correlations(
            self.workflow.script_engine, definition.correlation_properties, payload
        )
        self.workflow.send_event(BpmnEvent(definition, payload, correlations))
        self.workflow.do_engine_steps()

    def snapshot(self) -> str:
        return snapshots.dump(self.workflow)


def resume(walk: Walk, memory: InMemory) -> Walk:
    """Continue ``walk`` through the Engine from the in-memory instance's snapshot."""
    return walk._took(Engine().state(walk.package, memory.snapshot()))


ROUNDS = 500


def test_rfc_returned_500_times(package):
    """The requester completes the RFC 500 times (standard loop RFC完整性检查); then it is accepted."""
    walk = Walk(package).start()
    memory = InMemory(package, walk.result.snapshot)
    for _ in range(ROUNDS):
        memory.do("assess_change", rfc_check="returned", rfc_return_reason="请补充")
        memory.do("complete_rfc")
    resume(walk, memory)
    walk.do("assess_change").do("approve_change")
    walk.open_task("schedule_tasks")
    assert walk.passed("complete_rfc") == ROUNDS and walk.passed("assess_change") == ROUNDS + 1


def test_manager_rejects_500_times(package):
    """The change manager rejects 500 times (standard loop 变更评估与审批); then approves."""
    walk = Walk(package).start()
    memory = InMemory(package, walk.result.snapshot)
    for _ in range(ROUNDS):
        memory.do("assess_change")
        memory.do("approve_change", manager_decision="reject")
    assert memory.open() == ["assess_change"]
    resume(walk, memory)
    walk.do("assess_change").do("approve_change").do("schedule_tasks")
    walk.open_task("implement_change")
    assert walk.passed("approve_change") == ROUNDS + 1


def test_cab_rejects_500_times(package):
    """The CAB rejects and the change manager reworks 500 times (standard loop CAB审批循环); then approved."""
    walk = Walk(package).start().do("assess_change", impact="high")
    memory = InMemory(package, walk.result.snapshot)
    for _ in range(ROUNDS):
        memory.do("convene_cab", cab_members=["cab3"])
        memory.do("cab_approve", **rejected())
        memory.do("rework_change")
    assert memory.open() == ["convene_cab"]
    resume(walk, memory)
    walk.do("convene_cab", cab_members=["cab1", "cab2"]).vote("approve", "approve")
    assert walk.result.data["cab_result"] == "approved"
    walk.open_task("schedule_tasks")
    assert walk.passed("tally_cab_votes") == ROUNDS + 1 and walk.passed("rework_change") == ROUNDS


def test_handover_missing_500_times(package):
    """The handover is incomplete 500 times (standard loop 变更关闭（交接）); then the change closes."""
    walk = approved_minor(Walk(package))
    implement_to_end(walk)
    walk.do("review_change")
    memory = InMemory(package, walk.result.snapshot)
    for _ in range(ROUNDS):
        memory.do("close_change", handover_complete=False, handover_missing="文档", closure_notes=None)
    resume(walk, memory)
    walk.do("close_change").ended("end_closed")
    assert walk.passed("close_change") == ROUNDS + 1


def test_ecab_rejects_500_times(package):
    """The ECAB rejects 500 times (standard loop 变更评估与审批, a reply inside it); then the normal way."""
    walk = Walk(package).start()
    memory = InMemory(package, walk.result.snapshot)
    for n in range(ROUNDS):
        memory.do("assess_change", urgency="critical")
        memory.deliver("emergency_change_completed", source_key=KEY, change_key=f"E{n}", outcome="rejected")
    resume(walk, memory)
    assert [s.name for s in walk.result.subscriptions] == []
    walk.do("assess_change", urgency="critical")
    assert walk.result.subscriptions[0].correlation == {"source_key": KEY}
    walk.deliver("emergency_change_completed", source_key=KEY, change_key="E", outcome="implemented")
    walk.do("close_change").ended("end_closed")
    assert walk.passed("request_emergency_change") == ROUNDS + 1


def test_release_rejected_500_times(package):
    """The release is rejected 500 times (standard loop 实施与发布, a reply inside it); then released."""
    walk = approved_minor(Walk(package))
    memory = InMemory(package, walk.result.snapshot)
    for n in range(ROUNDS):
        memory.do("schedule_tasks")
        memory.do("implement_change", needs_release=True, release_scope="OS 8")
        memory.deliver("release_completed", source_key=KEY, release_key=f"R{n}", outcome="rejected")
    resume(walk, memory)
    walk.do("schedule_tasks").do("implement_change", needs_release=True, release_scope="OS 8")
    walk.deliver("release_completed", source_key=KEY, release_key="R", outcome="released")
    review_and_close(walk)
    assert walk.passed("schedule_tasks") == ROUNDS + 1
