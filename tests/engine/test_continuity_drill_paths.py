"""Every path of processes/continuity_drill.bpmn, walked task by task through engine/ (no Flask).

Each command takes the snapshot the previous one returned, and after every command a fresh Engine restores
that snapshot and must see the same instance (open tasks, status, history). Each step checks which task is
open, in which lane and role, with which form. Form data is built from forms/continuity_drill_*.json and
validated against their schemas. Covered: the yearly timer start (the schedule in ProcessPackage.start_timer)
and a start by hand; both outcomes of the drill gateway (objectives met / not met -> improvement plan and
re-drill) and of the plan-change gateway (RFC change_requested with payload and correlation, or none); the
re-drill loop a few times through the public API and 500 times in memory (marked slow).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from SpiffWorkflow.util.task import TaskState

from engine import Engine
from engine import snapshot as snapshots
from engine.engine import _run
from tests.engine.walk import ProcessWalk, form, load_process

SCHEDULE = "R/2027-03-01T09:00:00+08:00/P1Y"
BUSINESS_KEY = "BCM-2027-000001"
NOW = "2027-03-01T01:00:00+00:00"
LANES = {
    "continuity_operator": "服务连续性操作员 (continuity_operator)",
    "continuity_manager": "服务连续性管理组长 (continuity_manager)",
}
#: element id -> (role, form) of every user task.
TASKS = {
    "analyse_requirements": ("continuity_operator", "continuity_drill_analysis.json"),
    "draft_contingency_plan": ("continuity_manager", "continuity_drill_plan.json"),
    "run_drill": ("continuity_manager", "continuity_drill_run.json"),
    "plan_improvement": ("continuity_manager", "continuity_drill_improve.json"),
    "maintain_plan": ("continuity_operator", "continuity_drill_maintain.json"),
}
ACTORS = {"continuity_operator": "bco1", "continuity_manager": "bcm1"}

#: Valid data for each form; a step overrides only what steers the path (None removes a key).
BASE: dict[str, dict[str, Any]] = {
    "continuity_drill_analysis.json": {
        "bia_critical_services": "污染源在线监控、环境质量发布",
        "bia_impact": "在线监控中断超过 4 小时影响执法取证",
        "bia_service_cis": ["SRV-DB-01", "APP-PORTAL-01"],
        "risk_threats": "机房断电、勒索软件",
        "risk_vulnerabilities": "单一数据中心",
        "risk_measures": "异地备份、双路供电",
    },
    "continuity_drill_plan.json": {
        "plan_title": "在线监控系统应急预案",
        "plan_version": "2027.1",
        "plan_trigger_conditions": "核心服务中断超过 30 分钟",
        "plan_rto_hours": 4,
        "plan_rpo_hours": 1,
        "plan_response_procedure": "启动备用环境、恢复数据、切换域名",
        "plan_co_author": "bco1",
    },
    "continuity_drill_run.json": {
        "drill_date": "2027-03-15T09:00:00+08:00",
        "drill_scenario": "主数据库服务器故障",
        "drill_participants": "运维组、数据库管理员",
        "drill_record": "09:00 宣布启动预案，12:10 服务恢复",
        "drill_rto_achieved_hours": 3.2,
        "drill_rpo_achieved_hours": 0.5,
        "drill_review_report": "恢复时间和数据丢失均在目标以内",
        "drill_outcome": "met",
    },
    "continuity_drill_improve.json": {
        "improve_actions": "备份恢复脚本自动化",
        "improve_plan_changes": "增加数据库恢复校验步骤",
        "improve_owner": "bco1",
        "improve_due": "2027-04-15",
        "improve_redrill_at": "2027-04-20",
    },
    "continuity_drill_maintain.json": {
        "maintain_review_date": "2027-05-01",
        "maintain_result": "unchanged",
        "maintain_plan_version": "2027.1",
        "maintain_next_review": "2028-03-01",
        "maintain_needs_change": False,
    },
}
NOT_MET = {
    "drill_outcome": "not_met",
    "drill_rto_achieved_hours": 7.5,
    "drill_issues": "备份恢复超时，RTO 未达到",
}
PLAN_CHANGE = {
    "maintain_result": "updated",
    "maintain_changes": "增加数据库恢复校验步骤",
    "maintain_plan_version": "2027.2",
    "maintain_needs_change": True,
    "maintain_change_description": "更新在线监控系统应急预案至 2027.2",
    "maintain_affected_cis": ["DOC-BCP-01"],
}


@pytest.fixture(scope="module")
def package():
    """continuity_drill.bpmn, loaded and linted like the platform loads it."""
    return load_process("continuity_drill")


class Walk(ProcessWalk):
    """ProcessWalk for continuity_drill.bpmn: started by the yearly schedule or by hand, no start form."""

    PROCESS_ID = "continuity_drill"
    TASKS = TASKS
    LANES = LANES
    ACTORS = ACTORS
    BASE = BASE
    ENDS = ("end_maintained",)
    BUSINESS_KEY = BUSINESS_KEY
    NOW = NOW
    ENDED_EMPTY = ("subscriptions", "timers")

    def start(self, by: str = "system") -> Walk:  # type: ignore[override]
        """Started by the platform's scheduler (``system``) or by hand (a process owner): no start form."""
        return self.scheduled(by)

    count = ProcessWalk.passed


form_data = Walk.form_data


def to_drill(walk: Walk) -> Walk:
    """Start, analyse, draw up the plan: the drill is open."""
    return walk.start().do("analyse_requirements").do("draft_contingency_plan")


# ---------------------------------------------------------------- the package


def test_package_schedule_lanes_and_tasks(package):
    """Yearly timer start (the platform's schedule), no message start, no start form; lanes, tasks, forms."""
    assert (package.process_id, package.name) == ("continuity_drill", "服务连续性演练")
    assert package.start_timer == SCHEDULE
    assert package.start_messages == ()
    assert package.start_task is None
    assert package.lanes == {name: role for role, name in LANES.items()}
    assert {k: (v.role, v.form) for k, v in package.user_tasks.items()} == TASKS
    assert set(package.files) == {"continuity_drill.bpmn"}


def test_notices(package):
    """Operators hear of a missed drill, the improvement owner of the plan, the manager of the year's end."""
    props = package.element_properties
    assert props["drill_not_met"]["notifyTo"] == "continuity_operator"
    assert props["plan_improvement"]["notifyTo"] == "user:improve_owner"
    assert props["end_maintained"]["notifyTo"] == "continuity_manager"


# ---------------------------------------------------------------- paths


@pytest.mark.parametrize("starter", ["system", "owner1"], ids=["scheduled", "by_hand"])
def test_drill_meets_its_objectives_and_the_plan_stays(package, starter):
    """Scheduled or by hand: analysis, plan, drill met, yearly review without an RFC, the end."""
    walk = Walk(package).start(by=starter)
    task = walk.open_task("analyse_requirements")
    assert task.data["sys_started_by"] == starter
    assert walk.result.timers == [] and walk.result.subscriptions == []
    walk.do("analyse_requirements").do("draft_contingency_plan")
    assert walk.open_task("run_drill").data["plan_rto_hours"] == 4
    walk.do("run_drill").do("maintain_plan").ended()
    assert walk.result.messages == []
    for element in ("drill_not_met", "plan_improvement", "request_plan_change"):
        assert walk.count(element) == 0
    assert walk.result.completed_elements[0] == "start_yearly"


def test_missed_objectives_lead_to_an_improvement_plan_and_a_re_drill(package):
    """Not met twice (operators told, improvement planned each time), then met: three drills."""
    walk = to_drill(Walk(package))
    for miss in (1, 2):
        walk.do("run_drill", **NOT_MET)
        task = walk.open_task("plan_improvement")
        assert task.data["drill_issues"] == NOT_MET["drill_issues"]
        assert walk.count("drill_not_met") == miss
        walk.do("plan_improvement")
        assert walk.open_task("run_drill").data["improve_actions"] == "备份恢复脚本自动化"
    walk.do("run_drill").do("maintain_plan").ended()
    assert (walk.count("run_drill"), walk.count("plan_improvement")) == (3, 2)


def test_plan_update_under_change_control_raises_an_rfc(package):
    """The yearly review updates the plan under change control: change_requested goes out, nothing waits."""
    walk = to_drill(Walk(package)).do("run_drill").do("maintain_plan", **PLAN_CHANGE)
    [message] = walk.result.messages
    assert message.name == "change_requested"
    assert message.correlation == {"source_key": BUSINESS_KEY}
    assert message.payload == {
        "title": "服务连续性应急预案更新：在线监控系统应急预案",
        "description": PLAN_CHANGE["maintain_change_description"],
        "reason": "应急预案年度评审和演练后的更新，由变更管理控制",
        "affected_cis": ["DOC-BCP-01"],
        "source_key": BUSINESS_KEY,
        "source_process": "continuity_drill",
    }
    walk.ended()
    assert walk.count("request_plan_change") == 1


def test_drill_form_needs_the_issues_when_objectives_are_missed():
    """Objectives not met: the problems found are required (they feed the improvement plan)."""
    schema = Draft202012Validator(form("continuity_drill_run.json")["schema"])
    data = form_data("continuity_drill_run.json", "bcm1", {})
    assert not list(schema.iter_errors(data))
    assert [e.validator for e in schema.iter_errors({**data, "drill_outcome": "not_met"})] == ["required"]


@pytest.mark.slow
def test_re_drill_loop_survives_500_passes(package):
    """500 missed drills in a row: the standard loop still offers the drill, then it is met and the year ends.

    The passes run in memory on the restored workflow (engine internals): through the public API each command
    re-reads the whole snapshot, which grows with every pass; the snapshot is then restored by a fresh Engine
    and the instance is finished through the public API.
    """
    walk = to_drill(Walk(package))
    missed = form_data("continuity_drill_run.json", "bcm1", NOT_MET)
    improve = form_data("continuity_drill_improve.json", "bcm1", {})
    workflow, _, _ = Engine()._restore(package, walk.result.snapshot)
    for _ in range(500):
        for element, data in (("run_drill", missed), ("plan_improvement", improve)):
            [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
            assert task.task_spec.bpmn_id == element
            task.data.update(copy.deepcopy(data))
            task.run()
            _run(workflow)
    walk._took(Engine().state(package, snapshots.dump(workflow)))
    assert walk.count("run_drill") == 500 and walk.count("drill_not_met") == 500
    walk.do("run_drill").do("maintain_plan").ended()
