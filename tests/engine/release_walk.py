"""The walker for release.bpmn's path tests: constants, form data, ``Walk`` (walk.ProcessWalk for this
process), and the loop drivers (through the public API; walk.run_in_memory for the 500-pass tests).

test_release_paths.py holds the paths, test_release_loops.py the repeated loops.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from tests.engine.conformance import lane_role
from tests.engine.walk import (  # noqa: F401 (the path tests import NS, ROOT, form, replies, run_in_memory here)
    NS,
    ROOT,
    ProcessWalk,
    form,
    load_process,
    replies,
    run_in_memory,
)

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


def invalid(name: str, data: dict[str, Any]) -> bool:
    """Whether the form's schema refuses ``data``."""
    return bool(list(Draft202012Validator(form(name)["schema"]).iter_errors(data)))


def load_release():
    """The process, loaded and linted as the platform loads it (its own file, DMNs from processes/)."""
    return load_process(PROCESS, lane_role=lane_role)


class Walk(ProcessWalk):
    """ProcessWalk for release.bpmn: planned by hand or requested by change management."""

    PROCESS_ID = PROCESS
    TASKS = TASKS
    LANES = LANES
    ACTORS = ACTORS
    BASE = BASE
    ENDS = ENDS
    BUSINESS_KEY = BUSINESS_KEY
    NOW = NOW
    START_FORM = "release_plan.json"
    START_ROLE = "release_manager"
    START_TASK = "plan_release"
    START_MESSAGE = START_MESSAGE
    MESSAGE_START = "release_request_received"


form_data = Walk.form_data


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


def short_steps(*elements: str) -> list[tuple[str, dict]]:
    """(element, form data) of a repeated pass, from the smallest valid data."""
    return [(e, form_data(TASKS[e][1], ACTORS[TASKS[e][0]], {}, SHORT)) for e in elements]
