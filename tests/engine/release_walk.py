"""The walker for release.bpmn's path tests: constants, form data from forms/*.json, ``Walk``, and the
loop drivers (through the public API, and in memory for the 500-pass tests).

test_release_paths.py holds the paths, test_release_loops.py the repeated loops.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from SpiffWorkflow.util.task import TaskState

from engine import Engine, load_package
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


def load_release():
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
