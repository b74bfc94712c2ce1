"""Every path of processes/release.bpmn, walked task by task through engine/ (no Flask).

Each command takes the snapshot the previous one returned, and after every command a fresh Engine restores
that snapshot and must see the same instance. At every step the test checks which task is open, in which lane
and role, with which form; at the end, which end event was reached and which messages left the instance (name,
payload, correlation). Form data is built from forms/*.json and validated against their schemas.

The two ways in: the start task 发布计划 (the release manager plans a release by hand) and the message
release_requested from change management (the platform starts the instance with the payload as data and
delivers the message, as app/services/deliveries.py does). Replies (release_completed) go out only for the
second.
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
from lxml import etree
from SpiffWorkflow.util.task import TaskState

from engine import Engine, MessageNotAccepted, load_package
from engine import snapshot as snapshots
from tests.engine.conformance import lane_role

ROOT = Path(__file__).resolve().parents[2]
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
PROCESS = "release"
START_MESSAGE = "release_requested"
REPLY = "release_completed"

LANES = {
    "release_manager": "发布管理组长 (release_manager)",
    "release_operator": "发布操作员 (release_operator)",
}
#: element id -> (role, form) of every user task.
TASKS = {
    "plan_release": ("release_manager", "release_plan.json"),
    "test_release": ("release_operator", "release_test.json"),
    "revise_release": ("release_manager", "release_revise.json"),
    "approve_release": ("release_manager", "release_approve.json"),
    "implement_release": ("release_manager", "release_implement.json"),
    "execute_release": ("release_operator", "release_execute.json"),
    "review_release": ("release_manager", "release_review.json"),
    "close_release": ("release_manager", "release_close.json"),
}
ACTORS = {"release_manager": "rm_liu", "release_operator": "op_zhou"}
ENDS = ("end_rejected", "end_released")
BUSINESS_KEY = "REL-2026-000003"
CHANGE_KEY = "CHG-2026-000031"
NOW = "2026-03-02T09:30:00+00:00"
#: What change management sends (processes/change.bpmn, request_release).
FROM_CHANGE = {
    "source_key": CHANGE_KEY,
    "source_process": "change",
    "title": "环境监测平台 3.2 版发布",
    "description": "监测平台应用 3.2.0 和数据库脚本",
    "change_key": CHANGE_KEY,
}
TESTS_PASSED = {
    "rt_functional": "passed",
    "rt_non_functional": "passed",
    "rt_acceptance": "passed",
    "rt_integration": "passed",
    "rt_distribution": "not_applicable",
}

#: Valid data for each form; a step overrides only what steers the path (None removes a key).
BASE: dict[str, dict[str, Any]] = {
    "release_plan.json": {
        "title": "门户网站 2026 春季版发布",
        "description": "门户网站前端 5.1 和内容管理后台 2.4",
        "rp_release_date": "2026-03-20T14:00:00+00:00",
        "rp_release_type": "minor",
        "rp_items": "portal-web 5.1.0；cms 2.4.0",
        "rp_target_cis": ["APP-PORTAL-01"],
        "rp_closes": "CHG-2026-000012；PRB-2026-000004；KE-2026-000002",
        "rp_verification": "预发布环境验收，业务部门签字",
        "rp_dependencies_risks": "依赖 CDN 刷新；回退需 30 分钟",
        "rp_change_conditions": "验收不通过或窗口冲突时调整",
        "rp_exit_criteria": "生产验证通过，监控 24 小时无告警",
    },
    "release_test.json": {**TESTS_PASSED, "rt_report": "全部用例通过", "rt_result": "passed"},
    "release_revise.json": {"rv_changes": "增加数据迁移步骤", "rv_rebuild_notes": "修复迁移脚本后重新打包"},
    "release_approve.json": {"ra_rfc_checked": True, "ra_decision": "approve", "ra_comments": "同意发布"},
    "release_implement.json": {
        "ri_rollout_plan": "灰度 10% → 50% → 100%",
        "ri_tasks": "op_zhou：部署与验证",
        "ri_operator": "op_zhou",
        "ri_start": "2026-03-20T14:00:00+00:00",
        "ri_end": "2026-03-20T16:00:00+00:00",
        "ri_reapproval_needed": False,
    },
    "release_execute.json": {
        "rx_result": "success",
        "rx_notes": "按方案完成灰度发布",
        "rx_started_at": "2026-03-20T14:05:00+00:00",
        "rx_finished_at": "2026-03-20T15:40:00+00:00",
    },
    "release_review.json": {
        "rr_result": "successful",
        "rr_exit_criteria_met": True,
        "rr_findings": "发布顺利",
    },
    "release_close.json": {
        "rc_handover_complete": True,
        "rc_released_cis": ["APP-PORTAL-01"],
        "rc_released_versions": "APP-PORTAL-01 = 5.1.0",
        "rc_has_known_errors": False,
    },
}
#: The smallest valid data of the forms a repeated pass uses (keeps the 500-pass tests quick).
SHORT = {
    "release_test.json": {**TESTS_PASSED, "rt_functional": "failed", "rt_report": "f", "rt_result": "failed"},
    "release_revise.json": {"rv_changes": "c", "rv_rebuild_notes": "r"},
    "release_approve.json": {"ra_rfc_checked": True, "ra_decision": "approve", "ra_comments": "a"},
    "release_implement.json": {
        **BASE["release_implement.json"],
        "ri_rollout_plan": "p",
        "ri_tasks": "t",
        "ri_reapproval_needed": True,
        "ri_change_impact": "i",
    },
}


@cache
def form(name: str) -> dict[str, Any]:
    """A form file of forms/."""
    return json.loads((ROOT / "forms" / name).read_text(encoding="utf-8"))


def form_data(
    name: str, actor: str, overrides: dict[str, Any], base: dict[str, dict[str, Any]] = BASE
) -> dict:
    """What the platform passes for a submitted form: base data, overrides, auto fields; validated."""
    data = {k: v for k, v in {**base[name], **overrides}.items() if v is not None}
    autos = {"actor": actor, "now": NOW, "business_key": BUSINESS_KEY}
    for fld in form(name)["fields"]:
        if "auto" in fld:
            data[fld["name"]] = autos[fld["auto"]]
    errors = sorted(e.message for e in Draft202012Validator(form(name)["schema"]).iter_errors(data))
    assert not errors, f"test data for {name} is invalid: {errors}"
    return data


def invalid(name: str, data: dict[str, Any]) -> bool:
    """Whether the form's schema refuses ``data``."""
    return bool(list(Draft202012Validator(form(name)["schema"]).iter_errors(data)))


@pytest.fixture(scope="module")
def package():
    """The process, loaded and linted as the platform loads it (its own file, DMNs from processes/)."""
    forms = {p.name for p in (ROOT / "forms").glob("*.json")}
    return load_package(
        ROOT / "processes" / f"{PROCESS}.bpmn", ROOT / "processes", forms=forms, lane_role=lane_role
    )


@dataclass
class Walk:
    """One instance driven command by command, restoring every returned snapshot on a fresh Engine."""

    package: Any
    engine: Engine = field(default_factory=Engine)
    result: Any = None
    done: list[str] = field(default_factory=list)
    messages: list[Any] = field(default_factory=list)

    def _took(self, result: Any) -> None:
        self.result = result
        self.messages.extend(result.messages)
        self.check_snapshot()

    def check_snapshot(self) -> None:
        """A fresh Engine restoring the last snapshot sees the same instance."""
        restored = Engine().state(self.package, self.result.snapshot)
        assert restored.status == self.result.status
        assert [(t.task_id, t.element_id) for t in restored.open_tasks] == [
            (t.task_id, t.element_id) for t in self.result.open_tasks
        ]
        assert restored.completed_elements == self.result.completed_elements

    def start(self, **overrides: Any) -> Walk:
        """The release manager plans a release by hand: the plan form completes the start task."""
        data = form_data("release_plan.json", ACTORS["release_manager"], overrides)
        data.update(
            sys_business_key=BUSINESS_KEY, sys_started_by=ACTORS["release_manager"], sys_started_at=NOW
        )
        self._took(self.engine.start(self.package, data))
        self.done.append("plan_release")
        assert "plan_release" in self.result.completed_elements
        return self

    def start_by_message(self, payload: dict[str, Any]) -> Walk:
        """Change management asks: the platform starts on the message (payload as data), then delivers it."""
        data = dict(payload, sys_business_key=BUSINESS_KEY, sys_started_by="system", sys_started_at=NOW)
        first = self.engine.start(self.package, data, message=START_MESSAGE)
        assert first.open_tasks == []
        assert [(s.element_id, s.name) for s in first.subscriptions] == [
            ("release_request_received", START_MESSAGE)
        ]
        self._took(first)
        self._took(self.engine.deliver_message(self.package, first.snapshot, START_MESSAGE, payload))
        assert "release_request_received" in self.result.completed_elements
        return self

    def open_task(self, element_id: str) -> Any:
        """Assert ``element_id`` is the only open task, in its role's lane, with its form; return it."""
        assert self.result.status == "running"
        assert [t.element_id for t in self.result.open_tasks] == [element_id], (
            f"after {self.done} expected {element_id} open"
        )
        task = self.result.open_tasks[0]
        role, form_name = TASKS[element_id]
        assert (task.role, task.lane, task.form) == (role, LANES[role], form_name)
        return task

    def do(self, element_id: str, base: dict[str, dict[str, Any]] = BASE, **overrides: Any) -> Walk:
        """Complete the open task ``element_id`` with its form's data (plus overrides)."""
        task = self.open_task(element_id)
        data = form_data(task.form, ACTORS[task.role], overrides, base)
        self._took(self.engine.complete_task(self.package, self.result.snapshot, task.task_id, data))
        self.done.append(element_id)
        return self

    def ended(self, end_event: str) -> Walk:
        """Assert the instance completed at ``end_event`` and no task is left open."""
        assert self.result.status == "completed"
        assert self.result.open_tasks == [] and self.result.subscriptions == []
        assert [e for e in self.result.completed_elements if e in ENDS] == [end_event]
        facts = [(f.kind, f.element_id) for f in self.result.facts]
        assert ("event_reached", end_event) in facts and ("ended", PROCESS) in facts
        return self

    def passed(self, element_id: str) -> int:
        """How often ``element_id`` completed."""
        return self.result.completed_elements.count(element_id)


def replies(walk: Walk) -> list[tuple[str, dict, dict]]:
    """(name, correlation, payload) of every message the instance sent."""
    return [(m.name, m.correlation, m.payload) for m in walk.messages]


def reply(outcome: str) -> tuple[str, dict, dict]:
    """The release_completed message the change process waits for."""
    return (
        REPLY,
        {"source_key": CHANGE_KEY},
        {"source_key": CHANGE_KEY, "release_key": BUSINESS_KEY, "outcome": outcome},
    )


def approved(walk: Walk) -> Walk:
    """Tested, approved, rollout planned without re-approval."""
    return walk.do("test_release").do("approve_release").do("implement_release")


def carried_out(walk: Walk) -> Walk:
    """Executed by the operator, reviewed, closed: the instance ends released."""
    walk.do("execute_release").do("review_release").do("close_release")
    return walk.ended("end_released")


# ---------------------------------------------------------------- the package


def test_package_lanes_tasks_forms_and_start(package):
    """Start task and start message, both lanes' roles, each user task's role and form; no DMN needed."""
    assert (package.process_id, package.name) == (PROCESS, "发布管理")
    assert package.start_task == "plan_release"
    assert package.start_messages == (START_MESSAGE,)
    assert package.lanes == {name: role for role, name in LANES.items()}
    assert {k: (v.role, v.form) for k, v in package.user_tasks.items()} == TASKS
    assert set(package.files) == {"release.bpmn"}


def test_assignee_and_notices(package):
    """The rollout goes to the operator the release manager named; notices where someone must act."""
    props = package.element_properties
    assert props["execute_release"]["assignee"] == "ri_operator"
    assert props["execute_release"]["notifyTo"] == "release_manager"
    assert props["test_release"]["notifyTo"] == "release_manager"
    assert props["reapproval_requested"]["notifyTo"] == "change_manager"
    assert props["end_rejected"]["notifyTo"] == "requester,change_manager"
    assert props["end_released"]["notifyTo"] == "requester"
    assert not any("separateFrom" in p for p in props.values())


def test_conditions_and_payloads_read_only_form_fields():
    """Every name a condition, loop condition or message payload reads is set by a form, the platform (sys_)
    or the script 登记来源 (source_key, source_process), so no path can fail on an unknown name."""
    known = {"True", "False", "None", "sys_business_key", "sys_started_by", "sys_started_at"}
    known |= {"source_key", "source_process"}
    for _role, name in TASKS.values():
        known |= set(form(name)["schema"]["properties"])
    root = etree.parse(str(ROOT / "processes" / f"{PROCESS}.bpmn")).getroot()
    texts = root.xpath(
        "//bpmn:conditionExpression/text() | //bpmn:loopCondition/text()"
        " | //spiffworkflow:messagePayload/text()",
        namespaces=NS,
    )
    assert len(texts) >= 6
    for text in texts:
        names = set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", re.sub(r'"[^"]*"', "", text)))
        assert names - {"and", "or", "not", "in", "is"} <= known, text


# ---------------------------------------------------------------- planned by hand (no replies)


def test_by_hand_planned_tested_approved_released(package):
    """The happy path of a release planned by hand: no message goes anywhere."""
    walk = Walk(package).start()
    task = walk.open_task("test_release")
    assert task.data["rp_verification"] == "预发布环境验收，业务部门签字"
    assert (task.data["source_key"], task.data["source_process"]) == ("", "")
    walk.do("test_release")
    assert walk.open_task("approve_release").data["rt_report"] == "全部用例通过"
    walk.do("approve_release")
    assert walk.open_task("implement_release").data["ra_comments"] == "同意发布"
    walk.do("implement_release")
    task = walk.open_task("execute_release")
    assert (task.data["ri_operator"], task.data["ri_rollout_plan"]) == ("op_zhou", "灰度 10% → 50% → 100%")
    carried_out(walk)
    assert walk.messages == []
    for element in ("revise_release", "reapproval_requested", "reply_released", "reply_rejected"):
        assert element not in walk.result.completed_elements
    assert walk.result.data["rc_released_versions"] == "APP-PORTAL-01 = 5.1.0"


def test_by_hand_rejected(package):
    """An infeasible release planned by hand ends rejected; the rollout is never planned; no message."""
    walk = Walk(package).start().do("test_release")
    walk.do("approve_release", ra_decision="reject", ra_rfc_checked=False, ra_comments="窗口与年检冲突")
    walk.ended("end_rejected")
    assert walk.messages == []
    assert "implement_release" not in walk.result.completed_elements


def test_close_records_versions_and_known_errors(package):
    """Released versions for the CMDB and known errors for the KEDB stay in the instance's data."""
    walk = approved(Walk(package).start()).do("execute_release", rx_result="partial").do("review_release")
    walk.do(
        "close_release",
        rc_has_known_errors=True,
        rc_known_errors="旧浏览器样式错位；临时方案：使用新版浏览器",
    )
    walk.ended("end_released")
    assert walk.result.data["rc_known_errors"].startswith("旧浏览器样式错位")
    assert walk.result.data["rc_released_cis"] == ["APP-PORTAL-01"]


# ---------------------------------------------------------------- asked for by change management (replies)


def test_from_change_released_tells_the_change(package):
    """Started by a change: the plan opens with the request; release_completed (released) at close."""
    walk = Walk(package).start_by_message(FROM_CHANGE)
    task = walk.open_task("plan_release")
    for key in ("title", "description", "change_key"):
        assert task.data[key] == FROM_CHANGE[key]
    assert task.data["sys_started_by"] == "system"
    walk.do(
        "plan_release",
        title=FROM_CHANGE["title"],
        description=FROM_CHANGE["description"],
        change_key=CHANGE_KEY,
    )
    approved(walk).do("execute_release").do("review_release")
    assert walk.messages == []
    walk.do("close_release")
    assert replies(walk) == [reply("released")]
    walk.ended("end_released")


def test_from_change_rejected_goes_back_to_the_change(package):
    """Started by a change; the release is infeasible: release_completed (rejected) to the change."""
    walk = Walk(package).start_by_message(FROM_CHANGE).do("plan_release").do("test_release")
    walk.do("approve_release", ra_decision="reject", ra_rfc_checked=False, ra_comments="方案不可行")
    assert replies(walk) == [reply("rejected")]
    assert "reply_rejected" in walk.result.completed_elements
    walk.ended("end_rejected")


def test_a_request_without_source_key_is_refused(package):
    """The message start reads its correlation (source_key) from the payload; a request without it is
    refused (the platform keeps it undeliverable for an admin) instead of starting a record nobody answers."""
    payload = {k: v for k, v in FROM_CHANGE.items() if k != "source_key"}
    first = Engine().start(package, dict(payload, sys_business_key=BUSINESS_KEY), message=START_MESSAGE)
    with pytest.raises(MessageNotAccepted, match="source_key"):
        Engine().deliver_message(package, first.snapshot, START_MESSAGE, payload)


# ---------------------------------------------------------------- test, revise, rebuild


def test_failed_test_goes_back_to_planning_and_rebuild(package):
    """A failed test: the release manager revises the plan and rebuilds; the operator tests again."""
    walk = Walk(package).start()
    walk.do("test_release", rt_integration="failed", rt_result="failed", rt_report="接口超时")
    task = walk.open_task("revise_release")
    assert (task.data["rt_report"], task.data["rt_integration"]) == ("接口超时", "failed")
    walk.do("revise_release", rv_release_date="2026-03-27T14:00:00+00:00")
    task = walk.open_task("test_release")
    assert task.data["rv_changes"] == "增加数据迁移步骤"
    approved(walk)
    carried_out(walk)
    assert walk.passed("test_release") == 2 and walk.passed("revise_release") == 1


def test_verdict_must_match_the_tests():
    """A "passed" verdict is refused while a test failed; "failed" needs no particular test result."""
    failing = {**BASE["release_test.json"], "rt_acceptance": "failed"}
    assert invalid("release_test.json", failing)
    assert not invalid("release_test.json", {**failing, "rt_result": "failed"})


# ---------------------------------------------------------------- approve, implement, re-approve


def test_changed_tasks_or_timing_go_back_to_approval(package):
    """Assigning the tasks moves the timing and affects the change plan: approval again, then the rollout."""
    walk = Walk(package).start().do("test_release").do("approve_release")
    walk.do(
        "implement_release", ri_reapproval_needed=True, ri_change_impact="实施窗口推迟一周，变更计划需调整"
    )
    assert "reapproval_requested" in walk.result.completed_elements
    task = walk.open_task("approve_release")
    assert task.data["ri_change_impact"] == "实施窗口推迟一周，变更计划需调整"
    walk.do("approve_release", ra_comments="同意调整后的窗口").do("implement_release")
    carried_out(walk)
    assert walk.passed("approve_release") == 2 and walk.passed("implement_release") == 2


def test_reapproval_refused_goes_back_to_the_change(package):
    """Started by a change; the re-approval finds the adjusted plan infeasible: back to the change."""
    walk = (
        Walk(package)
        .start_by_message(FROM_CHANGE)
        .do("plan_release")
        .do("test_release")
        .do("approve_release")
    )
    walk.do("implement_release", ri_reapproval_needed=True, ri_change_impact="需要额外停机")
    assert walk.messages == []
    walk.do("approve_release", ra_decision="reject", ra_rfc_checked=False, ra_comments="停机不可接受")
    assert replies(walk) == [reply("rejected")]
    walk.ended("end_rejected")
    assert walk.passed("approve_release") == 2 and walk.passed("implement_release") == 1
    assert "execute_release" not in walk.result.completed_elements


def test_approving_needs_the_rfc_checked():
    """The approval form refuses "approve" unless the RFC was checked; "reject" does not need it."""
    data = {"ra_rfc_checked": False, "ra_decision": "approve", "ra_comments": "x"}
    assert invalid("release_approve.json", data)
    assert not invalid("release_approve.json", {**data, "ra_decision": "reject"})


def test_reapproval_needs_the_effect_on_the_change_plan():
    """Asking for re-approval without saying how the change plan is affected is refused."""
    data = {**BASE["release_implement.json"], "ri_reapproval_needed": True}
    assert invalid("release_implement.json", data)


# ---------------------------------------------------------------- loops, many times


def retest(walk: Walk, passes: int) -> Walk:
    """``passes`` failed tests, each followed by a revision, through the public API."""
    for _ in range(passes):
        walk.do("test_release", SHORT).do("revise_release", SHORT)
    return walk


def reapprove(walk: Walk, passes: int) -> Walk:
    """``passes`` approvals whose rollout plan asks for re-approval, through the public API."""
    for _ in range(passes):
        walk.do("approve_release", SHORT).do("implement_release", SHORT)
    return walk


def run_in_memory(package: Any, snapshot: str, rounds: int, steps: list[tuple[str, dict]]) -> str:
    """Drive ``rounds`` passes of a loop inside one restored workflow; return the snapshot after them.

    Through the public API every command restores and stores the whole snapshot, and a standard loop keeps
    each pass's subprocess in it, so 500 passes cost O(n^2): minutes on the 2-core box. Here the engine's own
    restore runs once and each step is SpiffWorkflow's ``task.run`` + ``do_engine_steps`` (what
    ``Engine.complete_task`` does; the loop bodies have no plain or script tasks), looking for the open task
    in the current pass only. One snapshot at the end goes back to the public API.
    """
    workflow, _, _ = Engine()._restore(package, snapshot)
    for index in range(rounds):
        for element_id, data in steps:
            current = next(reversed(workflow.subprocesses.values()))
            [task] = current.get_tasks(state=TaskState.READY, manual=True)
            assert task.task_spec.bpmn_id == element_id, (index, task.task_spec.bpmn_id)
            task.data.update(copy.deepcopy(data))
            task.run()
            workflow.do_engine_steps()
            assert not workflow.get_events()
    return snapshots.dump(workflow)


def short_steps(*elements: str) -> list[tuple[str, dict]]:
    """(element, form data) of a repeated pass, from the smallest valid data."""
    return [(e, form_data(TASKS[e][1], ACTORS[TASKS[e][0]], {}, SHORT)) for e in elements]


def test_test_loop_repeats(package):
    """Five failed tests in a row, then a pass: the release goes on to approval."""
    walk = retest(Walk(package).start_by_message(FROM_CHANGE).do("plan_release"), 5)
    approved(walk)
    carried_out(walk)
    assert walk.passed("revise_release") == 5 and walk.passed("release_test_start") == 6
    assert replies(walk) == [reply("released")]


def test_approval_loop_repeats(package):
    """Five re-approvals in a row, then a rollout plan that needs none."""
    walk = reapprove(Walk(package).start().do("test_release"), 5)
    walk.do("approve_release").do("implement_release")
    carried_out(walk)
    assert walk.passed("reapproval_requested") == 5 and walk.passed("approval_start") == 6


@pytest.mark.slow
def test_test_loop_survives_500_passes(package):
    """The test-and-rework loop is a standard-loop subprocess: 500 failed tests do not stall it.

    Pass 1 and the end go through the public API, passes 2-500 in memory (see ``run_in_memory``).
    """
    walk = retest(Walk(package).start(), 1)
    steps = short_steps("test_release", "revise_release")
    walk._took(Engine().state(package, run_in_memory(package, walk.result.snapshot, 499, steps)))
    approved(walk)
    carried_out(walk)
    assert walk.passed("revise_release") == 500 and walk.passed("test_release") == 501
    assert walk.messages == []


@pytest.mark.slow
def test_approval_loop_survives_500_passes(package):
    """The approval loop is a standard-loop subprocess: 500 re-approvals do not stall it.

    Pass 1 and the end go through the public API, passes 2-500 in memory (see ``run_in_memory``).
    """
    walk = reapprove(Walk(package).start().do("test_release"), 1)
    steps = short_steps("approve_release", "implement_release")
    walk._took(Engine().state(package, run_in_memory(package, walk.result.snapshot, 499, steps)))
    walk.do("approve_release").do("implement_release")
    carried_out(walk)
    assert walk.passed("reapproval_requested") == 500 and walk.passed("approve_release") == 501
    assert walk.messages == []
