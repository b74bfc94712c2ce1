"""The walker for change_emergency.bpmn's path tests: constants, form data from forms/*.json, ``Walk``, and
the rebuild loop's drivers (through the public API, and in memory for the 500-pass test).

test_change_emergency_paths.py holds the ways in and their replies, test_change_emergency_build.py the build,
test, back-out loop.
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
PROCESS = "change_emergency"
START_MESSAGE = "emergency_change_requested"
REPLY = "emergency_change_completed"

LANES = {
    "change_analyst": "变更分析员 (change_analyst)",
    "ecab": "紧急变更咨询委员会 (ecab)",
    "change_manager": "变更管理组长 (change_manager)",
    "change_implementer": "变更实施人员 (change_implementer)",
    "cab": "变更咨询委员会 (cab)",
}
#: element id -> (role, form) of every user task.
TASKS = {
    "request_emergency_change": ("change_analyst", "change_emergency_request.json"),
    "authorise_emergency_change": ("ecab", "change_emergency_authorise.json"),
    "plan_emergency_change": ("change_manager", "change_emergency_plan.json"),
    "build_emergency_change": ("change_implementer", "change_emergency_build.json"),
    "test_emergency_change": ("change_implementer", "change_emergency_test.json"),
    "back_out_emergency_change": ("change_implementer", "change_emergency_back_out.json"),
    "implement_emergency_change": ("change_implementer", "change_emergency_implement.json"),
    "review_emergency_change": ("cab", "change_emergency_review.json"),
    "close_emergency_change": ("change_manager", "change_emergency_close.json"),
}
ACTORS = {
    "change_analyst": "ana",
    "ecab": "ecab_li",
    "change_manager": "cm_wang",
    "change_implementer": "impl_zhao",
    "cab": "cab_chen",
}
ENDS = ("end_rejected", "end_implemented")
BUSINESS_KEY = "ECH-2026-000007"
CHANGE_KEY = "CHG-2026-000031"
NOW = "2026-03-02T09:30:00+00:00"
#: What change assessment sends (processes/change.bpmn, request_emergency_change).
FROM_CHANGE = {
    "source_key": CHANGE_KEY,
    "source_process": "change",
    "title": "核心数据库主库切换",
    "description": "主库磁盘故障，切换到备库并重建复制",
    "affected_cis": ["DB-CORE-01"],
}

#: Valid data for each form; a step overrides only what steers the path (None removes a key).
BASE: dict[str, dict[str, Any]] = {
    "change_emergency_request.json": {
        "title": "防火墙策略紧急调整",
        "description": "封禁正在攻击门户网站的源地址段",
        "ec_reason": "门户网站遭受攻击，服务已中断",
        "affected_cis": ["FW-EDGE-01"],
        "ec_origin": "incident",
        "ec_related_record": "INC-2026-000123",
        "ec_needed_by": "2026-03-02T10:30:00+00:00",
    },
    "change_emergency_authorise.json": {
        "ecab_decision": "approve",
        "ecab_comments": "同意立即实施",
        "ecab_participants": "ecab_li, ecab_sun（电话）",
        "ecab_impact": "high",
        "ecab_urgency": "high",
        "ecab_risk": "medium",
        "ecab_change_type": "security",
        "ecab_resources": "网络工程师 2 名，维护窗口 09:45-10:30",
    },
    "change_emergency_plan.json": {
        "ecp_implementation_plan": "1. 备份策略 2. 下发封禁规则 3. 观察流量",
        "ecp_test_plan": "在备用防火墙上验证规则",
        "ecp_back_out_plan": "恢复备份的策略",
        "ecp_remediation_plan": "切换到备用防火墙",
        "ecp_planned_start": "2026-03-02T09:45:00+00:00",
        "ecp_planned_end": "2026-03-02T10:30:00+00:00",
        "ec_implementer": "impl_zhao",
    },
    "change_emergency_build.json": {"ecb_build_notes": "规则已编写", "ec_test_decision": "test"},
    "change_emergency_test.json": {"ec_test_result": "passed", "ect_findings": "规则生效，业务正常"},
    "change_emergency_back_out.json": {"ecbo_state": "restored", "ecbo_notes": "已恢复原策略"},
    "change_emergency_implement.json": {
        "eci_result": "success",
        "eci_notes": "规则已在生产防火墙生效",
        "eci_started_at": "2026-03-02T09:50:00+00:00",
        "eci_finished_at": "2026-03-02T10:05:00+00:00",
        "eci_cis_changed": False,
    },
    "change_emergency_review.json": {
        "ecr_result": "successful",
        "ecr_root_cause": "门户网站遭受攻击",
        "ecr_purpose": "阻断攻击，恢复服务",
        "ecr_recommendations": "部署 WAF",
        "ecr_follow_up_change": True,
    },
    "change_emergency_close.json": {
        "ecc_summary": "紧急变更成功，攻击已阻断",
        "ecc_documents_filed": True,
        "ecc_record_updated": True,
    },
}
#: The smallest valid data of the forms a rebuild pass uses (keeps the 500-pass test quick).
SHORT = {
    "change_emergency_build.json": {"ecb_build_notes": "b", "ec_test_decision": "test"},
    "change_emergency_test.json": {"ec_test_result": "failed", "ect_findings": "f"},
    "change_emergency_back_out.json": {"ecbo_state": "restored", "ecbo_notes": "r"},
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


def load_change_emergency():
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
        """A change analyst raises the request by hand: the start form completes the start task."""
        data = form_data("change_emergency_request.json", ACTORS["change_analyst"], overrides)
        data.update(
            sys_business_key=BUSINESS_KEY, sys_started_by=ACTORS["change_analyst"], sys_started_at=NOW
        )
        self._took(self.engine.start(self.package, data))
        self.done.append("request_emergency_change")
        assert "request_emergency_change" in self.result.completed_elements
        return self

    def start_by_message(self, payload: dict[str, Any]) -> Walk:
        """Another process asks: the platform starts on the message (payload as data), then delivers it."""
        data = dict(payload, sys_business_key=BUSINESS_KEY, sys_started_by="system", sys_started_at=NOW)
        first = self.engine.start(self.package, data, message=START_MESSAGE)
        assert first.open_tasks == []
        assert [(s.element_id, s.name) for s in first.subscriptions] == [("request_received", START_MESSAGE)]
        self._took(first)
        self._took(self.engine.deliver_message(self.package, first.snapshot, START_MESSAGE, payload))
        assert "request_received" in self.result.completed_elements
        assert "request_emergency_change" not in self.result.completed_elements
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
    """The emergency_change_completed message the change process waits for."""
    return (
        REPLY,
        {"source_key": CHANGE_KEY},
        {"source_key": CHANGE_KEY, "change_key": BUSINESS_KEY, "outcome": outcome},
    )


def build_and_pass(walk: Walk) -> Walk:
    """Build, test (time allows), the test passes."""
    return walk.do("build_emergency_change").do("test_emergency_change")


def review_and_close(walk: Walk) -> Walk:
    """Implement, CAB review, close: the instance ends implemented."""
    walk.do("implement_emergency_change").do("review_emergency_change").do("close_emergency_change")
    return walk.ended("end_implemented")


# ---------------------------------------------------------------- the rebuild loop


def rebuild(walk: Walk, passes: int) -> Walk:
    """``passes`` rounds of build, failed test and back-out through the public API."""
    for _ in range(passes):
        walk.do("build_emergency_change", SHORT)
        walk.do("test_emergency_change", SHORT)
        walk.do("back_out_emergency_change", SHORT)
    return walk


def run_in_memory(package: Any, snapshot: str, rounds: int, steps: list[tuple[str, dict]]) -> str:
    """Drive ``rounds`` passes of the loop inside one restored workflow; return the snapshot after them.

    Through the public API every command restores and stores the whole snapshot, and a standard loop keeps
    each pass's subprocess in it (~10 KB a pass here), so 500 passes cost O(n^2): about 5 CPU minutes on the
    2-core box. Here the engine's own restore runs once and each step is SpiffWorkflow's ``task.run`` +
    ``do_engine_steps`` (what ``Engine.complete_task`` does; the loop body has no plain or script tasks),
    looking for the open task in the current pass only. One snapshot at the end goes back to the public API.
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
