"""The walker for problem.bpmn's path tests: incident_walk.Walk with this process's lanes, tasks, actors and
form data (``ProblemWalk``), and the steps the tests share.

test_problem_paths.py holds the two ways in; test_problem_solution_cycle.py the solution cycle.
"""

from __future__ import annotations

from typing import Any

from tests.engine.incident_walk import Walk

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
    """incident_walk.Walk (a ProcessWalk) for problem.bpmn."""

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
