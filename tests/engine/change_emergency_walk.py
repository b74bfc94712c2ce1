"""The walker for change_emergency.bpmn's path tests: constants, form data, ``Walk`` (walk.ProcessWalk for
this process), and the rebuild loop (through the public API; walk.run_in_memory for the 500-pass test).

test_change_emergency_paths.py holds the ways in and their replies, test_change_emergency_build.py the build,
test, back-out loop.
"""

from __future__ import annotations

from typing import Any

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


def load_change_emergency():
    """The process, loaded and linted as the platform loads it (its own file, DMNs from processes/)."""
    return load_process(PROCESS, lane_role=lane_role)


class Walk(ProcessWalk):
    """ProcessWalk for change_emergency.bpmn: started by hand or by emergency_change_requested."""

    PROCESS_ID = PROCESS
    TASKS = TASKS
    LANES = LANES
    ACTORS = ACTORS
    BASE = BASE
    ENDS = ENDS
    BUSINESS_KEY = BUSINESS_KEY
    NOW = NOW
    START_FORM = "change_emergency_request.json"
    START_ROLE = "change_analyst"
    START_TASK = "request_emergency_change"
    START_MESSAGE = START_MESSAGE
    MESSAGE_START = "request_received"


form_data = Walk.form_data


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
