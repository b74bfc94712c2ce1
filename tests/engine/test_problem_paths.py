"""Every path of processes/problem.bpmn, walked task by task through engine/ (no Flask).

The walker is incident_walk.Walk with this process's lanes, tasks, actors and form data: each command
takes the snapshot the previous one returned, and after every command a fresh Engine restores it and must
see the same instance. At every step the test checks which task is open, in which lane and role, with which
form; at the end, which end event was reached and which messages left the instance (name, payload,
correlation).

The two ways in: the start task 提出问题请求 (a proactive problem, by the problem manager) and the message
problem_requested from an incident (the platform starts the instance with the payload as data, then delivers
the message). Only the second is answered with problem_closed.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine import MessageNotAccepted
from tests.engine.incident_walk import (
    NOW,
    FastForward,
    Walk,
    load_process,
)

PROBLEM_KEY = "PRB-2026-000042"
INCIDENT_KEY = "INC-2026-000123"
CHANGE_KEY = "CHG-2026-000009"

LANES = {
    "problem_manager": "问题管理组长 (problem_manager)",
    "problem_analyst": "问题分析员 (problem_analyst)",
    "problem_expert": "问题分析专家 (problem_expert)",
    "service_desk": "服务台 (service_desk)",
}
TASKS = {
    "propose_problem": ("problem_manager", "problem_propose.json"),
    "record_problem": ("problem_manager", "problem_record.json"),
    "classify_problem": ("problem_analyst", "problem_classify.json"),
    "assign_experts": ("problem_manager", "problem_assign.json"),
    "investigate_problem": ("problem_expert", "problem_investigate.json"),
    "evaluate_solution": ("problem_manager", "problem_evaluate.json"),
    "implement_solution": ("problem_expert", "problem_implement.json"),
    "close_problem": ("service_desk", "problem_close.json"),
}
ACTORS = {
    "problem_manager": "pm",
    "problem_analyst": "analyst",
    "problem_expert": "expert1",
    "service_desk": "desk",
}
BASE: dict[str, dict[str, Any]] = {
    "problem_propose.json": {
        "title": "认证服务间歇性失败",
        "description": "近一个月多起登录失败事件，原因未明",
        "affected_cis": ["APP-MAIL-01"],
        "source_process": "proactive",
    },
    "problem_record.json": {
        "title": "认证服务间歇性失败",
        "reporter": "pm",
        "contact": "13800000000",
        "occurred_at": "2026-03-02T08:15:00+08:00",
        "affected_cis": ["APP-MAIL-01"],
        "symptoms": "登录时间歇性返回 500",
        "error_codes": "HTTP 500",
        "impact": "medium",
        "impact_basis": "actual",
        "status": "in_progress",
        "major_business_impact": False,
        "problem_accepted": True,
    },
    "problem_classify.json": {"problem_category": "application", "problem_severity": "high"},
    "problem_assign.json": {"assigned_expert": "expert1", "supporting_experts": "expert2"},
    "problem_investigate.json": {
        "diagnosis": "证书轮换脚本失败",
        "root_cause_found": True,
        "root_cause": "证书轮换脚本未处理中间证书",
        "workaround": "手动更新证书并重启认证服务",
    },
    "problem_evaluate.json": {
        "required_resources": "一名专家半天",
        "solution": "修复证书轮换脚本",
        "needs_change": False,
    },
    "problem_implement.json": {
        "implementation_notes": "脚本已修复并验证",
        "implementation_result": "success",
    },
    "problem_close.json": {
        "closure_confirmed": True,
        "problem_resolution": "证书轮换脚本已修复",
        "closure_code": "resolved",
        "propose_knowledge": False,
    },
}
FROM_INCIDENT = {
    "source_key": INCIDENT_KEY,
    "source_process": "incident",
    "title": "邮件系统无法登录",
    "description": "认证服务间歇性失败",
    "affected_cis": ["APP-MAIL-01"],
    "priority": "P2",
}
CHANGE = {
    "needs_change": True,
    "change_title": "修复证书轮换脚本",
    "change_description": "更新脚本以处理中间证书",
    "change_reason": "消除认证服务间歇性失败的根本原因",
}


class ProblemWalk(Walk):
    """incident_walk.Walk for problem.bpmn."""

    PROCESS_ID = "problem"
    TASKS = TASKS
    LANES = LANES
    ACTORS = ACTORS
    BASE = BASE
    START_FORM = "problem_propose.json"
    START_ROLE = "problem_manager"
    START_TASK = "propose_problem"
    ENDS = ("end_closed", "end_not_accepted")
    BUSINESS_KEY = PROBLEM_KEY


@pytest.fixture(scope="module")
def package():
    """The problem process, loaded once for the module."""
    return load_process("problem")


@pytest.fixture
def replies():
    """Replies to catches inside the loop subprocess (engine/ correlates them with the loop's request)."""


def change_completed(outcome: str, key: str = PROBLEM_KEY) -> dict:
    """The change process's reply (docs/contracts.md)."""
    return {"source_key": key, "change_key": CHANGE_KEY, "outcome": outcome}


def to_solution(walk: ProblemWalk, **investigation: Any) -> ProblemWalk:
    """Recorded, classified, assigned, investigated: solution evaluation is open."""
    walk.do("record_problem").do("classify_problem").do("assign_experts").do(
        "investigate_problem", **investigation
    )
    walk.open_task("evaluate_solution")
    return walk


def passes(walk: Walk, loop: str) -> int:
    """How many passes a standard-loop subprocess made (history: the loop activity, then each pass)."""
    return walk.passed(loop) - 1


# ---------------------------------------------------------------- the package


def test_package_lanes_tasks_and_properties(package):
    """Both ways in, every lane's role, each user task's role and form, the platform properties."""
    assert (package.process_id, package.name) == ("problem", "问题管理")
    assert package.start_task == "propose_problem"
    assert package.start_messages == ("problem_requested",)
    assert package.lanes == {name: role for role, name in LANES.items()}
    assert {k: (v.role, v.form) for k, v in package.user_tasks.items()} == TASKS
    assert set(package.files) == {"problem.bpmn"}
    props = package.element_properties
    assert props["investigate_problem"]["assignee"] == "assigned_expert"
    assert props["implement_solution"]["assignee"] == "assigned_expert"
    assert props["assign_experts"]["notifyTo"] == "user:assigned_expert"
    assert props["record_known_error"]["notifyTo"] == "service_desk"
    for element in ("end_implementation_failed", "end_change_failed", "end_solution_reopened", "end_closed"):
        assert props[element]["notifyTo"] == "problem_manager" and props[element]["notifyText"]
    assert not any("separateFrom" in p for p in props.values())


# ---------------------------------------------------------------- proactive problems


def test_proactive_problem_resolved_by_the_expert(package):
    """By hand: recorded, graded, assigned, root cause found (known error), implemented, closed; no reply."""
    walk = ProblemWalk(package).start()
    task = walk.open_task("record_problem")
    assert task.data["source_process"] == "proactive" and task.data["sys_started_by"] == "pm"
    walk.do("record_problem").do("classify_problem")
    assert walk.open_task("assign_experts").data["problem_severity"] == "high"
    walk.do("assign_experts")
    task = walk.open_task("investigate_problem")
    assert task.data["assigned_expert"] == "expert1"
    walk.do("investigate_problem")
    assert "record_known_error" in walk.result.completed_elements
    for key in ("title", "symptoms", "affected_cis", "root_cause", "workaround"):  # the known error's fields
        assert (
            walk.result.data[key] == {**BASE["problem_record.json"], **BASE["problem_investigate.json"]}[key]
        )
    walk.do("evaluate_solution").do("implement_solution").do("close_problem").ended("end_closed")
    assert walk.sent == []
    assert "notify_incident" not in walk.result.completed_elements
    assert passes(walk, "solution_cycle") == 1


@pytest.mark.parametrize("source", ["trend_analysis", "major_incident_review"])
def test_other_proactive_sources_send_no_reply(package, source):
    """A problem from trend analysis or a major incident review is proactive too: no problem_closed."""
    walk = ProblemWalk(package).start(source_process=source)
    to_solution(walk).do("evaluate_solution").do("implement_solution").do("close_problem").ended("end_closed")
    assert walk.sent == []


def test_proactive_problem_not_accepted(package):
    """The problem manager does not accept it: it ends without a message."""
    walk = (
        ProblemWalk(package).start().do("record_problem", problem_accepted=False, not_accepted_reason="重复")
    )
    walk.ended("end_not_accepted")
    assert walk.sent == [] and "classify_problem" not in walk.result.completed_elements


def test_root_cause_not_found_goes_on_to_evaluation(package):
    """No root cause: no known error; the manager evaluates a solution from the diagnosis so far."""
    walk = to_solution(ProblemWalk(package).start(), root_cause_found=False, root_cause=None, workaround=None)
    assert "record_known_error" not in walk.result.completed_elements
    walk.do("evaluate_solution", solution="增加监控并定期重启").do("implement_solution").do("close_problem")
    walk.ended("end_closed")


# ---------------------------------------------------------------- problems from incidents


def test_from_incident_closed_tells_the_incident(package):
    """problem_requested starts it with the incident's data; closing sends problem_closed to that incident."""
    walk = ProblemWalk(package).start_by_message("problem_requested", FROM_INCIDENT)
    assert walk.result.completed_elements[:2] == ["problem_requested_start", "join_start"]
    task = walk.open_task("record_problem")
    for key, value in FROM_INCIDENT.items():
        assert task.data[key] == value
    assert task.data["sys_started_by"] == "system" and task.data["sys_started_at"] == NOW
    to_solution(walk).do("evaluate_solution").do("implement_solution")
    walk.do("close_problem", problem_resolution="证书轮换脚本已修复，已验证").ended("end_closed")
    [message] = walk.sent
    assert (message.name, message.correlation, message.payload) == (
        "problem_closed",
        {"source_key": INCIDENT_KEY},
        {"source_key": INCIDENT_KEY, "problem_key": PROBLEM_KEY, "resolution": "证书轮换脚本已修复，已验证"},
    )


def test_from_incident_not_accepted_tells_the_incident(package):
    """Not accepted as a problem: the incident is told why, with problem_closed."""
    walk = ProblemWalk(package).start_by_message("problem_requested", FROM_INCIDENT)
    walk.do("record_problem", problem_accepted=False, not_accepted_reason="与 PRB-2026-000001 重复")
    walk.ended("end_not_accepted")
    [message] = walk.sent
    assert (message.name, message.payload) == (
        "problem_closed",
        {
            "source_key": INCIDENT_KEY,
            "problem_key": PROBLEM_KEY,
            "resolution": "未确认为问题：与 PRB-2026-000001 重复",
        },
    )


def test_from_another_process_is_answered_too(package):
    """The service level review asks for a problem as well: it gets problem_closed like an incident."""
    request = {**FROM_INCIDENT, "source_key": "SLR-2026-000003", "source_process": "sla_review"}
    walk = to_solution(ProblemWalk(package).start_by_message("problem_requested", request))
    walk.do("evaluate_solution").do("implement_solution").do("close_problem").ended("end_closed")
    [message] = walk.sent
    assert (message.name, message.payload["source_key"]) == ("problem_closed", "SLR-2026-000003")


def test_knowledge_proposed_at_closure(package):
    """The desk proposes the resolution to the knowledge base: knowledge_submitted after problem_closed."""
    walk = to_solution(ProblemWalk(package).start_by_message("problem_requested", FROM_INCIDENT))
    walk.do("evaluate_solution").do("implement_solution")
    walk.do(
        "close_problem",
        propose_knowledge=True,
        knowledge_category="application",
        knowledge_body="中间证书缺失导致认证失败；修复轮换脚本",
    ).ended("end_closed")
    assert [m.name for m in walk.sent] == ["problem_closed", "knowledge_submitted"]
    knowledge = walk.sent[1]
    assert (knowledge.correlation, knowledge.payload) == (
        {"source_key": PROBLEM_KEY},
        {
            "source_key": PROBLEM_KEY,
            "source_process": "problem",
            "title": "认证服务间歇性失败",
            "body": "中间证书缺失导致认证失败；修复轮换脚本",
            "category": "application",
        },
    )


# ---------------------------------------------------------------- the solution cycle


def waiting_for_change(walk: ProblemWalk) -> ProblemWalk:
    """The manager decides on a change: the RFC goes out and the instance waits for its outcome."""
    to_solution(walk).do("evaluate_solution", **CHANGE)
    [message] = walk.result.messages
    assert (message.name, message.correlation, message.payload) == (
        "change_requested",
        {"source_key": PROBLEM_KEY},
        {
            "source_key": PROBLEM_KEY,
            "source_process": "problem",
            "title": CHANGE["change_title"],
            "description": CHANGE["change_description"],
            "reason": CHANGE["change_reason"],
            "affected_cis": ["APP-MAIL-01"],
        },
    )
    return walk.waits_for("wait_change", "change_completed", {"source_key": PROBLEM_KEY})


def test_change_succeeds_then_the_desk_closes(package, replies):
    """Solved by a change: after change_completed (success) the service desk confirms and closes."""
    walk = waiting_for_change(ProblemWalk(package).start_by_message("problem_requested", FROM_INCIDENT))
    walk.deliver("change_completed", change_completed("success"))
    assert walk.open_task("close_problem").data["change_result"] == change_completed("success")
    walk.do("close_problem").ended("end_closed")
    assert "implement_solution" not in walk.result.completed_elements
    assert [m.name for m in walk.sent] == ["change_requested", "problem_closed"]


@pytest.mark.parametrize("outcome", ["failed", "rejected"])
def test_change_failed_or_rejected_goes_back_to_evaluation(package, replies, outcome):
    """A failed or rejected change: back to solution evaluation, which then chooses the expert's fix."""
    walk = waiting_for_change(ProblemWalk(package).start())
    walk.deliver("change_completed", change_completed(outcome))
    assert "end_change_failed" in walk.result.completed_elements
    task = walk.open_task("evaluate_solution")
    assert task.data["change_result"]["outcome"] == outcome
    walk.do("evaluate_solution", solution="先由专家临时修复").do("implement_solution").do("close_problem")
    walk.ended("end_closed")
    assert passes(walk, "solution_cycle") == 2


def test_reply_of_another_record_is_refused(package, replies):
    """change_completed correlates on source_key: a reply meant for another record does not reach this one."""
    walk = waiting_for_change(ProblemWalk(package).start())
    with pytest.raises(MessageNotAccepted, match="does not correlate"):
        walk.deliver("change_completed", change_completed("success", key=INCIDENT_KEY))


def test_implementation_failed_goes_back_to_evaluation(package):
    """The expert's implementation does not work: back to solution evaluation."""
    walk = to_solution(ProblemWalk(package).start()).do("evaluate_solution")
    walk.do("implement_solution", implementation_result="failed", implementation_notes="重启后仍失败")
    assert "end_implementation_failed" in walk.result.completed_elements
    assert walk.open_task("evaluate_solution").data["implementation_notes"] == "重启后仍失败"
    walk.do("evaluate_solution").do("implement_solution").do("close_problem").ended("end_closed")
    assert walk.passed("implement_solution") == 2


def test_desk_cannot_confirm_goes_back_to_evaluation(package):
    """The service desk cannot confirm the problem is resolved: back to solution evaluation."""
    walk = to_solution(ProblemWalk(package).start()).do("evaluate_solution").do("implement_solution")
    walk.do(
        "close_problem",
        closure_confirmed=False,
        closure_feedback="同类事件仍在发生",
        problem_resolution=None,
        closure_code=None,
    )
    assert "end_solution_reopened" in walk.result.completed_elements
    assert walk.open_task("evaluate_solution").data["closure_feedback"] == "同类事件仍在发生"
    walk.do("evaluate_solution").do("implement_solution").do("close_problem").ended("end_closed")
    assert walk.passed("close_problem") == 2


@pytest.mark.slow
def test_solution_cycle_500_times(package, replies):
    """Evaluation, implementation, closure repeat 500 times (failed changes, failed fixes, not confirmed)."""
    walk = to_solution(ProblemWalk(package).start_by_message("problem_requested", FROM_INCIDENT))

    evaluate = walk.form_data("problem_evaluate.json", "pm", {})
    change = walk.form_data("problem_evaluate.json", "pm", CHANGE)
    failed = walk.form_data("problem_implement.json", "expert1", {"implementation_result": "failed"})
    done = walk.form_data("problem_implement.json", "expert1", {})
    not_confirmed = walk.form_data(
        "problem_close.json",
        "desk",
        {
            "closure_confirmed": False,
            "closure_feedback": "仍有事件",
            "problem_resolution": None,
            "closure_code": None,
        },
    )
    with FastForward(package, walk.result.snapshot) as forward:
        for n in range(500):
            if n % 3 == 0:
                forward.do("evaluate_solution", change)
                forward.deliver("change_completed", change_completed("failed" if n % 2 else "rejected"))
            elif n % 3 == 1:
                forward.do("evaluate_solution", evaluate)
                forward.do("implement_solution", failed)
            else:
                forward.do("evaluate_solution", evaluate)
                forward.do("implement_solution", done)
                forward.do("close_problem", not_confirmed)
    assert forward.open_tasks() == ["evaluate_solution"]
    assert [t.element_id for t in forward.state().open_tasks] == ["evaluate_solution"]
    forward.do("evaluate_solution", evaluate)
    forward.do("implement_solution", done)
    forward.do("close_problem", walk.form_data("problem_close.json", "desk", {}))
    state = forward.state()
    assert state.status == "completed"
    assert state.completed_elements.count("evaluate_solution") == 501
    assert state.completed_elements.count("end_change_failed") == 167
    assert forward.sent == ["change_requested"] * 167 + ["problem_closed"]
