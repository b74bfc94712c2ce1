"""Every path of processes/isms_review.bpmn, walked task by task through engine/ (no Flask).

Each command takes the snapshot the previous one returned, and after every command a fresh Engine restores it
and must see the same instance. Form data comes from forms/isms_review_*.json and is validated against their
schemas. Covered: the yearly schedule (start_timer), both outcomes of every gateway (improvement needed, RFC
needed, improvements verified), the change_requested message (name, payload, correlation), the notices on the
end events, and 500 passes of the improvement loop.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from lxml import etree
from SpiffWorkflow.util.task import TaskState

from engine import Engine
from engine import snapshot as snapshots
from tests.engine.walk import NS, ProcessWalk, form, load_process
from tests.engine.walk import PROCESSES_DIR as PROCESSES

KEY = "ISM-2027-000001"
NOW = "2027-01-15T01:00:00+00:00"
SCHEDULE = "R/2027-01-15T09:00:00+08:00/P1Y"
LANES = {
    "security_manager": "信息安全管理组长 (security_manager)",
    "security_operator": "信息安全管理操作员 (security_operator)",
}
#: element id -> (role, form) of every user task.
TASKS = {
    "establish_isms": ("security_manager", "isms_review_establish.json"),
    "assess_risks": ("security_operator", "isms_review_assess.json"),
    "operate_isms": ("security_operator", "isms_review_operate.json"),
    "review_isms": ("security_manager", "isms_review_review.json"),
    "revise_risk_plan": ("security_operator", "isms_review_revise.json"),
    "implement_improvements": ("security_manager", "isms_review_improve.json"),
    "verify_improvements": ("security_manager", "isms_review_verify.json"),
}
ACTORS = {"security_manager": "sec_lead", "security_operator": "sec_op"}
ENDS = ("end_improved", "end_no_improvement")
RFC = {
    "isms_needs_change": True,
    "rfc_title": "为门户启用双因素认证",
    "rfc_description": "在统一身份认证中为门户启用短信双因素认证",
    "rfc_reason": "年度评审：口令类违规事件增加",
    "rfc_affected_cis": ["APP-PORTAL"],
}
#: Valid data for each form; a step overrides only what steers the path.
BASE: dict[str, dict[str, Any]] = {
    "isms_review_establish.json": {
        "isms_scope_characteristics": "省环境信息中心：业务系统、机房、运维组织",
        "manual_status": "confirmed",
        "manual_version": "V3.0",
        "security_policy": "保密、完整、可用",
        "risk_method": "基于资产、威胁、脆弱性的定性评估",
        "duties": "组长负责体系，操作员负责运行",
    },
    "isms_review_assess.json": {
        "risk_level_method": "可能性 × 影响，高中低三级",
        "risk_acceptance_criteria": "低风险可接受，中高风险必须处置",
        "identified_risks": "口令猜测；未打补丁的中间件",
        "treatment_plan": "启用账户锁定；按月打补丁",
        "residual_risk_level": "medium",
    },
    "isms_review_operate.json": {
        "report_period_start": "2026-01-01",
        "report_period_end": "2026-12-31",
        "controls_implemented": "账户锁定已上线；补丁按月执行",
        "security_incident_summary": "口令猜测 3 起，恶意代码 1 起，均已处置",
        "all_incidents_investigated": True,
    },
    "isms_review_review.json": {
        "review_date": "2027-01-20",
        "review_participants": "信息中心、业务处室",
        "process_errors": "补丁窗口两次延误",
        "security_breaches": "口令猜测 3 起（均失败）",
        "activities_as_expected": "partly",
        "residual_risk_trend": "stable",
        "review_conclusion": "体系有效，口令策略需加强",
        "improvement_needed": True,
        "improvement_scope": "身份认证",
    },
    "isms_review_revise.json": {
        "revised_plan_version": "2027-R1",
        "revised_risks": "口令类风险上升",
        "revised_treatment_plan": "双因素认证",
        "revised_residual_risk_level": "low",
        "revision_summary": "新增身份认证措施",
    },
    "isms_review_improve.json": {
        "improvement_actions": "制定双因素认证方案",
        "improvement_due": "2027-03-31",
        "isms_needs_change": False,
    },
    "isms_review_verify.json": {"verification_notes": "已上线并抽查", "improvement_verified": True},
}


def load():
    """isms_review.bpmn, loaded and linted like the platform loads it (its DMN folder: processes/)."""
    return load_process("isms_review")


@pytest.fixture(scope="module")
def package():
    """The process, loaded once for the module."""
    return load()


class Walk(ProcessWalk):
    """ProcessWalk for isms_review.bpmn: started by the yearly schedule only."""

    PROCESS_ID = "isms_review"
    TASKS = TASKS
    LANES = LANES
    ACTORS = ACTORS
    BASE = BASE
    ENDS = ENDS
    BUSINESS_KEY = KEY
    NOW = NOW
    ENDED_EMPTY = ()

    def start(self) -> Walk:  # type: ignore[override]
        """As app/services/schedules.py starts an occurrence: platform keys only, no start task."""
        return self.scheduled(occurrence=True, complete_start_task=False)


form_data = Walk.form_data


def reviewed(walk: Walk, **review: Any) -> Walk:
    """The yearly steps 1-4: manual confirmed, risks assessed, ISMS run, reviewed, plan revised."""
    walk.start().do("establish_isms").do("assess_risks").do("operate_isms")
    return walk.do("review_isms", **review).do("revise_risk_plan")


# ---------------------------------------------------------------- the package


def test_package_schedule_lanes_tasks_and_forms(package):
    """A yearly timer start (the platform's schedule), no start task, each task's role and form."""
    assert (package.process_id, package.name) == ("isms_review", "信息安全管理")
    assert package.start_timer == SCHEDULE
    assert package.start_task is None and package.start_messages == ()
    assert package.lanes == {name: role for role, name in LANES.items()}
    assert {k: (v.role, v.form) for k, v in package.user_tasks.items()} == TASKS
    assert set(package.files) == {"isms_review.bpmn"}
    for end in ENDS:
        assert package.element_properties[end]["notifyTo"] == "security_manager,security_operator"


def test_timer_start_is_written_unquoted():
    """The schedule is the ISO 8601 repeating interval as bpmn.io writes it (no quotes)."""
    root = etree.parse(str(PROCESSES / "isms_review.bpmn")).getroot()
    cycles = root.xpath("//bpmn:startEvent/bpmn:timerEventDefinition/bpmn:timeCycle/text()", namespaces=NS)
    assert [c.strip() for c in cycles] == [SCHEDULE]


def test_scheduled_start_waits_on_no_timer_of_its_own(package):
    """The start opens the first step at once; the instance itself waits on no timer."""
    walk = Walk(package).start()
    task = walk.open_task("establish_isms")
    assert task.data["sys_business_key"] == KEY
    assert walk.result.timers == [] and walk.result.subscriptions == []


# ---------------------------------------------------------------- paths


def test_review_without_improvement_ends_after_the_revised_plan(package):
    """Steps 1-4; the review asks for no improvement: the revised plan is still written, then it ends."""
    walk = Walk(package).start()
    walk.do("establish_isms").do("assess_risks")
    assert walk.open_task("operate_isms").data["treatment_plan"] == "启用账户锁定；按月打补丁"
    walk.do("operate_isms").do("review_isms", improvement_needed=False, improvement_scope=None)
    assert walk.open_task("revise_risk_plan").data["review_conclusion"] == "体系有效，口令策略需加强"
    walk.do("revise_risk_plan").ended("end_no_improvement")
    assert "improve_isms" not in walk.result.completed_elements and walk.messages == []


def test_improvement_without_change_verified_at_once(package):
    """Improvement needed, no RFC, verified on the first pass."""
    walk = reviewed(Walk(package))
    assert walk.open_task("implement_improvements").data["revised_treatment_plan"] == "双因素认证"
    walk.do("implement_improvements").do("verify_improvements").ended("end_improved")
    assert "request_change" not in walk.result.completed_elements
    assert walk.passed("implement_improvements") == 1 and walk.messages == []


def test_improvement_raises_an_rfc(package):
    """An improvement that changes CIs sends change_requested, correlated on the review's business key."""
    walk = reviewed(Walk(package)).do("implement_improvements", **RFC)
    [message] = walk.result.messages
    assert message.name == "change_requested"
    assert message.correlation == {"source_key": KEY}
    assert message.payload == {
        "title": RFC["rfc_title"],
        "description": RFC["rfc_description"],
        "reason": RFC["rfc_reason"],
        "affected_cis": ["APP-PORTAL"],
        "source_key": KEY,
        "source_process": "isms_review",
    }
    assert "request_change" in walk.result.completed_elements
    # The review does not wait for the change: change_completed is noted on the record by the platform.
    assert walk.result.subscriptions == []
    walk.do("verify_improvements").ended("end_improved")


def test_failed_verification_runs_another_improvement_pass(package):
    """Not verified: the further actions come back to the implementation step; then verified."""
    walk = reviewed(Walk(package)).do("implement_improvements")
    walk.do("verify_improvements", improvement_verified=False, further_actions="补充短信网关冗余")
    task = walk.open_task("implement_improvements")
    assert task.data["further_actions"] == "补充短信网关冗余"
    walk.do("implement_improvements", **RFC).do("verify_improvements").ended("end_improved")
    assert walk.passed("implement_improvements") == 2 and walk.passed("verify_improvements") == 2
    assert [m.name for m in walk.messages] == ["change_requested"]


# ---------------------------------------------------------------- the loop, 500 times


def run_in_memory(package: Any, snapshot: str, rounds: int, steps) -> tuple[str, int]:
    """Drive ``rounds`` passes of a standard loop inside one restored workflow; return (snapshot, messages).

    Through the public API every command restores and stores the whole snapshot, and a standard loop keeps
    each pass's subprocess in it, so 500 passes cost O(n^2) (~100 s on the 2-core box). Here the engine's own
    restore runs once and each step is SpiffWorkflow's ``task.run`` + ``do_engine_steps`` (what
    ``Engine.complete_task`` does; the loop bodies have no plain tasks for the engine's pass-through), looking
    for the open task in the current pass only. One snapshot at the end goes back to the public API.
    """
    workflow, _, _ = Engine()._restore(package, snapshot)
    thrown = 0
    for index in range(rounds):
        for element_id, data in steps(index):
            current = next(reversed(workflow.subprocesses.values()))
            [task] = current.get_tasks(state=TaskState.READY, manual=True)
            assert task.task_spec.bpmn_id == element_id, (index, task.task_spec.bpmn_id)
            task.data.update(data)
            task.run()
            workflow.do_engine_steps()
            thrown += len(workflow.get_events())
    return snapshots.dump(workflow), thrown


@pytest.mark.slow
def test_improvement_loop_survives_500_passes(package):
    """500 failed verifications (every 50th with an RFC), then verified: no stall, no drift."""
    improve = form_data("isms_review_improve.json", "sec_lead", {})
    with_rfc = form_data("isms_review_improve.json", "sec_lead", RFC)
    failed = form_data(
        "isms_review_verify.json", "sec_lead", {"improvement_verified": False, "further_actions": "继续"}
    )

    def steps(index: int):
        return [
            ("implement_improvements", with_rfc if index % 50 == 0 else improve),
            ("verify_improvements", failed),
        ]

    walk = reviewed(Walk(package))
    walk.do("implement_improvements").do(
        "verify_improvements", improvement_verified=False, further_actions="继续"
    )  # pass 1 through the public API
    snapshot, thrown = run_in_memory(package, walk.result.snapshot, 499, steps)
    assert thrown == 10
    walk._took(Engine().state(package, snapshot))
    walk.do("implement_improvements").do("verify_improvements").ended("end_improved")
    assert walk.passed("verify_improvements") == 501 and walk.passed("implement_improvements") == 501


# ---------------------------------------------------------------- expressions read the forms


def test_conditions_and_payloads_read_only_form_fields():
    """Every name a condition, loop condition or message payload reads is a form field or a sys_ key."""
    known = {"True", "False", "None", "sys_business_key", "sys_started_by", "sys_started_at"}
    for name in TASKS.values():
        known |= set(form(name[1])["schema"]["properties"])
    root = etree.parse(str(PROCESSES / "isms_review.bpmn")).getroot()
    texts = root.xpath(
        "//bpmn:conditionExpression/text() | //bpmn:loopCondition/text()"
        " | //spiffworkflow:messagePayload/text()",
        namespaces=NS,
    )
    assert len(texts) >= 4
    for text in texts:
        names = set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", re.sub(r'"[^"]*"', "", str(text))))
        assert names - {"and", "or", "not", "in"} <= known, f"`{text}` reads {sorted(names - known)}"
